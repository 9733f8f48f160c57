package auth

import (
	"hash/maphash"
	"math/bits"
	"sync/atomic"

	"github.com/herald-mqtt/herald/internal/broker"
)

// resultCache is a fixed-size, direct-mapped table of authorization results.
// Each slot holds an immutable entry behind an atomic pointer: readers never
// lock, a miss replaces the slot, and concurrent writers to one slot simply
// race to leave one correct entry.
type resultCache struct {
	seed  maphash.Seed
	mask  uint64
	slots []atomic.Pointer[cacheEntry]
}

// cacheEntry is one cached decision, valid only for its rule generation.
type cacheEntry struct {
	client *broker.ClientInfo // identity; kept alive by the entry
	topic  string             // a private copy
	gen    uint64
	action broker.Action
	qos    byte
	retain bool
	allow  bool
	at     int64 // unix ns when the decision was made (for the management API)
}

// newResultCache returns a cache of at least size slots (0: default), or nil
// when size is negative.
func newResultCache(size int) *resultCache {
	if size < 0 {
		return nil
	}
	if size == 0 {
		size = DefaultACLCacheSize
	}
	n := 1 << bits.Len(uint(size-1)) // next power of two
	return &resultCache{seed: maphash.MakeSeed(), mask: uint64(n - 1), slots: make([]atomic.Pointer[cacheEntry], n)}
}

// slot picks the slot of a key. The client enters the hash by its ID, so a
// reconnecting client's new ClientInfo lands on (and replaces) its old entries.
func (rc *resultCache) slot(c *broker.ClientInfo, action broker.Action, topic string, qos byte, retain bool) *atomic.Pointer[cacheEntry] {
	h := maphash.String(rc.seed, topic) ^ bits.RotateLeft64(maphash.String(rc.seed, c.ClientID), 29)
	h ^= uint64(action)<<3 | uint64(qos)<<1
	if retain {
		h ^= 1
	}
	return &rc.slots[h&rc.mask]
}

func (e *cacheEntry) is(gen uint64, c *broker.ClientInfo, action broker.Action, topic string, qos byte, retain bool) bool {
	return e.gen == gen && e.client == c && e.action == action && e.qos == qos && e.retain == retain && e.topic == topic
}

// forClient calls fn for every entry of a client id (by ClientInfo.ClientID)
// cached under generation gen. The cache is one table for all clients, so
// this scans every slot: meant for the management API, not a hot path.
func (rc *resultCache) forClient(clientID string, gen uint64, fn func(e *cacheEntry)) {
	for i := range rc.slots {
		if e := rc.slots[i].Load(); e != nil && e.gen == gen && e.client.ClientID == clientID {
			fn(e)
		}
	}
}

// clearClient empties the slots holding entries of a client id (a slot
// refilled meanwhile by another key is left alone).
func (rc *resultCache) clearClient(clientID string) {
	for i := range rc.slots {
		if e := rc.slots[i].Load(); e != nil && e.client.ClientID == clientID {
			rc.slots[i].CompareAndSwap(e, nil)
		}
	}
}
