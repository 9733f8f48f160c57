package pebble

import (
	"errors"
	"testing"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/storage"
)

// commit commits ops durably and fails the test on error.
func commit(t *testing.T, s *Store, ops ...broker.StoreOp) {
	t.Helper()
	ch := make(chan error, 1)
	s.Commit(ops, true, func(err error) { ch <- err })
	if err := <-ch; err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// rawSet writes a key directly, bypassing the encoding.
func rawSet(t *testing.T, s *Store, k, v []byte) {
	t.Helper()
	if err := s.db.Set(k, v, pebbledb.Sync); err != nil {
		t.Fatalf("Set: %v", err)
	}
}

// loadAll loads everything, failing on error.
func loadAll(t *testing.T, s *Store) (map[string]*broker.LoadedSession, map[string]*broker.Message) {
	t.Helper()
	sessions, retained := map[string]*broker.LoadedSession{}, map[string]*broker.Message{}
	if err := s.LoadSessions(func(ls *broker.LoadedSession) error { sessions[ls.Session.ClientID] = ls; return nil }); err != nil {
		t.Fatalf("LoadSessions: %v", err)
	}
	if err := s.LoadRetained(func(m *broker.Message) error { retained[m.Topic] = m; return nil }); err != nil {
		t.Fatalf("LoadRetained: %v", err)
	}
	return sessions, retained
}

func msg(id uint64, topic string) *broker.Message {
	return &broker.Message{ID: id, Topic: topic, Payload: []byte("p"), QoS: 1}
}

// TestPebbleLoadSkipsBadRecords damages records of every kind and checks
// that Load skips and counts exactly those, loading the rest.
func TestPebbleLoadSkipsBadRecords(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	commit(t, s,
		broker.StoreOp{Kind: broker.OpPutSession, Session: &broker.SessionRecord{ClientID: "good"}},
		broker.StoreOp{Kind: broker.OpPutSub, ClientID: "good", Sub: &broker.SubscriptionRecord{Filter: "ok"}},
		broker.StoreOp{Kind: broker.OpPutQueue, ClientID: "good", Entry: &broker.QueueEntry{Seq: 1, Msg: msg(1, "t")}},
		broker.StoreOp{Kind: broker.OpPutQueue, ClientID: "good", Entry: &broker.QueueEntry{Seq: 5, Msg: msg(5, "t")}},
		broker.StoreOp{Kind: broker.OpPutIncoming, ClientID: "good", PacketID: 1},
		broker.StoreOp{Kind: broker.OpPutSession, Session: &broker.SessionRecord{ClientID: "badrec"}},
		broker.StoreOp{Kind: broker.OpPutSub, ClientID: "badrec", Sub: &broker.SubscriptionRecord{Filter: "lost"}},
		broker.StoreOp{Kind: broker.OpPutRetained, Msg: msg(1, "t")},
		broker.StoreOp{Kind: broker.OpPutRetained, Msg: msg(6, "r2")},
	)
	e := &encoder{}
	rawSet(t, s, sessionKey(nil, "badrec"), []byte{9, 1, 2})                                     // unknown version: 2 skipped (record + its sub)
	rawSet(t, s, subKey(nil, "good", "trunc"), subValue(e, &broker.SubscriptionRecord{})[:3])    // truncated
	rawSet(t, s, queueKey(nil, "good", 2), queueValue(e, &broker.QueueEntry{Msg: msg(99, "t")})) // dangling
	rawSet(t, s, incomingKey(nil, "good", 2), []byte{1, 0})                                      // trailing byte
	rawSet(t, s, []byte{'c', 0x04, 'g'}, []byte{1})                                              // truncated key
	rawSet(t, s, append(clientPrefix(nil, "good"), 7), []byte{1})                                // unknown kind
	rawSet(t, s, messageKey(nil, 5), []byte{1, 1})                                               // corrupt message: entry 5 skipped
	rawSet(t, s, retainedKey(nil, "r3"), idValue(e, 77))                                         // dangling retained
	rawSet(t, s, retainedKey(nil, "r4"), []byte{})                                               // empty value
	before := s.Stats().Skipped
	sessions, retained := loadAll(t, s)
	if got := s.Stats().Skipped - before; got != 10 {
		t.Fatalf("skipped %d records, want 10", got)
	}
	g := sessions["good"]
	if len(sessions) != 1 || g == nil || len(g.Subs) != 1 || len(g.Queue) != 1 || g.Queue[0].Seq != 1 || len(g.Incoming) != 1 {
		t.Fatalf("loaded %d sessions, good = %+v", len(sessions), g)
	}
	if len(retained) != 2 || retained["t"] != g.Queue[0].Msg {
		t.Fatalf("retained %v: want t (sharing message 1 with the queue) and r2", retained)
	}
}

func TestPebbleOpenErrors(t *testing.T) {
	dir := t.TempDir()
	for _, opts := range []Options{{Durability: 7}, {SyncInterval: -1}} {
		if _, err := Open(dir, opts); !errors.Is(err, ErrOpen) {
			t.Fatalf("Open with %+v: err = %v, want ErrOpen", opts, err)
		}
	}
	s := openStore(t, dir, Options{})
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrOpen) { // locked by s
		t.Fatalf("second Open of a locked dir: err = %v, want ErrOpen", err)
	}
	_ = s.Close()
}

// TestPebbleSyncGroups checks Stats: a durable commit in Sync mode fsyncs
// before done; a non-durable one does not.
func TestPebbleSyncGroups(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{SyncInterval: 1 << 40})
	commit(t, s, broker.StoreOp{Kind: broker.OpPutIncoming, ClientID: "c", PacketID: 1})
	if st := s.Stats(); st.Commits != 1 || st.Groups != 1 || st.Syncs != 1 {
		t.Fatalf("after one durable commit: %+v", st)
	}
	ch := make(chan error, 1)
	s.Commit([]broker.StoreOp{{Kind: broker.OpPutIncoming, ClientID: "c", PacketID: 2}}, false, func(err error) { ch <- err })
	if err := <-ch; err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if st := s.Stats(); st.Groups != 2 || st.Syncs != 1 {
		t.Fatalf("after a non-durable commit: %+v", st)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if st := s.Stats(); st.Syncs != 2 {
		t.Fatalf("Close did not fsync the non-durable commit: %+v", st)
	}
}

// TestPebbleAsyncPeriodicSync checks that Async mode answers without fsync
// and fsyncs in the background.
func TestPebbleAsyncPeriodicSync(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{Durability: Async, SyncInterval: 5 * 1e6})
	commit(t, s, broker.StoreOp{Kind: broker.OpPutIncoming, ClientID: "c", PacketID: 1})
	pollStats(t, s, func(st Stats) bool { return st.Syncs >= 1 })
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ch := make(chan error, 1)
	s.Commit(nil, true, func(err error) { ch <- err })
	if err := <-ch; !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("Commit after Close: %v", err)
	}
}
