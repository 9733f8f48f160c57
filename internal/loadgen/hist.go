package loadgen

import "math/bits"

// The latency histogram is log-linear: values below subBuckets are exact,
// above that every power of two is split into subBuckets linear buckets, so
// a reported percentile is at most 1/subBuckets (1.6 %) above the true value.
// Recording is an index computation and an increment: it sits on the receive
// hot path, which is why it is not a library.
const (
	subBits     = 6
	subBuckets  = 1 << subBits
	histBuckets = subBuckets * 40 // up to 2^45 µs
)

// histogram counts microsecond values. Not safe for concurrent use: each
// receiver owns one and they are merged at the end.
type histogram struct {
	counts [histBuckets]uint64
	n      uint64
	max    uint64
}

// Latency is the percentile summary written as lat_us.
type Latency struct {
	N    uint64 `json:"n"`
	P50  uint64 `json:"p50"`
	P90  uint64 `json:"p90"`
	P99  uint64 `json:"p99"`
	P999 uint64 `json:"p999"`
	Max  uint64 `json:"max"`
}

// bucketIndex returns the bucket v falls into.
func bucketIndex(v uint64) int {
	if v < subBuckets {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1 // v>>shift is in [subBuckets, 2*subBuckets)
	return shift*subBuckets + int(v>>shift)
}

// bucketUpper returns the largest value in bucket i.
func bucketUpper(i int) uint64 {
	if i < subBuckets {
		return uint64(i)
	}
	shift := i/subBuckets - 1
	mant := uint64(i%subBuckets + subBuckets)
	return (mant+1)<<shift - 1
}

func (h *histogram) record(v uint64) {
	i := min(bucketIndex(v), histBuckets-1)
	h.counts[i]++
	h.n++
	h.max = max(h.max, v)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the upper bound of the bucket holding the value of rank
// floor(q*n) (0-based), capped at the largest value recorded.
func (h *histogram) quantile(q float64) uint64 {
	if h.n == 0 {
		return 0
	}
	rank := min(uint64(q*float64(h.n)), h.n-1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen > rank && i == histBuckets-1 {
			return h.max // the last bucket also holds every larger value
		}
		if seen > rank {
			return min(bucketUpper(i), h.max)
		}
	}
	return h.max
}

// summary returns the percentiles reported in lat_us.
func (h *histogram) summary() Latency {
	return Latency{
		N: h.n, P50: h.quantile(0.50), P90: h.quantile(0.90),
		P99: h.quantile(0.99), P999: h.quantile(0.999), Max: h.max,
	}
}
