package broker

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// session is the state of one client id: subscriptions, the outbound QoS 1/2
// window and queue, inbound QoS 2 packet ids and the pending will. It outlives
// its connections when it is persistent (session expiry > 0).
//
// Lock order: Broker.idLock(clientID) > session.mu > filterSubs.mu.
// session.mu also guards the outbound state of the attached client (see client).
// The management snapshots (manage.go) take session.mu alone, one session at a
// time, never under a shard lock of the session table (sessionTable.each
// releases it before calling back); SubscribeFor and UnsubscribeFor take the
// id lock first, as a connect does.
type session struct {
	id string
	b  *Broker

	mu         sync.Mutex
	conn       *client     // attached connection, nil while offline
	attached   atomic.Bool // conn != nil, readable without the lock (shared-group picks)
	version    byte
	username   string
	mount      string // mountpoint of the listener the client last connected through
	expiry     uint32 // Session Expiry Interval, seconds; NeverExpire = never
	created    int64
	discAt     int64 // unix ns of the last disconnect, 0 while connected
	will       *Will // pending will of the current (or last) connection
	subs       map[string]*SubscriptionRecord
	inflight   inflight
	queue      ring[*QueueEntry]
	queuedQoS0 int
	nextSeq    uint64
	incoming   map[uint16]int64 // inbound QoS 2 ids awaiting PUBREL -> arrival unix ns
	gen        uint64           // bumped on every attach and discard; timers compare it
	closed     bool             // discarded: refuses deliveries
	stored     bool             // a record exists in the store
	expTimer   *time.Timer
	willTimer  *time.Timer
	stallWait  chan struct{} // closed when the queue drains below half the stall mark
	ackedAt    int64         // unix ns of the last completed delivery (or attach): is the consumer progressing?

	// The management view of the current or last connection (set at
	// attach, kept after detach; zero for a session restored from the
	// store that has not been connected since).
	peer       netip.AddrPort
	listener   string
	connAt     int64 // unix ns of the last attach
	keepalive  uint16
	cleanStart bool
	qdropped   uint64          // messages dropped from the queue because it was full
	lastCtr    *ClientCounters // the last connection's counters, set at detach
}

// sessionTable maps client ids to sessions, sharded to keep lookups from
// contending.
type sessionTable struct {
	seed   maphash.Seed
	shards [64]sessionShard
}

type sessionShard struct {
	mu sync.RWMutex
	m  map[string]*session
	_  [40]byte
}

func newSessionTable() *sessionTable {
	t := &sessionTable{seed: maphash.MakeSeed()}
	for i := range t.shards {
		t.shards[i].m = make(map[string]*session)
	}
	return t
}

func (t *sessionTable) shard(id string) *sessionShard {
	return &t.shards[maphash.String(t.seed, id)%uint64(len(t.shards))]
}

func (t *sessionTable) get(id string) *session {
	sh := t.shard(id)
	sh.mu.RLock()
	s := sh.m[id]
	sh.mu.RUnlock()
	return s
}

func (t *sessionTable) put(s *session) {
	sh := t.shard(s.id)
	sh.mu.Lock()
	sh.m[s.id] = s
	sh.mu.Unlock()
}

// remove deletes id if it still maps to s.
func (t *sessionTable) remove(s *session) {
	sh := t.shard(s.id)
	sh.mu.Lock()
	if sh.m[s.id] == s {
		delete(sh.m, s.id)
	}
	sh.mu.Unlock()
}

// each calls fn for every session; fn must not call back into the table.
func (t *sessionTable) each(fn func(s *session) bool) {
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.RLock()
		list := make([]*session, 0, len(sh.m))
		for _, s := range sh.m {
			list = append(list, s)
		}
		sh.mu.RUnlock()
		for _, s := range list {
			if !fn(s) {
				return
			}
		}
	}
}

// idLocks serialises connects, disconnects and expiry of one client id.
type idLocks struct {
	seed  maphash.Seed
	locks [256]struct {
		sync.Mutex
		_ [56]byte
	}
}

func (l *idLocks) lock(id string) *sync.Mutex {
	m := &l.locks[maphash.String(l.seed, id)%uint64(len(l.locks))].Mutex
	m.Lock()
	return m
}
