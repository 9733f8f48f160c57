package storetest

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/herald-mqtt/herald/internal/broker"
)

// model is the reference semantics of a store, for random op sequences.
// It keeps pointers to the fixture objects, which nothing mutates.
type model struct {
	sessions map[string]*modelSession
	retained map[string]*broker.Message
}

type modelSession struct {
	rec      *broker.SessionRecord // nil until put
	subs     map[string]*broker.SubscriptionRecord
	queue    map[uint64]*broker.QueueEntry
	incoming map[uint16]bool
}

func newModel() *model {
	return &model{sessions: map[string]*modelSession{}, retained: map[string]*broker.Message{}}
}

func (m *model) client(id string) *modelSession {
	c := m.sessions[id]
	if c == nil {
		c = &modelSession{subs: map[string]*broker.SubscriptionRecord{}, queue: map[uint64]*broker.QueueEntry{}, incoming: map[uint16]bool{}}
		m.sessions[id] = c
	}
	return c
}

func (m *model) apply(op broker.StoreOp) {
	switch op.Kind {
	case broker.OpPutSession:
		m.client(op.Session.ClientID).rec = op.Session
	case broker.OpDeleteSession:
		delete(m.sessions, op.ClientID)
	case broker.OpPutSub:
		m.client(op.ClientID).subs[op.Sub.Filter] = op.Sub
	case broker.OpDeleteSub:
		delete(m.client(op.ClientID).subs, op.Filter)
	case broker.OpPutQueue:
		m.client(op.ClientID).queue[op.Entry.Seq] = op.Entry
	case broker.OpDeleteQueue:
		delete(m.client(op.ClientID).queue, op.Seq)
	case broker.OpPutIncoming:
		m.client(op.ClientID).incoming[op.PacketID] = true
	case broker.OpDeleteIncoming:
		delete(m.client(op.ClientID).incoming, op.PacketID)
	case broker.OpPutRetained:
		m.retained[op.Msg.Topic] = op.Msg
	case broker.OpDeleteRetained:
		delete(m.retained, op.Topic)
	}
}

// messages counts the distinct messages referenced.
func (m *model) messages() int {
	ids := map[uint64]bool{}
	for _, c := range m.sessions {
		for _, e := range c.queue {
			ids[e.Msg.ID] = true
		}
	}
	for _, r := range m.retained {
		ids[r.ID] = true
	}
	return len(ids)
}

// check compares a snapshot with the model.
func (m *model) check(t *testing.T, s *snapshot) {
	t.Helper()
	var clients []string
	for id, c := range m.sessions {
		if c.rec != nil {
			clients = append(clients, id)
			m.checkSession(t, s.session(t, id), c)
		}
	}
	s.wantSessions(t, clients...)
	if len(s.retained) != len(m.retained) {
		t.Fatalf("loaded %d retained messages, want %d", len(s.retained), len(m.retained))
	}
	for _, r := range m.retained {
		s.wantRetained(t, r)
	}
}

func (m *model) checkSession(t *testing.T, ls *broker.LoadedSession, c *modelSession) {
	t.Helper()
	if d := diffSession(&ls.Session, c.rec); d != "" {
		t.Fatalf("%s", d)
	}
	var subs []*broker.SubscriptionRecord
	for _, s := range c.subs {
		subs = append(subs, s)
	}
	wantSubs(t, ls, subs...)
	var queue []*broker.QueueEntry
	for _, seq := range slices.Sorted(maps.Keys(c.queue)) {
		queue = append(queue, c.queue[seq])
	}
	wantQueue(t, ls, queue...)
	wantIncoming(t, ls, slices.Collect(maps.Keys(c.incoming))...)
}

// randomOp draws an op over small key spaces so that ops collide often.
func randomOp(r *rand.Rand) broker.StoreOp {
	client := []string{"a", "ab", "b"}[r.IntN(3)]
	msg := func() *broker.Message { id := r.Uint64N(6); return message(id, fmt.Sprint("t/", id%3)) }
	switch r.IntN(10) {
	case 0:
		if r.IntN(2) == 0 {
			return putSession(sessionWithWill(client, r.Uint64N(3)))
		}
		return putSession(session(client))
	case 1:
		return deleteSession(client)
	case 2:
		return putSub(client, sub([]string{"x", "y/#", "$share/g/z"}[r.IntN(3)], byte(r.IntN(3))))
	case 3:
		return deleteSub(client, []string{"x", "y/#", "$share/g/z"}[r.IntN(3)])
	case 4, 5:
		e := entry(r.Uint64N(8), msg())
		e.PacketID, e.State = uint16(r.IntN(3)), byte(r.IntN(3))
		return putQueue(client, e)
	case 6:
		return deleteQueue(client, r.Uint64N(8))
	case 7:
		if r.IntN(2) == 0 {
			return putIncoming(client, uint16(r.IntN(4)))
		}
		return deleteIncoming(client, uint16(r.IntN(4)))
	case 8:
		return putRetained(msg())
	default:
		return deleteRetained(fmt.Sprint("t/", r.IntN(3)))
	}
}

// randomCommits fires n random ops in commits of 1 to 5 ops without waiting,
// applying them to m, then waits for every done.
func randomCommits(h *harness, m *model, r *rand.Rand, n int) {
	h.t.Helper()
	var dones []<-chan error
	for n > 0 {
		var ops []broker.StoreOp
		for k := 1 + r.IntN(5); k > 0 && n > 0; k, n = k-1, n-1 {
			op := randomOp(r)
			ops = append(ops, op)
			m.apply(op)
		}
		dones = append(dones, fire(h, r.IntN(2) == 0, ops...))
	}
	for _, ch := range dones {
		if err := wait(h.t, ch); err != nil {
			h.t.Fatalf("Commit: %v", err)
		}
	}
}

func testRandomOps(t *testing.T, h *harness) {
	r := rand.New(rand.NewPCG(1, 2))
	m := newModel()
	for round := range 3 {
		randomCommits(h, m, r, 300)
		h.verify(m.check) // for a persistent store: the next round runs on a reopened store
		h.wantMessages(m.messages())
		if t.Failed() {
			t.Fatalf("round %d failed", round)
		}
	}
}
