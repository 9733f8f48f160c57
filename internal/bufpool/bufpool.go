// Package bufpool provides tiered pools of byte buffers for the hot path.
// Buffers travel as *[]byte so putting one back does not allocate.
package bufpool

import (
	"math/bits"
	"sync"
)

const (
	minShift = 9  // 512 B
	maxShift = 24 // 16 MiB; larger buffers are not pooled
)

var tiers [maxShift - minShift + 1]sync.Pool

func tier(size int) int {
	if size <= 1<<minShift {
		return 0
	}
	return bits.Len(uint(size-1)) - minShift
}

// Get returns a buffer with len == size and a capacity rounded up to a power
// of two. Its contents are undefined.
func Get(size int) *[]byte {
	t := tier(size)
	if t >= len(tiers) {
		b := make([]byte, size)
		return &b
	}
	if v := tiers[t].Get(); v != nil {
		bp := v.(*[]byte)
		*bp = (*bp)[:size]
		return bp
	}
	b := make([]byte, size, 1<<(t+minShift))
	return &b
}

// Put returns a buffer obtained from Get. The caller must not use it again.
func Put(bp *[]byte) {
	c := cap(*bp)
	if c < 1<<minShift || c&(c-1) != 0 {
		return
	}
	t := tier(c)
	if t < len(tiers) {
		tiers[t].Put(bp)
	}
}
