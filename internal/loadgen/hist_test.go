package loadgen

import "testing"

func TestLoadgenHistBuckets(t *testing.T) {
	for v := uint64(0); v < 1<<20; v += 1 + v/97 {
		i := bucketIndex(v)
		if up := bucketUpper(i); up < v {
			t.Fatalf("bucketUpper(bucketIndex(%d)=%d) = %d < v", v, i, up)
		}
		if i > 0 && bucketUpper(i-1) >= v {
			t.Fatalf("v=%d also fits bucket %d (upper %d)", v, i-1, bucketUpper(i-1))
		}
		if up := bucketUpper(i); float64(up-v) > float64(v)/subBuckets+1 {
			t.Fatalf("v=%d: bucket upper %d is more than 1/%d above", v, up, subBuckets)
		}
	}
}

func TestLoadgenHistExactSmallValues(t *testing.T) {
	var h histogram
	for v := uint64(1); v <= 50; v++ {
		h.record(v)
	}
	s := h.summary()
	// rank floor(q*n), 0-based, of 1..50
	want := Latency{N: 50, P50: 26, P90: 46, P99: 50, P999: 50, Max: 50}
	if s != want {
		t.Fatalf("summary = %+v, want %+v", s, want)
	}
}

func TestLoadgenHistUniform(t *testing.T) {
	var h histogram
	for v := uint64(1); v <= 100000; v++ {
		h.record(v)
	}
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := q * 100000
		got := float64(h.quantile(q))
		if got < exact || got > exact*(1+1.0/subBuckets)+1 {
			t.Fatalf("quantile(%g) = %g, want within 1/%d above %g", q, got, subBuckets, exact)
		}
	}
	if h.max != 100000 || h.quantile(1) != 100000 {
		t.Fatalf("max = %d, quantile(1) = %d", h.max, h.quantile(1))
	}
}

func TestLoadgenHistCappedAtMax(t *testing.T) {
	var h histogram
	h.record(1000)
	if s := h.summary(); s.P50 != 1000 || s.P999 != 1000 || s.Max != 1000 {
		t.Fatalf("single value: %+v", s)
	}
	h.record(1 << 62) // beyond the last bucket: clamped there, max kept exact
	if h.max != 1<<62 || h.quantile(0.99) != 1<<62 {
		t.Fatalf("huge value: max %d, p99 %d", h.max, h.quantile(0.99))
	}
}

func TestLoadgenHistMergeAndEmpty(t *testing.T) {
	var a, b, empty histogram
	if s := empty.summary(); s != (Latency{}) {
		t.Fatalf("empty summary = %+v", s)
	}
	for v := uint64(1); v <= 10; v++ {
		a.record(v)
		b.record(v + 10)
	}
	a.merge(&b)
	a.merge(&empty)
	if s := a.summary(); s.N != 20 || s.P50 != 11 || s.Max != 20 {
		t.Fatalf("merged summary = %+v", s)
	}
}
