package bufpool

import "testing"

func TestBufpoolGetPut(t *testing.T) {
	for _, n := range []int{0, 1, 511, 512, 513, 4096, 65536, 1 << 20, 1<<24 + 1} {
		bp := Get(n)
		if len(*bp) != n || cap(*bp) < n {
			t.Fatalf("Get(%d): len %d cap %d", n, len(*bp), cap(*bp))
		}
		Put(bp)
	}
}

func TestBufpoolNoAllocs(t *testing.T) {
	Put(Get(65536))
	allocs := testing.AllocsPerRun(1000, func() { Put(Get(65536)) })
	if allocs != 0 {
		t.Fatalf("allocs per Get/Put = %v, want 0", allocs)
	}
}
