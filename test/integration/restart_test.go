package integration

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	mqtt3 "github.com/eclipse/paho.mqtt.golang"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// The restart tests stop a node gracefully (testutil's Restart: the broker
// disconnects every client with 0x8B and the store is closed) and start a
// new one on the same data dir. A persistent session is the same session
// after the restart [MQTT-3.1.2-4, MQTT-3.1.2-23]: subscriptions, queued and
// inflight messages, inbound QoS 2 state and its pending will.

// TestRestartSessionQueueAndSubscriptions: offline v5 and 3.1.1 sessions get
// the messages queued before the restart, in order [MQTT-4.6.0-6], and their
// subscriptions still route new messages.
func TestRestartSessionQueueAndSubscriptions(t *testing.T) {
	s := testutil.RunServer(t)
	persistentV5(t, s.TCP(), "rq5", "q/#", 2)
	persistentV3(t, s.TCP(), "rq3", "q/#", 1)
	for i := range 10 {
		publishV5(t, s.TCP(), &paho.Publish{Topic: "q/" + strconv.Itoa(i), QoS: byte(1 + i%2), Payload: seqPayload(i)})
	}

	s = s.Restart(t)
	v5, ack := testutil.ConnectV5(t, s.TCP(), v5Persistent("rq5", false))
	if !ack.SessionPresent { // [MQTT-3.2.2-3]
		t.Fatalf("v5 session not present after restart")
	}
	v3 := testutil.ConnectV3(t, s.TCP(), "rq3", func(o *mqtt3.ClientOptions) { o.SetCleanSession(false) })
	for i := range 10 {
		if m := v5.Next(t); payloadSeq(t, m.Payload) != i || m.QoS != byte(1+i%2) {
			t.Fatalf("v5 message %d: got %q QoS %d", i, m.Payload, m.QoS)
		}
		if m := v3.Next(t); payloadSeq(t, m.Payload()) != i || m.Qos() != 1 {
			t.Fatalf("3.1.1 message %d: got %q QoS %d", i, m.Payload(), m.Qos())
		}
	}
	publishQoS1(t, s.TCP(), "q/new", "10")
	if m := v5.Next(t); m.Topic != "q/new" {
		t.Fatalf("v5 subscription not restored: got %q", m.Topic)
	}
	if m := v3.Next(t); m.Topic() != "q/new" {
		t.Fatalf("3.1.1 subscription not restored: got %q", m.Topic())
	}
}

// TestRestartInflightResentWithDup: messages sent and not acknowledged
// before the restart are sent again after it with their original packet
// ids [MQTT-4.4.0-1]: PUBLISH with DUP set [MQTT-3.3.1-1], and PUBREL (not
// PUBLISH) for a QoS 2 message whose PUBREC was received [MQTT-4.3.3-6].
func TestRestartInflightResentWithDup(t *testing.T) {
	s := testutil.RunServer(t)
	sub, _ := connectRaw(t, s.TCP(), packet.V5, "inf", true, 3600)
	subscribeRaw(t, sub, "a/#", 2)
	publishQoS1(t, s.TCP(), "a/1", "one")
	publishV5(t, s.TCP(), &paho.Publish{Topic: "a/2", QoS: 2, Payload: []byte("two")})
	publishV5(t, s.TCP(), &paho.Publish{Topic: "a/3", QoS: 2, Payload: []byte("three")})
	p1 := expectPublish(t, sub, "a/1", 1, false)
	p2 := expectPublish(t, sub, "a/2", 2, false)
	p3 := expectPublish(t, sub, "a/3", 2, false)
	sub.Send(&packet.Ack{PacketType: packet.PUBREC, PacketID: p3.PacketID})
	durExpectAck(t, sub, packet.PUBREL, p3.PacketID, packet.Success)

	s = s.Restart(t)
	expectShutdownDisconnect(t, sub)
	sub, ack := connectRaw(t, s.TCP(), packet.V5, "inf", false, 3600)
	if !ack.SessionPresent {
		t.Fatalf("session not present after restart") // [MQTT-3.2.2-3]
	}
	if p := expectPublish(t, sub, "a/1", 1, true); p.PacketID != p1.PacketID {
		t.Fatalf("a/1 resent with packet id %d, was %d", p.PacketID, p1.PacketID)
	}
	if p := expectPublish(t, sub, "a/2", 2, true); p.PacketID != p2.PacketID {
		t.Fatalf("a/2 resent with packet id %d, was %d", p.PacketID, p2.PacketID)
	}
	durExpectAck(t, sub, packet.PUBREL, p3.PacketID, packet.Success)
	sub.Send(&packet.Ack{PacketType: packet.PUBACK, PacketID: p1.PacketID})
	sub.Send(&packet.Ack{PacketType: packet.PUBREC, PacketID: p2.PacketID})
	durExpectAck(t, sub, packet.PUBREL, p2.PacketID, packet.Success)
	sub.Send(&packet.Ack{PacketType: packet.PUBCOMP, PacketID: p2.PacketID})
	sub.Send(&packet.Ack{PacketType: packet.PUBCOMP, PacketID: p3.PacketID})
	sub.Send(&packet.Pingreq{}) // answered once the acks above are handled
	sub.Expect(packet.PINGRESP)

	s = s.Restart(t) // completed flows stay completed
	sub, ack = connectRaw(t, s.TCP(), packet.V5, "inf", false, 3600)
	if !ack.SessionPresent {
		t.Fatalf("session not present after the second restart")
	}
	expectNothing(t, sub, 300*time.Millisecond)
}

// TestRestartInboundQoS2: a QoS 2 message received (PUBREC sent) before the
// restart is still awaiting its PUBREL after it: a retransmitted PUBLISH is
// acknowledged and not delivered again [MQTT-4.3.3-10], and the PUBREL gets
// PUBCOMP 0x00 [MQTT-4.3.3-11].
func TestRestartInboundQoS2(t *testing.T) {
	s := testutil.RunServer(t)
	sub, _ := connectRaw(t, s.TCP(), packet.V5, "iq-sub", true, 3600)
	subscribeRaw(t, sub, "x/#", 2)
	pub, _ := connectRaw(t, s.TCP(), packet.V5, "iq-pub", true, 3600)
	msg := &packet.Publish{QoS: 2, Topic: []byte("x/1"), PacketID: 9, Payload: []byte("once")}
	pub.Send(msg)
	durExpectAck(t, pub, packet.PUBREC, 9, packet.Success)
	p := expectPublish(t, sub, "x/1", 2, false)
	sub.Send(&packet.Ack{PacketType: packet.PUBREC, PacketID: p.PacketID})
	durExpectAck(t, sub, packet.PUBREL, p.PacketID, packet.Success)
	sub.Send(&packet.Ack{PacketType: packet.PUBCOMP, PacketID: p.PacketID})
	sub.Send(&packet.Pingreq{})
	sub.Expect(packet.PINGRESP)

	s = s.Restart(t)
	pub, ack := connectRaw(t, s.TCP(), packet.V5, "iq-pub", false, 3600)
	if !ack.SessionPresent {
		t.Fatalf("publisher session not present after restart")
	}
	msg.Dup = true
	pub.Send(msg)
	durExpectAck(t, pub, packet.PUBREC, 9, packet.Success)
	pub.Send(&packet.Ack{PacketType: packet.PUBREL, PacketID: 9})
	durExpectAck(t, pub, packet.PUBCOMP, 9, packet.Success)
	pub.Send(&packet.Ack{PacketType: packet.PUBREL, PacketID: 9}) // the flow is over
	durExpectAck(t, pub, packet.PUBCOMP, 9, packet.PacketIdentifierNotFound)

	sub, _ = connectRaw(t, s.TCP(), packet.V5, "iq-sub", false, 3600)
	expectNothing(t, sub, 300*time.Millisecond)
}

// TestRestartSubscriptionOptions: a restored subscription keeps its options:
// No Local [MQTT-3.8.3-3], Retain As Published [MQTT-3.3.1-12] and its
// Subscription Identifier [MQTT-3.3.4-3].
func TestRestartSubscriptionOptions(t *testing.T) {
	s := testutil.RunServer(t)
	sub, _ := connectRaw(t, s.TCP(), packet.V5, "opts", true, 3600)
	sp := &packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "o/#", QoS: 1, NoLocal: true, RetainAsPublished: true}}}
	sp.Props.SubscriptionIDs = []uint32{42}
	sub.Send(sp)
	sub.Expect(packet.SUBACK)

	s = s.Restart(t)
	sub, _ = connectRaw(t, s.TCP(), packet.V5, "opts", false, 3600)
	sub.Send(&packet.Publish{QoS: 1, Topic: []byte("o/own"), PacketID: 1, Payload: []byte("own")})
	// A matching subscription exists, so the PUBACK is a success even though
	// No Local keeps the message from its publisher; the next PUBLISH the
	// subscriber gets is the other client's, proving No Local survived.
	durExpectAck(t, sub, packet.PUBACK, 1, packet.Success)
	publishRetained(t, s.TCP(), "o/other", "other")
	p := expectPublish(t, sub, "o/other", 1, false)
	if !p.Retain || len(p.Props.SubscriptionIDs) != 1 || p.Props.SubscriptionIDs[0] != 42 {
		t.Fatalf("after restart got RETAIN %v, subscription ids %v; want RETAIN kept and id 42", p.Retain, p.Props.SubscriptionIDs)
	}
}

// TestRestartNonPersistentSessionsGone: sessions with expiry 0 (v5) or
// Clean Session 1 (3.1.1) end with their connection; a restart does not
// bring them or their subscriptions back [MQTT-3.1.2-6].
func TestRestartNonPersistentSessionsGone(t *testing.T) {
	s := testutil.RunServer(t)
	np5, _ := connectRaw(t, s.TCP(), packet.V5, "np5", true, 0)
	subscribeRaw(t, np5, "np/#", 1)
	np3, _ := connectRaw(t, s.TCP(), packet.V311, "np3", true, 0)
	subscribeRaw(t, np3, "np/#", 1)

	s = s.Restart(t)
	pub, _ := connectRaw(t, s.TCP(), packet.V5, "np-pub", true, 0)
	pub.Send(&packet.Publish{QoS: 1, Topic: []byte("np/x"), PacketID: 1, Payload: []byte("x")})
	durExpectAck(t, pub, packet.PUBACK, 1, packet.NoMatchingSubscribers)
	if _, ack := connectRaw(t, s.TCP(), packet.V5, "np5", false, 60); ack.SessionPresent {
		t.Fatalf("v5 session with expiry 0 present after restart") // [MQTT-3.2.2-3]
	}
	if _, ack := connectRaw(t, s.TCP(), packet.V311, "np3", false, 0); ack.SessionPresent {
		t.Fatalf("3.1.1 clean session present after restart") // [MQTT-3.2.2-3]
	}
}

// TestRestartRetained: retained messages, as last replaced or deleted, and
// with their properties, survive a restart [MQTT-3.3.1-5, MQTT-3.3.1-6].
func TestRestartRetained(t *testing.T) {
	s := testutil.RunServer(t)
	props := &paho.PublishProperties{ContentType: "text/plain", User: paho.UserProperties{{Key: "k", Value: "v"}}}
	publishV5(t, s.TCP(), &paho.Publish{Topic: "ret/1", QoS: 1, Retain: true, Payload: []byte("1"), Properties: props})
	publishRetained(t, s.TCP(), "ret/2", "2")
	publishRetained(t, s.TCP(), "ret/3", "3")
	publishRetained(t, s.TCP(), "ret/2", "22")
	publishRetained(t, s.TCP(), "ret/3", "")
	publishV5(t, s.TCP(), &paho.Publish{Topic: "ret/0", QoS: 0, Retain: true, Payload: []byte("0")})
	testutil.Eventually(t, testutil.Timeout, func() error { // QoS 0: no ack tells when it is handled
		if s.Broker().Retained("ret/0") == nil {
			return errors.New("ret/0 not retained yet")
		}
		return nil
	})

	s = s.Restart(t)
	got := retainedPackets(t, s.TCP(), "ret/#")
	if len(got) != 3 || string(got["ret/0"].Payload) != "0" || string(got["ret/1"].Payload) != "1" || string(got["ret/2"].Payload) != "22" {
		t.Fatalf("retained after restart: %v", got)
	}
	p := got["ret/1"]
	if string(p.Props.ContentType) != "text/plain" || len(p.Props.User) != 1 || string(p.Props.User[0].Key) != "k" {
		t.Fatalf("properties of a retained message lost: %+v", p.Props)
	}
}

// expectPublish reads the next packet and checks it is a PUBLISH of topic
// with the given QoS and DUP flag.
func expectPublish(t testing.TB, c *testutil.Raw, topic string, qos byte, dup bool) *packet.Publish {
	t.Helper()
	p := c.Expect(packet.PUBLISH).(*packet.Publish)
	if string(p.Topic) != topic || p.QoS != qos || p.Dup != dup {
		t.Fatalf("got PUBLISH %s QoS %d DUP %v, want %s QoS %d DUP %v", p.Topic, p.QoS, p.Dup, topic, qos, dup)
	}
	return p
}

// durExpectAck reads the next packet and checks it is typ for pid with rc.
func durExpectAck(t testing.TB, c *testutil.Raw, typ packet.Type, pid uint16, rc packet.ReasonCode) {
	t.Helper()
	a := c.Expect(typ).(*packet.Ack)
	if a.PacketID != pid || a.ReasonCode != rc {
		t.Fatalf("got %v id %d rc %v, want id %d rc %v", typ, a.PacketID, a.ReasonCode, pid, rc)
	}
}

// expectNothing checks that c receives no packet within d.
func expectNothing(t testing.TB, c *testutil.Raw, d time.Duration) {
	t.Helper()
	if p, err := c.Read(d); err == nil {
		t.Fatalf("unexpected %v %+v", p.Type(), p)
	}
}

// expectShutdownDisconnect checks that a v5 client of a node that shut down
// got DISCONNECT 0x8B Server shutting down before its connection closed.
func expectShutdownDisconnect(t testing.TB, c *testutil.Raw) {
	t.Helper()
	got := c.ExpectClosed(testutil.Timeout)
	if len(got) != 1 || got[0].Type() != packet.DISCONNECT || got[0].(*packet.Disconnect).ReasonCode != packet.ServerShuttingDown {
		t.Fatalf("at shutdown got %+v, want DISCONNECT 0x8B", got)
	}
}
