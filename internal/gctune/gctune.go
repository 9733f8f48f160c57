// Package gctune owns the process's garbage-collector pacing: a heap floor
// below which the collector does not run.
//
// Go's default pacing (GOGC=100) starts a cycle each time the heap doubles,
// so a broker that starts small and then takes 10k connections runs five or
// six cycles that each scan a heap of long-lived session state and find
// almost no garbage: about a tenth of the broker's CPU in a connect storm.
// With a floor, the pacer's goal is never below the floor: while the live
// heap is small the collector waits until the heap reaches the floor, and
// once the live heap is large GOGC applies as usual. It is the "GC tuner"
// of large Go services (a heap floor set through debug.SetGCPercent after
// each cycle); the memory it costs is bounded by the floor.
package gctune

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

var (
	mu    sync.Mutex
	floor uint64 // bytes; 0 = off
	base  int    // the GOGC in force before the first SetHeapFloor
	armed bool   // a sentinel's finalizer re-tunes after each cycle
	read  = []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"}}
)

// SetHeapFloor sets the heap size (bytes) below which the collector does
// not run; 0 restores the plain GOGC pacing. With GOGC=off it does nothing.
func SetHeapFloor(bytes uint64) {
	mu.Lock()
	defer mu.Unlock()
	if !armed && floor == 0 {
		base = debug.SetGCPercent(100)
		debug.SetGCPercent(base)
	}
	floor = bytes
	tuneLocked()
	if floor > 0 && !armed && base > 0 {
		armed = true
		arm(new(sentinel))
	}
}

// sentinel is an object nothing references: it becomes garbage in every
// cycle, and its finalizer, re-armed each time, runs after every cycle.
type sentinel struct{ _ [16]byte }

func arm(s *sentinel) { runtime.SetFinalizer(s, retune) }

func retune(s *sentinel) {
	mu.Lock()
	defer mu.Unlock()
	tuneLocked()
	if floor == 0 || base <= 0 {
		armed = false
		return
	}
	arm(s)
}

// tuneLocked sets GOGC so that the next heap goal is the larger of the
// floor and what base gives.
func tuneLocked() {
	if base <= 0 {
		return
	}
	live, roots := heapState()
	debug.SetGCPercent(Percent(floor, live, roots, base))
}

// heapState reads the live heap and the other GC roots the pacer scales
// with GOGC (goroutine stacks and globals).
func heapState() (live, roots uint64) {
	metrics.Read(read)
	v := make([]uint64, len(read))
	for i, s := range read {
		if s.Value.Kind() == metrics.KindUint64 {
			v[i] = s.Value.Uint64()
		}
	}
	return v[0], v[1] + v[2]
}

// Percent is the GOGC that puts the next heap goal at the floor when base
// would put it below. The pacer's goal is live + (live+roots) x GOGC/100,
// where roots are the goroutine stacks and globals it scans.
func Percent(floor, live, roots uint64, base int) int {
	if floor == 0 || base <= 0 {
		return base
	}
	scan := max(live+roots, 1<<20)
	if live+scan*uint64(base)/100 >= floor {
		return base
	}
	return int(min((floor-live)*100/scan, 1<<20))
}
