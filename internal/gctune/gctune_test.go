package gctune

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		floor, live, roots uint64
		base, want         int
	}{
		{0, 10 * mb, 0, 100, 100},           // off
		{64 * mb, 8 * mb, 0, -1, -1},        // GOGC=off stays off
		{64 * mb, 8 * mb, 0, 100, 700},      // 8 + 8 x 7 = 64 MB
		{64 * mb, 8 * mb, 8 * mb, 100, 350}, // stacks count: 8 + 16 x 3.5 = 64 MB
		{64 * mb, 32 * mb, 0, 100, 100},     // 32 + 32 reaches the floor
		{64 * mb, 40 * mb, 0, 100, 100},     // beyond it: plain GOGC
		{64 * mb, 16 * mb, 0, 200, 300},     // 16 + 32 = 48 MB < 64 MB
		{64 * mb, 0, 0, 100, 6400},          // nothing measured yet: 1 MB assumed for the scan
	} {
		if got := Percent(c.floor, c.live, c.roots, c.base); got != c.want {
			t.Errorf("Percent(%d MB, %d MB, %d MB, %d) = %d, want %d", c.floor/mb, c.live/mb, c.roots/mb, c.base, got, c.want)
		}
	}
}

// TestSetHeapFloor: the floor raises GOGC while the heap is small, keeps
// doing so after collections, and 0 restores the original GOGC.
func TestSetHeapFloor(t *testing.T) {
	orig := debug.SetGCPercent(100)
	defer debug.SetGCPercent(orig)
	SetHeapFloor(1 << 30)
	if p := gcPercent(); p <= 100 {
		t.Fatalf("GOGC = %d with a 1 GiB floor, want > 100", p)
	}
	// Only the finalizer, which runs after a collection, raises GOGC again
	// once it is set back to 100: wait for it (the deadline is a failure
	// bound; the finalizer goroutine may be slow to run on a busy machine).
	debug.SetGCPercent(100)
	for deadline := time.Now().Add(30 * time.Second); gcPercent() <= 100; {
		if time.Now().After(deadline) {
			t.Fatalf("GOGC = %d after collections, want > 100", gcPercent())
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	SetHeapFloor(0)
	if p := gcPercent(); p != 100 {
		t.Fatalf("GOGC = %d after SetHeapFloor(0), want 100", p)
	}
}

// gcPercent reads GOGC without setting it (the finalizer may run at any
// time and must not have its value overwritten).
func gcPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}
