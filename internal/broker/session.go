package broker

import (
	"hash/maphash"
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
}

// Backpressure: a publisher whose message queues behind the full inflight
// window of an online subscriber with at least stallMark queued messages
// stops reading (for at most stallMax at a time) until that queue is below
// half the mark, so TCP slows the publisher to the consumer's pace instead
// of the broker queueing without bound. Only a consumer that is making
// progress (completed a delivery within stallProgress) slows publishers: a
// stuck one gets the queue bound and its drop policy instead.
const (
	stallHigh     = 1000
	stallMax      = 20 * time.Millisecond
	stallProgress = int64(200 * time.Millisecond)
)

// stallMark is the queue length from which publishers wait: stallHigh, or
// half of mqtt.max_mqueue_len when that is smaller, so backpressure starts
// before the queue limit drops anything. They resume at half the mark.
func (b *Broker) stallMark() int {
	if l := b.cfg.MaxMqueueLen; l > 0 && l/2 < stallHigh {
		return max(l/2, 1)
	}
	return stallHigh
}

// releaseStalled wakes publishers waiting for s's queue to drain. Lock held.
func (s *session) releaseStalled(force bool) {
	if s.stallWait != nil && (force || s.queue.Len() < s.b.stallMark()/2+1) {
		close(s.stallWait)
		s.stallWait = nil
	}
}

// waitDrained blocks until s's queue is short again, s goes offline, or
// stallMax passes.
func (s *session) waitDrained() {
	s.mu.Lock()
	if s.conn == nil || s.queue.Len() < s.b.stallMark()/2+1 {
		s.mu.Unlock()
		return
	}
	if s.stallWait == nil {
		s.stallWait = make(chan struct{})
	}
	ch := s.stallWait
	s.mu.Unlock()
	t := time.NewTimer(stallMax)
	select {
	case <-ch:
	case <-t.C:
	}
	t.Stop()
}

func newSession(b *Broker, id string) *session {
	return &session{id: id, b: b, created: time.Now().UnixNano(), nextSeq: 1}
}

// persistent reports whether the session outlives its connection.
// Lock held on entry.
func (s *session) persistent() bool { return s.expiry > 0 }

// durable reports whether the session's state goes to the store.
// Lock held on entry.
func (s *session) durable() bool { return s.expiry > 0 && s.b.store != nil }

// record returns the session's store record. Lock held on entry.
func (s *session) record() *SessionRecord {
	return &SessionRecord{
		ClientID: s.id, Username: s.username, ProtocolVersion: s.version,
		ExpiryInterval: s.expiry, CreatedAt: s.created, DisconnectedAt: s.discAt, Will: s.will,
	}
}

// stopTimers cancels the expiry and will timers. Lock held on entry.
func (s *session) stopTimers() {
	if s.expTimer != nil {
		s.expTimer.Stop()
		s.expTimer = nil
	}
	if s.willTimer != nil {
		s.willTimer.Stop()
		s.willTimer = nil
	}
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
