package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/storage"
)

func testOrderWithinCommit(t *testing.T, h *harness) {
	h.commit(putSession(session("old")), putSub("old", sub("gone", 0)))
	fresh := session("old")
	fresh.Username = "fresh"
	h.commit(
		putSub("c", sub("f", 0)), putSub("c", sub("f", 2)), // last put wins
		putQueue("c", entry(1, message(1, "t"))), deleteQueue("c", 1), // put then delete: absent
		deleteIncoming("c", 5), putIncoming("c", 5), // delete then put: present
		putRetained(message(2, "r")), deleteRetained("r"),
		putSession(session("c")),
		deleteSession("old"), putSession(fresh), // the delete cleared the old subscription
	)
	h.verify(func(t *testing.T, s *snapshot) {
		s.wantSessions(t, "c", "old")
		ls := s.session(t, "c")
		wantSubs(t, ls, sub("f", 2))
		wantQueue(t, ls)
		wantIncoming(t, ls, 5)
		if len(s.retained) != 0 {
			t.Fatalf("retained put then deleted in one commit is loaded")
		}
		old := s.session(t, "old")
		if old.Session.Username != "fresh" || len(old.Subs) != 0 {
			t.Fatalf("session deleted and put again: %+v", old)
		}
	})
	h.wantMessages(0)
}

// fire commits without waiting and returns a channel that receives done's
// result.
func fire(h *harness, durable bool, ops ...broker.StoreOp) <-chan error {
	ch := make(chan error, 2)
	h.st.Commit(ops, durable, func(err error) { ch <- err })
	return ch
}

func testOrderAcrossCommits(t *testing.T, h *harness) {
	const n = 50
	h.commit(putSession(session("c")))
	var dones []<-chan error
	for i := range n {
		s := sub("f", byte(i%3))
		s.ID = uint32(i)
		dones = append(dones, fire(h, i%2 == 0, putSub("c", s), putQueue("c", entry(uint64(i%4), message(uint64(i), "t")))))
	}
	for _, ch := range dones {
		if err := wait(t, ch); err != nil {
			t.Fatalf("Commit: %v", err)
		}
	}
	last := sub("f", (n-1)%3)
	last.ID = n - 1
	h.verify(func(t *testing.T, s *snapshot) {
		ls := s.session(t, "c")
		wantSubs(t, ls, last)
		wantQueue(t, ls, entry(0, message(48, "t")), entry(1, message(49, "t")), entry(2, message(46, "t")), entry(3, message(47, "t")))
	})
	h.wantMessages(4)
}

func testAtomicity(t *testing.T, h *harness) {
	for _, bad := range []broker.StoreOp{
		{Kind: broker.OpPutQueue, ClientID: "c"},
		{Kind: broker.OpPutQueue, ClientID: "c", Entry: &broker.QueueEntry{Seq: 1}},
		{Kind: broker.OpPutSession},
		{Kind: broker.OpPutSession, Session: &broker.SessionRecord{ClientID: "c", Will: &broker.Will{}}},
		{Kind: broker.OpPutSub, ClientID: "c"},
		{Kind: broker.OpPutRetained},
		{Kind: 0},
		{Kind: 99},
	} {
		err := h.commitErr(true, putSession(session("c")), putRetained(message(1, "r")), bad)
		if !errors.Is(err, storage.ErrInvalidOp) {
			t.Fatalf("Commit with invalid op %+v: err = %v, want ErrInvalidOp", bad, err)
		}
	}
	h.verify(func(t *testing.T, s *snapshot) {
		if len(s.sessions)+len(s.retained) != 0 {
			t.Fatalf("a rejected commit applied some ops: %d sessions, %d retained", len(s.sessions), len(s.retained))
		}
	})
	h.wantMessages(0)
	h.commit(putSession(session("c"))) // the store still works
}

// mutateMessage changes every field of m in place, including the bytes its
// slices point at.
func mutateMessage(m *broker.Message) {
	m.Topic, m.QoS, m.Retain, m.Created, m.Expiry, m.From, m.Node = "mutated", 0, !m.Retain, 1, 2, "x", "y"
	for _, b := range [][]byte{m.Payload, m.Props.ContentType, m.Props.CorrelationData, m.Props.User[0].Key, m.Props.User[0].Value} {
		for i := range b {
			b[i] = '!'
		}
	}
	m.Props.User[1] = m.Props.User[2]
	m.Props.User = append(m.Props.User, m.Props.User[0])
	m.Props.PayloadFormat = 0
}

func testDeepCopy(t *testing.T, h *harness) {
	sess, s1 := sessionWithWill("c", 9), sub("f", 1)
	e, r := entry(1, message(1, "q")), message(2, "r")
	ch := fire(h, true, putSession(sess), putSub("c", s1), putQueue("c", e), putRetained(r))
	// Commit has returned: the store must not see these mutations, even
	// before done.
	sess.Username, sess.ExpiryInterval, sess.Will.Delay = "mutated", 1, 1
	mutateMessage(sess.Will.Msg)
	s1.QoS, s1.NoLocal, s1.ID = 0, false, 1
	e.SubIDs[0], e.PacketID, e.State = 99, 5, broker.StatePublish
	mutateMessage(e.Msg)
	mutateMessage(r)
	if err := wait(t, ch); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	h.verify(func(t *testing.T, s *snapshot) {
		ls := s.session(t, "c")
		if d := diffSession(&ls.Session, sessionWithWill("c", 9)); d != "" {
			t.Fatalf("%s", d)
		}
		wantSubs(t, ls, sub("f", 1))
		wantQueue(t, ls, entry(1, message(1, "q")))
		s.wantRetained(t, message(2, "r"))
	})
}

func testSharedMessage(t *testing.T, h *harness) {
	m := message(7, "shared")
	h.commit(putSession(session("c1")), putSession(session("c2")),
		putQueue("c1", entry(1, m)), putQueue("c1", entry(2, m)), putQueue("c2", entry(1, m)),
		putQueue("c2", entry(2, message(8, "other"))), putRetained(m))
	h.wantMessages(2)
	h.verify(func(t *testing.T, s *snapshot) {
		c1, c2 := s.session(t, "c1"), s.session(t, "c2")
		p := s.retained["shared"]
		for _, e := range []broker.QueueEntry{c1.Queue[0], c1.Queue[1], c2.Queue[0]} {
			if e.Msg != p {
				t.Fatalf("entries and retained index sharing message 7 loaded as different *Message")
			}
		}
		if c2.Queue[1].Msg == p {
			t.Fatalf("message 8 loaded as message 7")
		}
		if d := diffMessage(p, m); d != "" {
			t.Fatalf("%s", d)
		}
	})
}

func testRefCount(t *testing.T, h *harness) {
	m1, m2, m3 := message(1, "r"), message(2, "q"), message(3, "q")
	h.commit(putSession(session("c")), putQueue("c", entry(1, m1)), putQueue("c", entry(2, m1)), putRetained(m1))
	h.wantMessages(1)
	h.commit(putQueue("c", entry(3, m2)))
	h.wantMessages(2)
	h.commit(putQueue("c", entry(3, m3))) // replacing the entry drops m2
	h.wantMessages(2)
	h.commit(putQueue("c", entry(3, m3))) // same message again: no change
	h.wantMessages(2)
	h.commit(deleteQueue("c", 1))
	h.wantMessages(2)
	h.commit(deleteQueue("c", 2), deleteQueue("c", 2))
	h.wantMessages(2) // m1 still retained
	h.commit(deleteRetained("r"))
	h.wantMessages(1)
	h.commit(deleteSession("c"))
	h.wantMessages(0)
	h.verify(func(t *testing.T, s *snapshot) {
		if len(s.sessions)+len(s.retained) != 0 {
			t.Fatalf("store not empty: %d sessions, %d retained", len(s.sessions), len(s.retained))
		}
	})
	h.wantMessages(0)
}

func testDoneOnce(t *testing.T, h *harness) {
	const n = 40
	var calls [n]atomic.Int32
	for i := range n {
		ops := []broker.StoreOp{putSub("c", sub(fmt.Sprint(i), 0))}
		if i%5 == 4 {
			ops = append(ops, broker.StoreOp{Kind: 99}) // rejected: still one done
		}
		h.st.Commit(ops, i%2 == 0, func(error) { calls[i].Add(1) })
	}
	h.st.Commit([]broker.StoreOp{putSession(session("c"))}, true, nil) // nil done is allowed
	if err := h.st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	h.st.Commit([]broker.StoreOp{putSession(session("d"))}, true, func(error) { calls[0].Add(100) })
	// Close has flushed every pending commit and the one after it failed
	// synchronously or from the committer: wait for the latter.
	pollUntil(t, func() bool { return calls[0].Load() >= 100 })
	for i := range n {
		want := int32(1)
		if i == 0 {
			want = 101
		}
		if got := calls[i].Load(); got != want {
			t.Fatalf("done of commit %d called %d times", i, got)
		}
	}
}

func testCommitAfterClose(t *testing.T, h *harness) {
	if err := h.st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := h.st.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := h.commitErr(true, putSession(session("c"))); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("Commit after Close: err = %v, want ErrClosed", err)
	}
}

func testCloseFlushes(t *testing.T, h *harness) {
	const n = 100
	var ok atomic.Int32
	h.commit(putSession(session("c")))
	for i := range n {
		h.st.Commit([]broker.StoreOp{putIncoming("c", uint16(i))}, i%3 == 0, func(err error) {
			if err == nil {
				ok.Add(1)
			}
		})
	}
	if err := h.st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := ok.Load(); got != n {
		t.Fatalf("%d of %d pending commits succeeded before Close returned", got, n)
	}
	if !h.persistent() {
		return
	}
	h.st = h.open(t, h.dir)
	if got := len(h.load().session(t, "c").Incoming); got != n {
		t.Fatalf("after reopen: %d incoming ids, want %d", got, n)
	}
}

func testConcurrent(t *testing.T, h *harness) {
	const clients, perClient = 16, 40
	var wg sync.WaitGroup
	errs := make(chan error, clients*perClient)
	for c := range clients {
		wg.Go(func() { commitMany(h.st, fmt.Sprint("client-", c), perClient, errs) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Commit: %v", err)
	}
	h.wantMessages(perClient) // every client queued the same messages
	h.verify(func(t *testing.T, s *snapshot) {
		if len(s.sessions) != clients {
			t.Fatalf("loaded %d sessions, want %d", len(s.sessions), clients)
		}
		for _, ls := range s.sessions {
			if len(ls.Queue) != perClient {
				t.Fatalf("%q: %d entries, want %d", ls.Session.ClientID, len(ls.Queue), perClient)
			}
		}
	})
	errs = make(chan error, clients)
	for c := range clients {
		wg.Go(func() { h.st.Commit([]broker.StoreOp{deleteSession(fmt.Sprint("client-", c))}, true, collect(errs)) })
	}
	wg.Wait()
	h.commit() // an empty commit: its done comes after the deletions are applied
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent DeleteSession: %v", err)
	}
	h.wantMessages(0)
}

// commitMany commits a session and n queue entries for client, waiting for
// each done, and sends failures to errs.
func commitMany(st broker.Store, client string, n int, errs chan<- error) {
	ch := make(chan error, 1)
	st.Commit([]broker.StoreOp{putSession(session(client))}, true, func(err error) { ch <- err })
	for i := range n {
		if err := <-ch; err != nil {
			errs <- err
		}
		e := entry(uint64(i), message(uint64(i), "t"))
		st.Commit([]broker.StoreOp{putQueue(client, e)}, i%2 == 0, func(err error) { ch <- err })
	}
	if err := <-ch; err != nil {
		errs <- err
	}
}

// collect returns a done that reports failures to errs without blocking.
func collect(errs chan<- error) func(error) {
	return func(err error) {
		if err != nil {
			select {
			case errs <- err:
			default:
			}
		}
	}
}

func testLoadError(t *testing.T, h *harness) {
	errStop := errors.New("stop")
	h.commit(putSession(session("a")), putSession(session("b")), putRetained(message(1, "x")), putRetained(message(2, "y")))
	calls := 0
	err := h.st.LoadSessions(func(*broker.LoadedSession) error { calls++; return errStop })
	if !errors.Is(err, errStop) || calls != 1 {
		t.Fatalf("LoadSessions: err = %v after %d calls, want errStop after 1", err, calls)
	}
	calls = 0
	err = h.st.LoadRetained(func(*broker.Message) error { calls++; return errStop })
	if !errors.Is(err, errStop) || calls != 1 {
		t.Fatalf("LoadRetained: err = %v after %d calls, want errStop after 1", err, calls)
	}
}
