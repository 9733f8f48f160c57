package integration

import (
	"fmt"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// sessConnect is a CONNECT for a session test: for v5 a non-zero expiry
// sets the Session Expiry Interval property.
func sessConnect(id string, clean bool, expiry uint32) *packet.Connect {
	p := &packet.Connect{ClientID: id, CleanStart: clean, KeepAlive: 60}
	if expiry > 0 {
		p.Props.SessionExpiry = expiry
		p.Props.Set(packet.PropSessionExpiry)
	}
	return p
}

// rawDisconnect sends DISCONNECT (with props for v5) and waits for the close.
func rawDisconnect(t *testing.T, c *testutil.Raw, d *packet.Disconnect) {
	t.Helper()
	c.Send(d)
	if got := c.ExpectClosed(testutil.Timeout); len(got) != 0 {
		t.Fatalf("packets after DISCONNECT: %+v", got)
	}
}

// sessionGauge returns the broker's live session count.
func sessionGauge(s *testutil.Server) int64 { return s.Broker().Stats().Sessions.Value() }

// waitSessions waits until the node holds n sessions.
func waitSessions(t *testing.T, s *testutil.Server, n int64) {
	t.Helper()
	testutil.Eventually(t, testutil.Timeout, func() error {
		if got := sessionGauge(s); got != n {
			return fmt.Errorf("%d sessions, want %d", got, n)
		}
		return nil
	})
}

// rawPub publishes from a raw 3.1.1 or v5 client and waits for the PUBACK /
// PUBREC-PUBREL-PUBCOMP flow (QoS 0: a PINGREQ round trip shows it was read).
func rawPub(t *testing.T, c *testutil.Raw, pid uint16, topic string, qos byte, payload string) {
	t.Helper()
	c.Send(&packet.Publish{QoS: qos, PacketID: pid, Topic: []byte(topic), Payload: []byte(payload)})
	switch qos {
	case 0:
		rawPingPong(t, c)
	case 1:
		expectAck(t, c, packet.PUBACK, pid)
	case 2:
		expectAck(t, c, packet.PUBREC, pid)
		c.Send(&packet.Ack{PacketType: packet.PUBREL, PacketID: pid})
		expectAck(t, c, packet.PUBCOMP, pid)
	}
}

// expectAck reads an acknowledgement of type typ for pid and returns it.
func expectAck(t *testing.T, c *testutil.Raw, typ packet.Type, pid uint16) *packet.Ack {
	t.Helper()
	a := c.Expect(typ).(*packet.Ack)
	if a.PacketID != pid {
		t.Fatalf("%v for packet id %d, want %d", typ, a.PacketID, pid)
	}
	return a
}

// expectPub reads a PUBLISH and checks topic, QoS and DUP.
func expectPub(t *testing.T, c *testutil.Raw, topic string, qos byte, dup bool) *packet.Publish {
	t.Helper()
	p := c.ExpectPublish()
	if string(p.Topic) != topic || p.QoS != qos || p.Dup != dup {
		t.Fatalf("PUBLISH %q qos %d dup %v, want %q qos %d dup %v", p.Topic, p.QoS, p.Dup, topic, qos, dup)
	}
	return p
}

// TestSessionPresent checks the Session Present flag for both protocol
// versions: 0 for a new session [MQTT-3.2.2-3] or a Clean Start
// [MQTT-3.2.2-2], 1 when a session is resumed [MQTT-3.2.2-3].
func TestSessionPresent(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	for _, v := range []byte{packet.V311, packet.V5} {
		id := fmt.Sprintf("present-%d", v)
		steps := []struct {
			clean   bool
			present bool
		}{{false, false}, {false, true}, {false, true}, {true, false}, {false, false}}
		for i, st := range steps {
			// A clean session ends with its connection (v5: expiry 0).
			expiry := 60 * boolU32(v == packet.V5 && !st.clean)
			c, ack := testutil.ConnectRaw(t, s.TCP(), v, sessConnect(id, st.clean, expiry))
			if ack.SessionPresent != st.present {
				t.Fatalf("v%d step %d (clean %v): session present %v, want %v", v, i, st.clean, ack.SessionPresent, st.present)
			}
			rawDisconnect(t, c, &packet.Disconnect{})
		}
	}
}

func boolU32(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// TestSessionCleanStartDiscards checks that Clean Start discards the old
// session's subscriptions and queued messages [MQTT-3.1.2-4].
func TestSessionCleanStartDiscards(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	c, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, sessConnect("cs", false, 60))
	c.Subscribe(1, "cs/#", 1)
	rawDisconnect(t, c, &packet.Disconnect{})
	pub, _ := testutil.ConnectRaw(t, s.TCP(), packet.V311, &packet.Connect{ClientID: "cs-pub", CleanStart: true})
	rawPub(t, pub, 1, "cs/queued", 1, "q")
	c, ack := testutil.ConnectRaw(t, s.TCP(), packet.V5, sessConnect("cs", true, 60))
	if ack.SessionPresent {
		t.Fatalf("session present after Clean Start")
	}
	rawPub(t, pub, 2, "cs/live", 1, "l")
	c.ExpectNothing(300 * time.Millisecond) // neither the queued message nor the old subscription
}

// TestSessionExpiryV5 checks the Session Expiry Interval: the session (and
// what was queued for it) survives a disconnect shorter than the interval
// and is discarded once it has passed [MQTT-3.1.2-23] [MQTT-4.1.0-2].
func TestSessionExpiryV5(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	testSessionExpiry(t, s, packet.V5, sessConnect("exp5", false, 1))
}

// TestSessionExpiryV311 checks that a 3.1.1 Clean Session 0 session lasts
// mqtt.session_expiry_interval after its connection (EMQX behaviour; 3.1.1
// itself keeps it forever).
func TestSessionExpiryV311(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, func(c *config.Config) { c.MQTT.SessionExpiryInterval = time.Second })
	testSessionExpiry(t, s, packet.V311, sessConnect("exp3", false, 0))
}

// testSessionExpiry runs the expiry scenario for a session whose interval
// is one second. The session must still be there when the client comes
// back within the second (checked only when the round trip took less: a
// busy machine may take longer, and then either answer is right), and gone
// once the second has passed, not before.
func testSessionExpiry(t *testing.T, s *testutil.Server, v byte, cp *packet.Connect) {
	t.Helper()
	pub, _ := testutil.ConnectRaw(t, s.TCP(), packet.V311, &packet.Connect{ClientID: "exp-pub", CleanStart: true})
	c, _ := testutil.ConnectRaw(t, s.TCP(), v, cp)
	c.Subscribe(1, "exp/#", 1)
	closed := time.Now() // before the server can start the session's timer
	rawDisconnect(t, c, &packet.Disconnect{})
	rawPub(t, pub, 1, "exp/kept", 1, "1")
	c, ack := testutil.ConnectRaw(t, s.TCP(), v, cp)
	if testutil.InTime(t, closed, time.Second, "session kept within its expiry interval") && !ack.SessionPresent {
		t.Fatalf("session gone before its expiry interval")
	}
	if ack.SessionPresent {
		expectPub(t, c, "exp/kept", 1, false)
	} else {
		c.Subscribe(1, "exp/#", 1)
	}
	closed = time.Now()
	rawDisconnect(t, c, &packet.Disconnect{})
	waitSessions(t, s, 1) // the publisher's: the offline one has expired
	if d := time.Since(closed); d < 900*time.Millisecond {
		t.Fatalf("session expired after %v, before its 1 s interval", d)
	}
	rawPub(t, pub, 2, "exp/lost", 1, "2")
	c, ack = testutil.ConnectRaw(t, s.TCP(), v, cp)
	if ack.SessionPresent {
		t.Fatalf("session present after its expiry interval")
	}
	c.ExpectNothing(200 * time.Millisecond)
}

// TestSessionExpiryChangedAtDisconnect sets the Session Expiry Interval in
// DISCONNECT: 0 ends the session at once, 1 makes it expire a second later
// [MQTT-3.14.2.2.2].
func TestSessionExpiryChangedAtDisconnect(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	c, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, sessConnect("chg", false, 3600))
	d := &packet.Disconnect{}
	d.Props.Set(packet.PropSessionExpiry) // 0
	rawDisconnect(t, c, d)
	waitSessions(t, s, 0)

	c, ack := testutil.ConnectRaw(t, s.TCP(), packet.V5, sessConnect("chg", false, 3600))
	if ack.SessionPresent {
		t.Fatalf("session present after DISCONNECT with Session Expiry Interval 0")
	}
	d.Props.SessionExpiry = 1
	closed := time.Now()
	rawDisconnect(t, c, d)
	waitSessions(t, s, 0)
	if el := time.Since(closed); el < 900*time.Millisecond {
		t.Fatalf("session ended after %v, want about 1 s", el)
	}
}

// TestSessionExpiryZeroToNonZero sends a non-zero Session Expiry Interval
// in DISCONNECT after 0 in CONNECT: a Protocol Error answered with
// DISCONNECT 0x82, and the session is not kept [MQTT-3.14.2-2].
func TestSessionExpiryZeroToNonZero(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	c, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, sessConnect("zero", false, 0))
	d := &packet.Disconnect{}
	d.Props.SessionExpiry = 60
	d.Props.Set(packet.PropSessionExpiry)
	c.Send(d)
	got := c.ExpectClosed(testutil.Timeout)
	if len(got) != 1 || got[0].(*packet.Disconnect).ReasonCode != packet.ProtocolError {
		t.Fatalf("got %+v, want DISCONNECT 0x82", got)
	}
	waitSessions(t, s, 0)
}

// TestSessionTakeover connects a second client with a live client's id, for
// every Clean Start combination and both protocol versions: the old
// connection gets DISCONNECT 0x8E (v5) and is closed [MQTT-3.1.4-3]; the
// session continues (Session Present, subscriptions kept) unless either
// side asked for a clean one; the old will is published only when the
// session does not continue (mosquitto test 07-will-takeover).
func TestSessionTakeover(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	watcher, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, &packet.Connect{ClientID: "watcher", CleanStart: true})
	watcher.Subscribe(1, "will/#", 0)
	pub, _ := testutil.ConnectRaw(t, s.TCP(), packet.V311, &packet.Connect{ClientID: "tk-pub", CleanStart: true})
	for _, v := range []byte{packet.V311, packet.V5} {
		for _, clean1 := range []bool{true, false} {
			for _, clean2 := range []bool{true, false} {
				name := fmt.Sprintf("v%d-clean%v-clean%v", v, clean1, clean2)
				t.Run(name, func(t *testing.T) {
					takeover(t, s, watcher, pub, v, name, clean1, clean2)
				})
			}
		}
	}
}

func takeover(t *testing.T, s *testutil.Server, watcher, pub *testutil.Raw, v byte, id string, clean1, clean2 bool) {
	t.Helper()
	expiry := func(clean bool) uint32 { return 60 * boolU32(v == packet.V5 && !clean) }
	cp := sessConnect(id, clean1, expiry(clean1))
	cp.WillFlag, cp.WillTopic, cp.WillPayload = true, "will/"+id, []byte("LWT")
	old, _ := testutil.ConnectRaw(t, s.TCP(), v, cp)
	old.Subscribe(1, "tk/"+id, 1)
	c, ack := testutil.ConnectRaw(t, s.TCP(), v, sessConnect(id, clean2, expiry(clean2)))
	continues := !clean1 && !clean2
	if ack.SessionPresent != continues {
		t.Fatalf("session present %v, want %v", ack.SessionPresent, continues)
	}
	got := old.ExpectClosed(testutil.Timeout)
	if v == packet.V5 && (len(got) != 1 || got[0].(*packet.Disconnect).ReasonCode != packet.SessionTakenOver) {
		t.Fatalf("old v5 connection got %+v, want DISCONNECT 0x8E", got)
	} else if v != packet.V5 && len(got) != 0 {
		t.Fatalf("old 3.1.1 connection got %+v", got)
	}
	if continues {
		watcher.ExpectNothing(300 * time.Millisecond)
	} else {
		expectPub(t, watcher, "will/"+id, 0, false)
	}
	rawPub(t, pub, 1, "tk/"+id, 1, "after")
	if continues {
		expectPub(t, c, "tk/"+id, 1, false) // the subscription came with the session
	} else {
		c.ExpectNothing(200 * time.Millisecond)
	}
	rawDisconnect(t, c, &packet.Disconnect{})
}

// TestSessionTakeoverPaho checks the takeover as the client libraries see
// it: paho.golang gets DISCONNECT 0x8E [MQTT-3.1.4-3], paho.mqtt.golang
// loses its connection.
func TestSessionTakeoverPaho(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	old, _ := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: "tp5", CleanStart: true, KeepAlive: 30})
	testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: "tp5", CleanStart: true, KeepAlive: 30})
	select {
	case d := <-old.Disc:
		if d.ReasonCode != byte(packet.SessionTakenOver) {
			t.Fatalf("DISCONNECT 0x%02x, want 0x8E", d.ReasonCode)
		}
	case <-time.After(testutil.Timeout):
		t.Fatalf("no DISCONNECT for the old v5 client")
	}
	old3 := testutil.ConnectV3(t, s.TCP(), "tp3")
	testutil.ConnectV3(t, s.TCP(), "tp3")
	testutil.Eventually(t, testutil.Timeout, func() error {
		if old3.IsConnectionOpen() {
			return fmt.Errorf("old 3.1.1 connection still open")
		}
		return nil
	})
	if got := s.Broker().Metrics().Get(broker.MSessionTakenover); got != 2 {
		t.Fatalf("session.takenover = %d, want 2", got)
	}
}

// TestSessionResumeQueued queues QoS 0, 1 and 2 messages for an offline
// session and checks they are delivered, in order and at their QoS, after
// the client comes back [MQTT-3.1.2-5] [MQTT-4.6.0-6].
func TestSessionResumeQueued(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	cp := &paho.Connect{ClientID: "rq", KeepAlive: 30, Properties: &paho.ConnectProperties{SessionExpiryInterval: new(uint32(60))}}
	sub, _ := testutil.ConnectV5(t, s.TCP(), cp)
	if _, err := sub.Subscribe(testutil.Ctx(t), &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "rq/#", QoS: 2}}}); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	if err := sub.Disconnect(&paho.Disconnect{}); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	waitAttached(t, s, 0)
	pub, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, &packet.Connect{ClientID: "rq-pub", CleanStart: true})
	want := []struct {
		topic string
		qos   byte
	}{{"rq/1", 1}, {"rq/2", 2}, {"rq/0", 0}, {"rq/2b", 2}}
	for i, m := range want {
		rawPub(t, pub, uint16(i+1), m.topic, m.qos, m.topic)
	}
	sub, ack := testutil.ConnectV5(t, s.TCP(), cp)
	if !ack.SessionPresent {
		t.Fatalf("session not present")
	}
	for _, m := range want {
		got := sub.Next(t)
		if got.Topic != m.topic || got.QoS != m.qos || string(got.Payload) != m.topic {
			t.Fatalf("got %q qos %d, want %q qos %d", got.Topic, got.QoS, m.topic, m.qos)
		}
	}
	sub.None(t, 200*time.Millisecond)
}

// waitAttached waits until n connections are established on the node.
func waitAttached(t *testing.T, s *testutil.Server, n int64) {
	t.Helper()
	testutil.WaitGauge(t, "connections", &s.Broker().Stats().Connections, n)
}

// TestSessionResumeInflight leaves QoS 1 and 2 deliveries unacknowledged
// and drops the connection: on reconnect the server resends the PUBLISH
// packets with DUP set and their original packet ids, in their original
// order, and the PUBREL of a QoS 2 flow in its second phase
// [MQTT-4.4.0-1] [MQTT-3.3.1-1] [MQTT-4.6.0-1].
func TestSessionResumeInflight(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	pub, _ := testutil.ConnectRaw(t, s.TCP(), packet.V311, &packet.Connect{ClientID: "inf-pub", CleanStart: true})
	for _, v := range []byte{packet.V311, packet.V5} {
		id := fmt.Sprintf("inf%d", v)
		cp := sessConnect(id, false, 60*boolU32(v == packet.V5))
		c, _ := testutil.ConnectRaw(t, s.TCP(), v, cp)
		c.Subscribe(1, id+"/#", 2)
		rawPub(t, pub, 1, id+"/a", 1, "a")
		rawPub(t, pub, 2, id+"/b", 2, "b")
		rawPub(t, pub, 3, id+"/c", 2, "c")
		a := expectPub(t, c, id+"/a", 1, false)
		b := expectPub(t, c, id+"/b", 2, false)
		cc := expectPub(t, c, id+"/c", 2, false)
		c.Send(&packet.Ack{PacketType: packet.PUBREC, PacketID: cc.PacketID})
		expectAck(t, c, packet.PUBREL, cc.PacketID)
		c.Conn.Close() // no acks for a and b, no PUBCOMP for c

		c, ack := testutil.ConnectRaw(t, s.TCP(), v, cp)
		if !ack.SessionPresent {
			t.Fatalf("v%d: session not present", v)
		}
		if p := expectPub(t, c, id+"/a", 1, true); p.PacketID != a.PacketID {
			t.Fatalf("v%d: resent a with id %d, want %d", v, p.PacketID, a.PacketID)
		}
		if p := expectPub(t, c, id+"/b", 2, true); p.PacketID != b.PacketID {
			t.Fatalf("v%d: resent b with id %d, want %d", v, p.PacketID, b.PacketID)
		}
		expectAck(t, c, packet.PUBREL, cc.PacketID)
		c.Send(&packet.Ack{PacketType: packet.PUBACK, PacketID: a.PacketID})
		c.Send(&packet.Ack{PacketType: packet.PUBREC, PacketID: b.PacketID})
		expectAck(t, c, packet.PUBREL, b.PacketID)
		c.Send(&packet.Ack{PacketType: packet.PUBCOMP, PacketID: b.PacketID})
		c.Send(&packet.Ack{PacketType: packet.PUBCOMP, PacketID: cc.PacketID})
		c.ExpectNothing(200 * time.Millisecond)
		rawPub(t, pub, 4, id+"/d", 1, "d")
		expectPub(t, c, id+"/d", 1, false)
		rawDisconnect(t, c, &packet.Disconnect{})
	}
}

// TestSessionQueueLimit fills an offline session's queue past
// mqtt.max_mqueue_len = 3: a queued QoS 0 message is dropped first, then
// the oldest message, and a QoS 0 message meeting a queue without QoS 0
// messages is dropped itself; each drop counts in
// delivery.dropped.queue_full (EMQX mqueue semantics).
func TestSessionQueueLimit(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, func(c *config.Config) { c.MQTT.MaxMqueueLen = 3 })
	cp := sessConnect("ql", false, 60)
	c, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, cp)
	c.Subscribe(1, "ql/#", 1)
	rawDisconnect(t, c, &packet.Disconnect{})
	pub, _ := testutil.ConnectRaw(t, s.TCP(), packet.V311, &packet.Connect{ClientID: "ql-pub", CleanStart: true})
	for i, m := range []struct {
		topic string
		qos   byte
	}{{"ql/m1", 1}, {"ql/z1", 0}, {"ql/m2", 1}, {"ql/m3", 1}, {"ql/m4", 1}, {"ql/z2", 0}} {
		rawPub(t, pub, uint16(i+1), m.topic, m.qos, "x")
	}
	testutil.Eventually(t, time.Second, func() error {
		if got := s.Broker().Metrics().Get(broker.MDeliveryDroppedQueueFull); got != 3 {
			return fmt.Errorf("delivery.dropped.queue_full = %d, want 3", got)
		}
		return nil
	})
	c, _ = testutil.ConnectRaw(t, s.TCP(), packet.V5, cp)
	for _, topic := range []string{"ql/m2", "ql/m3", "ql/m4"} {
		p := expectPub(t, c, topic, 1, false)
		c.Send(&packet.Ack{PacketType: packet.PUBACK, PacketID: p.PacketID})
	}
	c.ExpectNothing(200 * time.Millisecond)
}

// TestSessionResumeInboundQoS2 leaves an inbound QoS 2 flow at PUBREC and
// reconnects: the client resends the PUBLISH with DUP set and the same
// packet id, which the server acknowledges without delivering the message a
// second time, then completes the flow with PUBREL/PUBCOMP
// [MQTT-4.3.3-10] [MQTT-4.4.0-1].
func TestSessionResumeInboundQoS2(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	w, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, &packet.Connect{ClientID: "in2-watch", CleanStart: true})
	w.Subscribe(1, "in2/#", 2)
	for _, v := range []byte{packet.V311, packet.V5} {
		id := fmt.Sprintf("in2-%d", v)
		cp := sessConnect(id, false, 60*boolU32(v == packet.V5))
		c, _ := testutil.ConnectRaw(t, s.TCP(), v, cp)
		pub := &packet.Publish{QoS: 2, PacketID: 7, Topic: []byte("in2/" + id), Payload: []byte("once")}
		c.Send(pub)
		expectAck(t, c, packet.PUBREC, 7)
		p := expectPub(t, w, "in2/"+id, 2, false)
		w.Send(&packet.Ack{PacketType: packet.PUBREC, PacketID: p.PacketID})
		expectAck(t, w, packet.PUBREL, p.PacketID)
		w.Send(&packet.Ack{PacketType: packet.PUBCOMP, PacketID: p.PacketID})
		c.Conn.Close()

		c, ack := testutil.ConnectRaw(t, s.TCP(), v, cp)
		if !ack.SessionPresent {
			t.Fatalf("v%d: session not present", v)
		}
		pub.Dup = true
		c.Send(pub)
		expectAck(t, c, packet.PUBREC, 7)
		c.Send(&packet.Ack{PacketType: packet.PUBREL, PacketID: 7})
		if a := expectAck(t, c, packet.PUBCOMP, 7); a.ReasonCode != packet.Success {
			t.Fatalf("v%d: PUBCOMP 0x%02x, want success", v, byte(a.ReasonCode))
		}
		w.ExpectNothing(200 * time.Millisecond)
		rawDisconnect(t, c, &packet.Disconnect{})
	}
}

// TestSessionQueueNoQoS0 sets mqtt.mqueue_store_qos0 = false: QoS 0
// messages are not queued for an offline session, QoS 1 ones are (EMQX
// mqueue_store_qos0).
func TestSessionQueueNoQoS0(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, func(c *config.Config) { c.MQTT.MqueueStoreQoS0 = false })
	cp := sessConnect("nq0", false, 60)
	c, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, cp)
	c.Subscribe(1, "nq0/#", 1)
	rawDisconnect(t, c, &packet.Disconnect{})
	pub, _ := testutil.ConnectRaw(t, s.TCP(), packet.V311, &packet.Connect{ClientID: "nq0-pub", CleanStart: true})
	rawPub(t, pub, 0, "nq0/zero", 0, "x")
	rawPub(t, pub, 1, "nq0/one", 1, "x")
	c, _ = testutil.ConnectRaw(t, s.TCP(), packet.V5, cp)
	expectPub(t, c, "nq0/one", 1, false)
	c.ExpectNothing(200 * time.Millisecond)
}

// TestSessionResumeAfterRestart restarts the node (durability sync) between
// a client's disconnect and its return: the session, its subscription, the
// unacknowledged inflight message (resent with DUP and its packet id) and
// the message queued while it was offline all survive [MQTT-4.1.0-1]
// [MQTT-4.4.0-1].
func TestSessionResumeAfterRestart(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	cp := sessConnect("rr", false, 600)
	c, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, cp)
	c.Subscribe(1, "rr/#", 2)
	pub, _ := testutil.ConnectRaw(t, s.TCP(), packet.V311, &packet.Connect{ClientID: "rr-pub", CleanStart: true})
	rawPub(t, pub, 1, "rr/a", 1, "a")
	a := expectPub(t, c, "rr/a", 1, false)
	c.Conn.Close()
	waitAttached(t, s, 1)
	rawPub(t, pub, 2, "rr/b", 2, "b")

	s = s.Restart(t)
	c, ack := testutil.ConnectRaw(t, s.TCP(), packet.V5, cp)
	if !ack.SessionPresent {
		t.Fatalf("session not present after a restart")
	}
	if p := expectPub(t, c, "rr/a", 1, true); p.PacketID != a.PacketID {
		t.Fatalf("resent with packet id %d, want %d", p.PacketID, a.PacketID)
	}
	c.Send(&packet.Ack{PacketType: packet.PUBACK, PacketID: a.PacketID})
	b := expectPub(t, c, "rr/b", 2, false)
	c.Send(&packet.Ack{PacketType: packet.PUBREC, PacketID: b.PacketID})
	expectAck(t, c, packet.PUBREL, b.PacketID)
	c.Send(&packet.Ack{PacketType: packet.PUBCOMP, PacketID: b.PacketID})
	pub, _ = testutil.ConnectRaw(t, s.TCP(), packet.V311, &packet.Connect{ClientID: "rr-pub", CleanStart: true})
	rawPub(t, pub, 3, "rr/c", 1, "c")
	expectPub(t, c, "rr/c", 1, false) // the subscription was restored
}
