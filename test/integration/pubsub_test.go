package integration

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// TestPubSubTopicNames: a PUBLISH whose Topic Name has a wildcard
// [MQTT-3.3.2-2] ends the connection (v5: DISCONNECT 0x90 Topic Name
// invalid), as does an empty Topic Name without a Topic Alias
// [MQTT-4.7.3-1] (Protocol Error). Invalid Topic Filters: see
// TestPubSubMalformedFilters.
func TestPubSubTopicNames(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	for _, tp := range []string{"a/+", "a/#", "+"} {
		c, _ := psRaw(t, s.TCP(), packet.V5, "wild")
		psRawPub(c, tp, 0, 0, "x")
		psExpectDisconnect(t, c, packet.TopicNameInvalid)
	}
	c, _ := psRaw(t, s.TCP(), packet.V5, "empty")
	c.SendBytes([]byte{0x30, 0x04, 0x00, 0x00, 0x00, 'x'}) // PUBLISH, empty topic, no properties
	psExpectDisconnect(t, c, packet.ProtocolError)
	v3, _ := psRaw(t, s.TCP(), packet.V311, "wild3")
	psRawPub(v3, "a/#", 0, 0, "x")
	v3.ExpectClosed(testutil.Timeout)
}

// psBadFilters break the wildcard rules [MQTT-4.7.1-1] [MQTT-4.7.1-2] or
// the length rule [MQTT-4.7.3-1], plainly or in a shared subscription.
var psBadFilters = []string{"a/#/b", "a/b#", "a+/b", "#/a", "", "$share/g/a/#/b"}

// TestPubSubMalformedFilters: a SUBSCRIBE or UNSUBSCRIBE with a Topic
// Filter in psBadFilters. 3.1.1 and 3.1 have no code for it (SUBACK 0x80
// refuses a valid filter, UNSUBACK has no codes): it is a protocol
// violation and the server closes the connection without an answer
// [MQTT-4.8.0-1], as mosquitto does. v5 answers that filter with 0x8F Topic
// Filter invalid in SUBACK and UNSUBACK, the other filters of the packet
// are handled, and the connection stays up (as EMQX).
func TestPubSubMalformedFilters(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	for _, v := range []byte{packet.V311, packet.V31} {
		for i, f := range psBadFilters {
			id := fmt.Sprintf("mf%d-%d", v, i)
			c, _ := psRaw(t, s.TCP(), v, id)
			c.Send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "ok/a"}, {Filter: f}}})
			if got := c.ExpectClosed(testutil.Timeout); len(got) != 0 {
				t.Fatalf("%s SUBSCRIBE %q: got %v before the close, want none", psVer(v), f, got[0].Type())
			}
			c, _ = psRaw(t, s.TCP(), v, id)
			c.Send(&packet.Unsubscribe{PacketID: 2, Filters: []string{"ok/a", f}})
			if got := c.ExpectClosed(testutil.Timeout); len(got) != 0 {
				t.Fatalf("%s UNSUBSCRIBE %q: got %v before the close, want none", psVer(v), f, got[0].Type())
			}
		}
	}
	c, _ := psRaw(t, s.TCP(), packet.V5, "mf5")
	bad := []packet.ReasonCode{0, packet.TopicFilterInvalid}
	for i, f := range psBadFilters {
		pid := uint16(2*i + 1)
		sa := psRawSub(t, c, pid, 0, packet.Subscription{Filter: "ok/a"}, packet.Subscription{Filter: f})
		if !slices.Equal(sa.ReasonCodes, bad) {
			t.Fatalf("v5 SUBSCRIBE %q: SUBACK %v, want %v", f, sa.ReasonCodes, bad)
		}
		c.Send(&packet.Unsubscribe{PacketID: pid + 1, Filters: []string{"ok/a", f}})
		if ua := c.Expect(packet.UNSUBACK).(*packet.Unsuback); !slices.Equal(ua.ReasonCodes, bad) {
			t.Fatalf("v5 UNSUBSCRIBE %q: UNSUBACK %v, want %v", f, ua.ReasonCodes, bad)
		}
	}
	rawPingPong(t, c)
}

// TestPubSubWildcardsDisabled: with mqtt.wildcard_subscription = false
// CONNACK says Wildcard Subscription Available 0 and a filter with a
// wildcard gets SUBACK 0xA2; plain filters still work.
func TestPubSubWildcardsDisabled(t *testing.T) {
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) { c.MQTT.WildcardSubscription = false })
	c, ack := psRaw(t, s.TCP(), packet.V5, "nowild")
	if !ack.Props.Has(packet.PropWildcardSubAvailable) || ack.Props.WildcardSubAvailable != 0 {
		t.Fatalf("CONNACK Wildcard Subscription Available: present %v value %d",
			ack.Props.Has(packet.PropWildcardSubAvailable), ack.Props.WildcardSubAvailable)
	}
	sa := psRawSub(t, c, 1, 0, packet.Subscription{Filter: "a/+"}, packet.Subscription{Filter: "#"}, packet.Subscription{Filter: "a/b"})
	want := []packet.ReasonCode{packet.WildcardSubsNotSupported, packet.WildcardSubsNotSupported, 0}
	for i := range want {
		if sa.ReasonCodes[i] != want[i] {
			t.Fatalf("SUBACK %v, want %v", sa.ReasonCodes, want)
		}
	}
}

// TestPubSubLimits: mqtt.max_subscriptions refuses subscriptions beyond the
// limit with 0x97 Quota exceeded (replacing an existing one still works);
// mqtt.max_topic_levels refuses deeper filters (0x8F) and acknowledges
// deeper topic names with 0x90 without routing them (EMQX).
func TestPubSubLimits(t *testing.T) {
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) {
		c.MQTT.MaxSubscriptions = 2
		c.MQTT.MaxTopicLevels = 3
	})
	c, _ := psRaw(t, s.TCP(), packet.V5, "lim")
	sa := psRawSub(t, c, 1, 0, packet.Subscription{Filter: "l/1"}, packet.Subscription{Filter: "l/2"},
		packet.Subscription{Filter: "l/3"}, packet.Subscription{Filter: "l/1", QoS: 1}, packet.Subscription{Filter: "a/b/c/d"})
	want := []packet.ReasonCode{0, 0, packet.QuotaExceeded, packet.GrantedQoS1, packet.TopicFilterInvalid}
	for i := range want {
		if sa.ReasonCodes[i] != want[i] {
			t.Fatalf("SUBACK %v, want %v", sa.ReasonCodes, want)
		}
	}
	sub := psV5(t, s.TCP(), "sub")
	psSub(t, sub, paho.SubscribeOptions{Topic: "#"})
	psRawPub(c, "a/b/c/d", 1, 9, "deep")
	if a := psExpectAck(t, c, packet.PUBACK, 9); a.ReasonCode != packet.TopicNameInvalid {
		t.Fatalf("PUBACK %v, want 0x90", a.ReasonCode)
	}
	sub.None(t, 200*time.Millisecond)
}

// TestPubSubUnsubscribeShared: a shared subscription is removed by
// UNSUBSCRIBE with the same $share/ or $queue/ filter [MQTT-3.10.4-1]; the
// member stops receiving and the group's other member gets everything.
func TestPubSubUnsubscribeShared(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	ms := psMembers(t, s, "m", "$share/g/us/#", 2)
	q := psV5(t, s.TCP(), "q")
	psSub(t, q, paho.SubscribeOptions{Topic: "$queue/us/#", QoS: 1})
	for _, u := range []struct {
		c *testutil.V5
		f string
	}{{ms[0], "$share/g/us/#"}, {q, "$queue/us/#"}} {
		ack, err := u.c.Unsubscribe(testutil.Ctx(t), &paho.Unsubscribe{Topics: []string{u.f}})
		if err != nil || ack.Reasons[0] != 0 {
			t.Fatalf("unsubscribe %s: %v %v", u.f, ack, err)
		}
	}
	if n := s.Broker().Stats().SharedSubscriptions.Value(); n != 1 {
		t.Fatalf("subscriptions.shared.count = %d, want 1", n)
	}
	pub := psV5(t, s.TCP(), "pub")
	psPublishN(t, pub, "us/x", 6)
	if got := psCollect(t, ms, 6); len(got[1]) != 6 {
		t.Fatalf("remaining member got %d of 6", len(got[1]))
	}
	q.None(t, 50*time.Millisecond)
}

// TestPubSubUnsubscribeCompletesInflight: after UNSUBSCRIBE the server
// completes the QoS 1 and QoS 2 deliveries it had started [MQTT-3.10.4-3]:
// the in-flight messages are acknowledged normally and nothing new comes.
func TestPubSubUnsubscribeCompletesInflight(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	c, _ := psRaw(t, s.TCP(), packet.V5, "inflight")
	psRawSub(t, c, 1, 0, packet.Subscription{Filter: "uc/#", QoS: 2})
	pub := psV5(t, s.TCP(), "pub")
	psPub(t, pub, "uc/1", 1, "one")
	psPub(t, pub, "uc/2", 2, "two")
	p1, p2 := psExpectPub(t, c), psExpectPub(t, c)
	c.Send(&packet.Unsubscribe{PacketID: 2, Filters: []string{"uc/#"}})
	c.Expect(packet.UNSUBACK)
	psPub(t, pub, "uc/3", 1, "three")
	c.Send(&packet.Ack{PacketType: packet.PUBACK, PacketID: p1.PacketID})
	c.Send(&packet.Ack{PacketType: packet.PUBREC, PacketID: p2.PacketID})
	psExpectAck(t, c, packet.PUBREL, p2.PacketID)
	c.Send(&packet.Ack{PacketType: packet.PUBCOMP, PacketID: p2.PacketID})
	psRawNone(t, c, 200*time.Millisecond)
	psWaitMetric(t, s, "messages.acked", 2)
}

// TestPubSubPayloads: payloads of every size up to the limits, empty and
// binary ones included, arrive byte for byte at 3.1.1 and 5 subscribers.
func TestPubSubPayloads(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	subs := map[byte]*psClient{}
	for _, v := range psVersions {
		subs[v] = psConnect(t, s.TCP(), v, "sub-"+psVer(v))
		subs[v].sub(t, "pl/#", 1)
	}
	pub := psV5(t, s.TCP(), "pub")
	bin := make([]byte, 256)
	for i := range bin {
		bin[i] = byte(i)
	}
	for _, payload := range []string{"", string(bin), strings.Repeat("z", 100_000), "ünïcødé"} {
		psPub(t, pub, "pl/x", 1, payload)
		for v, c := range subs {
			if m := c.next(t); m.payload != payload {
				t.Fatalf("%s: payload of %d bytes arrived as %d bytes", psVer(v), len(payload), len(m.payload))
			}
		}
	}
}
