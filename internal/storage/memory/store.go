package memory

import (
	"maps"
	"slices"
	"sync"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/storage"
)

var _ broker.Store = (*Store)(nil)

// Store is an in-memory broker.Store. It is safe for concurrent use.
type Store struct {
	mu       sync.Mutex
	sessions map[string]*session
	retained map[string]uint64 // topic → message ID
	messages map[uint64]*stored
	loaded   map[uint64]*broker.Message // copies handed out since the last Commit
	closed   bool
}

// session is what the store holds for one client id. hasRec is false while
// only subscriptions, queue entries or incoming ids were put for the client:
// Load, like the durable store, skips such a client.
type session struct {
	rec      broker.SessionRecord
	hasRec   bool
	subs     map[string]broker.SubscriptionRecord
	queue    map[uint64]broker.QueueEntry // Msg points at the stored copy
	incoming map[uint16]struct{}
}

// stored is a message and the number of queue entries and retained topics
// referencing it.
type stored struct {
	msg  *broker.Message
	refs int
}

// New returns an empty store.
func New() *Store {
	return &Store{
		sessions: make(map[string]*session),
		retained: make(map[string]uint64),
		messages: make(map[uint64]*stored),
	}
}

// Commit implements broker.Store: ops are deep-copied and applied atomically
// under the store's mutex, then done is called before Commit returns.
func (s *Store) Commit(ops []broker.StoreOp, durable bool, done func(error)) {
	err := storage.Validate(ops)
	if err == nil {
		err = s.apply(ops)
	}
	if done != nil {
		done(err)
	}
}

func (s *Store) apply(ops []broker.StoreOp) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return storage.ErrClosed
	}
	s.loaded = nil
	for i := range ops {
		s.applyOp(&ops[i])
	}
	return nil
}

func (s *Store) applyOp(op *broker.StoreOp) {
	switch op.Kind {
	case broker.OpPutSession:
		c := s.client(op.Session.ClientID)
		c.rec, c.hasRec = cloneSession(op.Session), true
	case broker.OpDeleteSession:
		s.deleteSession(op.ClientID)
	case broker.OpPutSub:
		s.client(op.ClientID).subs[op.Sub.Filter] = *op.Sub
	case broker.OpDeleteSub:
		s.withClient(op.ClientID, func(c *session) { delete(c.subs, op.Filter) })
	case broker.OpPutQueue:
		s.putQueue(op.ClientID, op.Entry)
	case broker.OpDeleteQueue:
		s.withClient(op.ClientID, func(c *session) { s.deleteQueue(c, op.Seq) })
	case broker.OpPutIncoming:
		s.client(op.ClientID).incoming[op.PacketID] = struct{}{}
	case broker.OpDeleteIncoming:
		s.withClient(op.ClientID, func(c *session) { delete(c.incoming, op.PacketID) })
	case broker.OpPutRetained:
		s.putRetained(op.Msg)
	case broker.OpDeleteRetained:
		s.deleteRetained(op.Topic)
	}
}

// client returns the session of id, creating it.
func (s *Store) client(id string) *session {
	c := s.sessions[id]
	if c == nil {
		c = &session{
			subs:     make(map[string]broker.SubscriptionRecord),
			queue:    make(map[uint64]broker.QueueEntry),
			incoming: make(map[uint16]struct{}),
		}
		s.sessions[id] = c
	}
	return c
}

// withClient calls fn with the session of id if there is one.
func (s *Store) withClient(id string, fn func(*session)) {
	if c := s.sessions[id]; c != nil {
		fn(c)
	}
}

// deleteSession drops the session and the references its queue held;
// retained messages are not session state and stay.
func (s *Store) deleteSession(id string) {
	c := s.sessions[id]
	if c == nil {
		return
	}
	for _, e := range c.queue {
		s.unref(e.Msg.ID)
	}
	delete(s.sessions, id)
}

// ref returns the stored copy of m, storing a copy with its first reference.
func (s *Store) ref(m *broker.Message) *broker.Message {
	st := s.messages[m.ID]
	if st == nil {
		st = &stored{msg: cloneMessage(m)}
		s.messages[m.ID] = st
	}
	st.refs++
	return st.msg
}

// unref drops a reference to message id, deleting it with its last one.
func (s *Store) unref(id uint64) {
	st := s.messages[id]
	if st == nil {
		return
	}
	if st.refs--; st.refs <= 0 {
		delete(s.messages, id)
	}
}

func (s *Store) putQueue(id string, e *broker.QueueEntry) {
	c := s.client(id)
	entry := *e
	entry.Msg = s.ref(e.Msg)
	entry.SubIDs = slices.Clone(e.SubIDs)
	s.deleteQueue(c, e.Seq)
	c.queue[e.Seq] = entry
}

func (s *Store) deleteQueue(c *session, seq uint64) {
	if old, ok := c.queue[seq]; ok {
		s.unref(old.Msg.ID)
		delete(c.queue, seq)
	}
}

// putRetained replaces the retained message of m.Topic [MQTT-3.3.1-5].
func (s *Store) putRetained(m *broker.Message) {
	s.ref(m)
	s.deleteRetained(m.Topic)
	s.retained[m.Topic] = m.ID
}

func (s *Store) deleteRetained(topic string) {
	if old, ok := s.retained[topic]; ok {
		s.unref(old)
		delete(s.retained, topic)
	}
}

// LoadSessions calls fn with a fresh copy of every session that has a
// session record, ordered by client id, with its subscriptions (by filter),
// queue (by Seq) and incoming ids (ascending). It copies them all under the
// mutex first, so fn may call Commit.
func (s *Store) LoadSessions(fn func(*broker.LoadedSession) error) error {
	for _, ls := range s.snapshotSessions() {
		if err := fn(ls); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) snapshotSessions() []*broker.LoadedSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*broker.LoadedSession
	for _, id := range slices.Sorted(maps.Keys(s.sessions)) {
		if c := s.sessions[id]; c.hasRec {
			out = append(out, s.loadSession(c))
		}
	}
	return out
}

func (s *Store) loadSession(c *session) *broker.LoadedSession {
	ls := &broker.LoadedSession{Session: cloneSession(&c.rec)}
	for _, f := range slices.Sorted(maps.Keys(c.subs)) {
		ls.Subs = append(ls.Subs, c.subs[f])
	}
	for _, seq := range slices.Sorted(maps.Keys(c.queue)) {
		e := c.queue[seq]
		e.Msg = s.loadMessage(e.Msg)
		e.SubIDs = slices.Clone(e.SubIDs)
		ls.Queue = append(ls.Queue, e)
	}
	ls.Incoming = slices.Sorted(maps.Keys(c.incoming))
	return ls
}

// loadMessage returns the copy of m handed out since the last Commit.
func (s *Store) loadMessage(m *broker.Message) *broker.Message {
	if s.loaded == nil {
		s.loaded = make(map[uint64]*broker.Message)
	}
	c := s.loaded[m.ID]
	if c == nil {
		c = cloneMessage(m)
		s.loaded[m.ID] = c
	}
	return c
}

// LoadRetained calls fn with a fresh copy of every retained message, ordered
// by topic. Like LoadSessions it copies first, so fn may call Commit.
func (s *Store) LoadRetained(fn func(*broker.Message) error) error {
	for _, m := range s.snapshotRetained() {
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) snapshotRetained() []*broker.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*broker.Message
	for _, t := range slices.Sorted(maps.Keys(s.retained)) {
		out = append(out, s.loadMessage(s.messages[s.retained[t]].msg))
	}
	return out
}

// StoredMessages counts the messages held (for the conformance suite).
func (s *Store) StoredMessages() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.messages), nil
}

// Close makes later Commits fail with storage.ErrClosed. It is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
