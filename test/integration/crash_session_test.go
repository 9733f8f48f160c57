package integration

import (
	"testing"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// The tests of this file kill the broker right after an acknowledgement
// that ends a piece of session state, and check that the state does not
// come back after the restart.

// TestCrashQoS2PacketIDReuse: once the broker has sent PUBCOMP, the packet
// id is free and a PUBLISH reusing it is a new message [MQTT-4.3.3-12]. If
// the end of the first flow were lost in a crash, the restored "awaiting
// PUBREL" state would make the broker acknowledge the new message with
// PUBREC as a retransmission and drop it [MQTT-4.3.3-10]: an acknowledged
// message lost.
func TestCrashQoS2PacketIDReuse(t *testing.T) {
	n := startNode(t, t.TempDir(), crashSets...)
	persistentV5(t, n.Addr(), "reuse-sub", "t/#", 2)
	pub, _ := connectRaw(t, n.Addr(), packet.V5, "reuse-pub", true, 3600)
	qos2Flow(t, pub, "first")
	n.Kill()

	n.Restart()
	pub, ack := connectRaw(t, n.Addr(), packet.V5, "reuse-pub", false, 3600)
	if !ack.SessionPresent {
		t.Fatalf("publisher session not present after the crash")
	}
	qos2Flow(t, pub, "second")
	sub, _ := connectRaw(t, n.Addr(), packet.V5, "reuse-sub", false, 3600)
	got := map[string]bool{}
	for len(got) < 2 {
		p, err := sub.Read(awaitIdle)
		if err != nil {
			t.Fatalf("subscriber got %v, then: %v", got, err)
		}
		if pub, ok := p.(*packet.Publish); ok {
			got[string(pub.Payload)] = true
			ackPublish(t, sub, pub)
			continue
		}
		ackRel(t, sub, p)
	}
	if !got["first"] || !got["second"] {
		t.Fatalf("subscriber got %v, want first and second", got)
	}
}

// qos2Flow publishes payload to t/reuse at QoS 2 with packet id 5 and
// completes the flow up to PUBCOMP.
func qos2Flow(t testing.TB, c *testutil.Raw, payload string) {
	t.Helper()
	c.Send(&packet.Publish{QoS: 2, Topic: []byte("t/reuse"), PacketID: 5, Payload: []byte(payload)})
	durExpectAck(t, c, packet.PUBREC, 5, packet.Success)
	c.Send(&packet.Ack{PacketType: packet.PUBREL, PacketID: 5})
	durExpectAck(t, c, packet.PUBCOMP, 5, packet.Success)
}

// TestCrashUnsubscribe: after UNSUBACK the broker adds no new messages for
// the filter [MQTT-3.10.4-2]; a crash right after it must not bring the
// subscription back.
func TestCrashUnsubscribe(t *testing.T) {
	n := startNode(t, t.TempDir(), crashSets...)
	sub, _ := connectRaw(t, n.Addr(), packet.V5, "unsub", true, 3600)
	subscribeRaw(t, sub, "t/#", 1)
	sub.Send(&packet.Unsubscribe{PacketID: 2, Filters: []string{"t/#"}})
	if ua := sub.Expect(packet.UNSUBACK).(*packet.Unsuback); len(ua.ReasonCodes) != 1 || ua.ReasonCodes[0] != packet.Success {
		t.Fatalf("UNSUBACK %v", ua.ReasonCodes)
	}
	n.Kill()

	n.Restart()
	pub, _ := connectRaw(t, n.Addr(), packet.V5, "unsub-pub", true, 0)
	pub.Send(&packet.Publish{QoS: 1, Topic: []byte("t/1"), PacketID: 1, Payload: []byte("x")})
	durExpectAck(t, pub, packet.PUBACK, 1, packet.NoMatchingSubscribers)
}

// TestCrashCleanStartDiscard: a CONNACK to a Clean Start connect that
// discarded a stored session [MQTT-3.1.2-4] is sent only once the deletion is
// durable, so a crash right after it cannot bring the old session (and its
// subscriptions) back.
func TestCrashCleanStartDiscard(t *testing.T) {
	n := startNode(t, t.TempDir(), crashSets...)
	old, _ := connectRaw(t, n.Addr(), packet.V5, "discard", true, 3600)
	subscribeRaw(t, old, "t/#", 1)
	disconnectRaw(t, old)
	fresh, ack := connectRaw(t, n.Addr(), packet.V5, "discard", true, 0)
	if ack.SessionPresent {
		t.Fatalf("session present on a clean start")
	}
	_ = fresh
	n.Kill()

	n.Restart()
	again, ack := connectRaw(t, n.Addr(), packet.V5, "discard", false, 3600)
	if ack.SessionPresent {
		t.Fatalf("the discarded session came back after the crash")
	}
	_ = again
	pub, _ := connectRaw(t, n.Addr(), packet.V5, "discard-pub", true, 0)
	pub.Send(&packet.Publish{QoS: 1, Topic: []byte("t/1"), PacketID: 1, Payload: []byte("x")})
	durExpectAck(t, pub, packet.PUBACK, 1, packet.NoMatchingSubscribers)
}
