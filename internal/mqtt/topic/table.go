package topic

import (
	"hash/maphash"
	"math/bits"
	"sync/atomic"
)

// smallMax is the largest table searched by a linear scan instead of by hash:
// most trie nodes have a handful of literal children, and comparing a few
// strings is cheaper than hashing the level.
const smallMax = 8

// table holds a node's literal children. Its slot array never changes size:
// the writer fills and empties slots atomically and, to grow or shrink,
// builds a new table and publishes it with one atomic store on the node.
// Readers that still hold the old table see a consistent (older) child set
// because the child nodes themselves are shared, not copied.
//
// Tables of up to smallMax slots are scanned linearly; a removed child leaves
// a nil slot. Larger tables are open-addressing hash tables with linear
// probing; a removed child leaves the trie's tombstone so that probe chains
// stay intact for readers, and tombstones are dropped at the next rebuild.
type table[T any] struct {
	slots []atomic.Pointer[node[T]] // len is a power of two
	live  int                       // children present (writer only)
	used  int                       // children plus tombstones (writer only)
}

// hashed reports whether the table is probed by hash rather than scanned.
func (tb *table[T]) hashed() bool {
	return len(tb.slots) > smallMax
}

// home is the first slot to probe for key in a hashed table.
func (tb *table[T]) home(seed maphash.Seed, key string) int {
	return int(maphash.String(seed, key) & uint64(len(tb.slots)-1))
}

// find returns the live child with the given level, or nil. Lock-free.
func (tb *table[T]) find(seed maphash.Seed, tomb *node[T], key string) *node[T] {
	if !tb.hashed() {
		for i := range tb.slots {
			if c := tb.slots[i].Load(); c != nil && c.level == key {
				return c
			}
		}
		return nil
	}
	mask := len(tb.slots) - 1
	for i := tb.home(seed, key); ; i = (i + 1) & mask {
		c := tb.slots[i].Load()
		if c == nil {
			return nil // a hashed table always keeps free slots
		}
		if c.level == key && c != tomb {
			return c
		}
	}
}

// index returns the slot holding the live child key, or -1. Writer only.
func (tb *table[T]) index(seed maphash.Seed, tomb *node[T], key string) int {
	if !tb.hashed() {
		for i := range tb.slots {
			if c := tb.slots[i].Load(); c != nil && c.level == key {
				return i
			}
		}
		return -1
	}
	mask := len(tb.slots) - 1
	for i := tb.home(seed, key); ; i = (i + 1) & mask {
		c := tb.slots[i].Load()
		if c == nil {
			return -1
		}
		if c.level == key && c != tomb {
			return i
		}
	}
}

// freeSlot returns the slot where a child not yet present may be put, or -1
// when the table must grow first. Writer only.
func (tb *table[T]) freeSlot(seed maphash.Seed, tomb *node[T], key string) int {
	if !tb.hashed() {
		for i := range tb.slots {
			if tb.slots[i].Load() == nil {
				return i
			}
		}
		return -1
	}
	if (tb.used+1)*2 > len(tb.slots) {
		return -1 // keep the load (children and tombstones) at most 1/2
	}
	mask := len(tb.slots) - 1
	for i := tb.home(seed, key); ; i = (i + 1) & mask {
		if c := tb.slots[i].Load(); c == nil || c == tomb {
			return i
		}
	}
}

// put stores c in slot i found by freeSlot. Writer only.
func (tb *table[T]) put(i int, c, tomb *node[T]) {
	if prev := tb.slots[i].Load(); prev == nil {
		tb.used++
	} else if prev != tomb {
		panic("topic: table slot in use")
	}
	tb.live++
	tb.slots[i].Store(c)
}

// remove empties slot i. Writer only.
func (tb *table[T]) remove(i int, tomb *node[T]) {
	tb.live--
	if tb.hashed() {
		tb.slots[i].Store(tomb)
		return
	}
	tb.used--
	tb.slots[i].Store(nil)
}

// sizeFor is the slot count of a table built to hold n children: small
// tables are packed, hashed ones start at load 1/2 or less.
func sizeFor(n int) int {
	if n <= smallMax {
		return 1 << bits.Len(uint(max(n, 1)-1))
	}
	return 1 << bits.Len(uint(2*n-1))
}

// rebuild returns a new table of size slots holding tb's live children.
func (tb *table[T]) rebuild(seed maphash.Seed, tomb *node[T], size int) *table[T] {
	nt := newTable[T](size)
	if tb == nil {
		return nt
	}
	for i := range tb.slots {
		if c := tb.slots[i].Load(); c != nil && c != tomb {
			nt.put(nt.freeSlot(seed, tomb, c.level), c, tomb)
		}
	}
	return nt
}

// shrinkable reports whether a hashed table has become sparse enough (1/8)
// to be rebuilt smaller after a removal.
func (tb *table[T]) shrinkable() bool {
	return tb.hashed() && tb.live*8 < len(tb.slots)
}

// newTable returns an empty table of size slots. Small tables are allocated
// together with their slot array: one allocation no larger than the two it
// replaces, and one cache miss less per lookup.
func newTable[T any](size int) *table[T] {
	switch size {
	case 1:
		x := new(struct {
			table[T]
			arr [1]atomic.Pointer[node[T]]
		})
		x.slots = x.arr[:]
		return &x.table
	case 2:
		x := new(struct {
			table[T]
			arr [2]atomic.Pointer[node[T]]
		})
		x.slots = x.arr[:]
		return &x.table
	case 4:
		x := new(struct {
			table[T]
			arr [4]atomic.Pointer[node[T]]
		})
		x.slots = x.arr[:]
		return &x.table
	}
	return &table[T]{slots: make([]atomic.Pointer[node[T]], size)}
}
