package storetest

import (
	"strings"
	"testing"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

func testEmpty(t *testing.T, h *harness) {
	h.verify(func(t *testing.T, s *snapshot) {
		s.wantSessions(t)
		if len(s.retained) != 0 {
			t.Fatalf("loaded %d retained messages from an empty store", len(s.retained))
		}
	})
	h.wantMessages(0)
}

func testPutSession(t *testing.T, h *harness) {
	c1, c2 := sessionWithWill("c1", 100), session("c2")
	c2.ProtocolVersion, c2.ExpiryInterval, c2.DisconnectedAt = 4, 0, 0
	h.commit(putSession(c1), putSession(c2))
	h.verify(func(t *testing.T, s *snapshot) {
		s.wantSessions(t, "c1", "c2")
		for _, want := range []*broker.SessionRecord{c1, c2} {
			if d := diffSession(&s.session(t, want.ClientID).Session, want); d != "" {
				t.Fatalf("%s", d)
			}
		}
	})
	h.wantMessages(0) // a will is part of its session record, not a shared message
	// Replacing the record drops the will and changes every field.
	c1b := session("c1")
	c1b.Username, c1b.ExpiryInterval, c1b.CreatedAt = "other", 60, 42
	h.commit(putSession(c1b))
	h.verify(func(t *testing.T, s *snapshot) {
		if d := diffSession(&s.session(t, "c1").Session, c1b); d != "" {
			t.Fatalf("after replace: %s", d)
		}
	})
}

// fill gives client a session record, two subscriptions, two queue entries
// (one of them referencing the shared message 1) and two incoming ids.
func fill(h *harness, client string, own uint64) {
	h.t.Helper()
	h.commit(
		putSession(session(client)),
		putSub(client, sub("a/+", 1)),
		putSub(client, sub("$share/g/b", 2)),
		putQueue(client, entry(1, message(1, "shared"))),
		putQueue(client, entry(2, message(own, "own/"+client))),
		putIncoming(client, 7),
		putIncoming(client, 8),
	)
}

// wantFilled checks what fill stored for client.
func wantFilled(t *testing.T, s *snapshot, client string, own uint64) {
	t.Helper()
	ls := s.session(t, client)
	if d := diffSession(&ls.Session, session(client)); d != "" {
		t.Fatalf("%s", d)
	}
	wantSubs(t, ls, sub("a/+", 1), sub("$share/g/b", 2))
	wantQueue(t, ls, entry(1, message(1, "shared")), entry(2, message(own, "own/"+client)))
	wantIncoming(t, ls, 7, 8)
}

func wantIncoming(t *testing.T, ls *broker.LoadedSession, want ...uint16) {
	t.Helper()
	got := map[uint16]bool{}
	for _, id := range ls.Incoming {
		got[id] = true
	}
	if len(got) != len(want) || len(ls.Incoming) != len(want) {
		t.Fatalf("%q: incoming %v, want %v", ls.Session.ClientID, ls.Incoming, want)
	}
	for _, id := range want {
		if !got[id] {
			t.Fatalf("%q: incoming %v, want %v", ls.Session.ClientID, ls.Incoming, want)
		}
	}
}

func testDeleteSession(t *testing.T, h *harness) {
	// "a" is a prefix of "ab": deleting "a" must not touch "ab".
	fill(h, "a", 10)
	fill(h, "ab", 11)
	fill(h, "b", 12)
	h.commit(putRetained(message(10, "own/a"))) // retained is not session state
	h.wantMessages(4)
	h.commit(deleteSession("a"))
	h.verify(func(t *testing.T, s *snapshot) {
		s.wantSessions(t, "ab", "b")
		wantFilled(t, s, "ab", 11)
		wantFilled(t, s, "b", 12)
		s.wantRetained(t, message(10, "own/a"))
	})
	h.wantMessages(4) // 1 still queued for ab and b, 10 retained
	h.commit(deleteSession("ab"), deleteSession("b"), deleteSession("never-existed"))
	h.wantMessages(1)
	h.commit(putSession(session("a"))) // a new session starts empty
	h.verify(func(t *testing.T, s *snapshot) {
		s.wantSessions(t, "a")
		ls := s.session(t, "a")
		if len(ls.Subs)+len(ls.Queue)+len(ls.Incoming) != 0 {
			t.Fatalf("recreated session has leftovers: %+v", ls)
		}
	})
}

func testClientIDs(t *testing.T, h *harness) {
	ids := []string{"", "x", "\x00", "x\x00", "\xff\xff", "a/b", "ü", strings.Repeat("x", 200), strings.Repeat("x", 300)}
	for i, id := range ids {
		fill(h, id, uint64(100+i))
	}
	h.commit(deleteSession("x"), deleteSession(strings.Repeat("x", 200)))
	kept := []string{"", "\x00", "x\x00", "\xff\xff", "a/b", "ü", strings.Repeat("x", 300)}
	h.verify(func(t *testing.T, s *snapshot) {
		s.wantSessions(t, kept...)
		for i, id := range ids {
			if _, ok := s.sessions[id]; ok {
				wantFilled(t, s, id, uint64(100+i))
			}
		}
	})
}

func testSubscriptions(t *testing.T, h *harness) {
	s1, s2, s3 := sub("$share/g/a/+", 0), sub("a/#", 1), sub("$queue/x", 2)
	s2.NoLocal, s2.RetainAsPublished, s2.RetainHandling, s2.ID = false, false, 0, 0
	h.commit(putSession(session("c")), putSub("c", s1), putSub("c", s2), putSub("c", s3))
	s2b := sub("a/#", 2)
	h.commit(putSub("c", s2b), deleteSub("c", "$queue/x"), deleteSub("c", "not/there"))
	h.verify(func(t *testing.T, s *snapshot) {
		wantSubs(t, s.session(t, "c"), s1, s2b)
	})
}

func testQueue(t *testing.T, h *harness) {
	m := message(5, "q")
	seqs := []uint64{256, 1, 255, 1 << 40, 2, 0}
	ops := []broker.StoreOp{putSession(session("c"))}
	for _, seq := range seqs {
		ops = append(ops, putQueue("c", entry(seq, m)))
	}
	h.commit(ops...)
	// [MQTT-4.4.0-1] an inflight entry keeps its packet id for the resend.
	inflight := entry(2, m)
	inflight.PacketID, inflight.State, inflight.QoS, inflight.RetainFlag, inflight.SubIDs = 65535, broker.StatePubrel, 2, false, nil
	h.commit(putQueue("c", inflight), deleteQueue("c", 255), deleteQueue("c", 77))
	h.verify(func(t *testing.T, s *snapshot) {
		wantQueue(t, s.session(t, "c"), entry(0, m), entry(1, m), inflight, entry(256, m), entry(1<<40, m))
	})
	h.wantMessages(1)
}

func testIncoming(t *testing.T, h *harness) {
	h.commit(putSession(session("c")), putIncoming("c", 1), putIncoming("c", 65535), putIncoming("c", 300))
	h.commit(deleteIncoming("c", 300), deleteIncoming("c", 2), putIncoming("c", 1))
	h.verify(func(t *testing.T, s *snapshot) {
		wantIncoming(t, s.session(t, "c"), 1, 65535)
	})
}

func testRetained(t *testing.T, h *harness) {
	m1, m2, m3 := message(1, "a/b"), message(2, "c"), message(3, "a/b")
	h.commit(putRetained(m1), putRetained(m2))
	h.wantMessages(2)
	// [MQTT-3.3.1-5] a new retained message replaces the topic's old one.
	h.commit(putRetained(m3), deleteRetained("c"), deleteRetained("nothing"))
	h.wantMessages(1)
	h.verify(func(t *testing.T, s *snapshot) {
		if len(s.retained) != 1 {
			t.Fatalf("loaded %d retained messages, want 1", len(s.retained))
		}
		s.wantRetained(t, m3)
	})
}

func testMessageFields(t *testing.T, h *harness) {
	empty := plainMessage(2, "empty-props")
	empty.Props = &packet.Properties{}
	nothing := &broker.Message{ID: 3, Topic: "zero"}
	big := plainMessage(4, "big")
	big.Payload = make([]byte, 256<<10)
	for i := range big.Payload {
		big.Payload[i] = byte(i * 7)
	}
	onlyFormat := plainMessage(5, "format")
	onlyFormat.Props = &packet.Properties{PayloadFormat: 0}
	onlyFormat.Props.Set(packet.PropPayloadFormat)
	msgs := []*broker.Message{message(1, "full"), empty, nothing, big, onlyFormat, plainMessage(6, "plain")}
	ops := []broker.StoreOp{putSession(session("c"))}
	for i, m := range msgs {
		ops = append(ops, putQueue("c", entry(uint64(i), m)), putRetained(m))
	}
	h.commit(ops...)
	h.verify(func(t *testing.T, s *snapshot) {
		for i, m := range msgs {
			s.wantRetained(t, m)
			if d := diffMessage(s.session(t, "c").Queue[i].Msg, m); d != "" {
				t.Fatalf("queued: %s", d)
			}
		}
	})
}
