package storetest

import (
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/broker"
)

// doneTimeout bounds the wait for a done callback.
const doneTimeout = 30 * time.Second // a failure bound (fsyncs wait on a shared disk)

// Opener opens the store kept in dir (a fresh t.TempDir the first time, the
// same dir again on reopen). The suite closes what it opens.
type Opener func(t *testing.T, dir string) broker.Store

// harness is one store under test, reopenable when persistent.
type harness struct {
	t    *testing.T
	open Opener
	dir  string
	st   broker.Store
}

func newHarness(t *testing.T, open Opener) *harness {
	t.Helper()
	h := &harness{t: t, open: open, dir: t.TempDir()}
	h.st = open(t, h.dir)
	t.Cleanup(func() { _ = h.st.Close() })
	return h
}

// persistent reports whether the store keeps its data across a reopen.
func (h *harness) persistent() bool {
	p, ok := h.st.(Persistent)
	return ok && p.Persistent()
}

// reopen closes the store and opens it again on the same dir.
func (h *harness) reopen() {
	h.t.Helper()
	if err := h.st.Close(); err != nil {
		h.t.Fatalf("Close: %v", err)
	}
	h.st = h.open(h.t, h.dir)
}

// commitErr commits ops and returns what done reports.
func (h *harness) commitErr(durable bool, ops ...broker.StoreOp) error {
	h.t.Helper()
	ch := make(chan error, 2)
	h.st.Commit(ops, durable, func(err error) { ch <- err })
	return wait(h.t, ch)
}

// commit commits ops and fails the test unless done reports success.
func (h *harness) commit(ops ...broker.StoreOp) {
	h.t.Helper()
	if err := h.commitErr(true, ops...); err != nil {
		h.t.Fatalf("Commit: %v", err)
	}
}

// wait returns the first value sent on ch, failing after doneTimeout.
func wait(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(doneTimeout):
		t.Fatalf("done not called within %v", doneTimeout)
		return nil
	}
}

// storedMessages returns the number of stored messages, or -1 when the
// store cannot tell.
func (h *harness) storedMessages() int {
	h.t.Helper()
	c, ok := h.st.(MessageCounter)
	if !ok {
		return -1
	}
	n, err := c.StoredMessages()
	if err != nil {
		h.t.Fatalf("StoredMessages: %v", err)
	}
	return n
}

// wantMessages checks the number of stored messages when the store can
// count them.
func (h *harness) wantMessages(want int) {
	h.t.Helper()
	if n := h.storedMessages(); n >= 0 && n != want {
		h.t.Fatalf("stored messages = %d, want %d", n, want)
	}
}

// snapshot is everything Load returned.
type snapshot struct {
	sessions map[string]*broker.LoadedSession
	retained map[string]*broker.Message
}

// load reads the whole store.
func (h *harness) load() *snapshot {
	h.t.Helper()
	s := &snapshot{sessions: map[string]*broker.LoadedSession{}, retained: map[string]*broker.Message{}}
	err := h.st.LoadSessions(func(ls *broker.LoadedSession) error {
		if _, dup := s.sessions[ls.Session.ClientID]; dup {
			h.t.Errorf("session %q loaded twice", ls.Session.ClientID)
		}
		s.sessions[ls.Session.ClientID] = ls
		return nil
	})
	if err != nil {
		h.t.Fatalf("LoadSessions: %v", err)
	}
	err = h.st.LoadRetained(func(m *broker.Message) error {
		s.retained[m.Topic] = m
		return nil
	})
	if err != nil {
		h.t.Fatalf("LoadRetained: %v", err)
	}
	return s
}

// verify runs check on what the store loads now and, for a persistent
// store, again after a reopen.
func (h *harness) verify(check func(t *testing.T, s *snapshot)) {
	h.t.Helper()
	check(h.t, h.load())
	if h.persistent() {
		h.reopen()
		check(h.t, h.load())
	}
}

// session returns the loaded session of client, failing if absent.
func (s *snapshot) session(t *testing.T, client string) *broker.LoadedSession {
	t.Helper()
	ls := s.sessions[client]
	if ls == nil {
		t.Fatalf("session %q not loaded (have %d sessions)", client, len(s.sessions))
	}
	return ls
}

// wantSessions checks the set of loaded client ids.
func (s *snapshot) wantSessions(t *testing.T, clients ...string) {
	t.Helper()
	if len(s.sessions) != len(clients) {
		t.Fatalf("loaded %d sessions, want %d (%q)", len(s.sessions), len(clients), clients)
	}
	for _, c := range clients {
		s.session(t, c)
	}
}

// wantQueue checks a session's queue, in order.
func wantQueue(t *testing.T, ls *broker.LoadedSession, want ...*broker.QueueEntry) {
	t.Helper()
	if len(ls.Queue) != len(want) {
		t.Fatalf("%q: %d queue entries, want %d", ls.Session.ClientID, len(ls.Queue), len(want))
	}
	for i := range want {
		if d := diffEntry(&ls.Queue[i], want[i]); d != "" {
			t.Fatalf("%q: queue[%d]: %s", ls.Session.ClientID, i, d)
		}
	}
}

// wantSubs checks a session's subscriptions, in any order.
func wantSubs(t *testing.T, ls *broker.LoadedSession, want ...*broker.SubscriptionRecord) {
	t.Helper()
	if len(ls.Subs) != len(want) {
		t.Fatalf("%q: %d subscriptions, want %d: %+v", ls.Session.ClientID, len(ls.Subs), len(want), ls.Subs)
	}
	got := map[string]broker.SubscriptionRecord{}
	for _, s := range ls.Subs {
		got[s.Filter] = s
	}
	for _, w := range want {
		if g, ok := got[w.Filter]; !ok || g != *w {
			t.Fatalf("%q: subscription %+v, want %+v", ls.Session.ClientID, g, *w)
		}
	}
}

// wantRetained checks the retained message of a topic.
func (s *snapshot) wantRetained(t *testing.T, want *broker.Message) {
	t.Helper()
	if d := diffMessage(s.retained[want.Topic], want); d != "" {
		t.Fatalf("retained %q: %s", want.Topic, d)
	}
}

// pollUntil polls cond until it holds, failing after doneTimeout.
func pollUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(doneTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", doneTimeout)
		}
		time.Sleep(time.Millisecond)
	}
}
