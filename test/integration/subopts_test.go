package integration

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// TestSubOptsNoLocal: with No Local a client's own messages are not
// forwarded back to it [MQTT-3.8.3-3]; other clients' messages are, and a
// subscription without No Local gets its own messages.
func TestSubOptsNoLocal(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	c := psV5(t, s.TCP(), "nl")
	psSub(t, c, paho.SubscribeOptions{Topic: "nl/#", QoS: 1, NoLocal: true},
		paho.SubscribeOptions{Topic: "loop/#", QoS: 1})
	psPub(t, c, "nl/own", 1, "own")
	psPub(t, c, "loop/own", 1, "loop")
	psExpectMsg(t, c, "loop/own", "loop")
	other := psV5(t, s.TCP(), "other")
	psPub(t, other, "nl/other", 1, "theirs")
	psExpectMsg(t, c, "nl/other", "theirs")
	c.None(t, 200*time.Millisecond)
	psWaitMetric(t, s, "delivery.dropped.no_local", 1)
}

// TestSubOptsIgnoreLoopDeliver: mqtt.ignore_loop_deliver gives 3.1.1
// clients No Local (EMQX mqtt.ignore_loop_deliver).
func TestSubOptsIgnoreLoopDeliver(t *testing.T) {
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) { c.MQTT.IgnoreLoopDeliver = true })
	c := testutil.ConnectV3(t, s.TCP(), "v3loop")
	testutil.Wait(t, c.Subscribe("il/#", 1, nil))
	testutil.Wait(t, c.Publish("il/own", 1, false, "own"))
	other := testutil.ConnectV3(t, s.TCP(), "v3other")
	testutil.Wait(t, other.Publish("il/other", 1, false, "theirs"))
	if m := c.Next(t); m.Topic() != "il/other" {
		t.Fatalf("got %q, want only the other client's message", m.Topic())
	}
	c.None(t, 200*time.Millisecond)
}

// TestSubOptsRetainAsPublished: with Retain As Published the RETAIN flag
// of a forwarded message is the publisher's [MQTT-3.3.1-13]; without it the
// flag is 0 [MQTT-3.3.1-12], and always 0 for 3.1.1 subscribers on an
// established subscription (3.1.1 [MQTT-3.3.1-9]).
func TestSubOptsRetainAsPublished(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	c := psV5(t, s.TCP(), "rap")
	psSub(t, c, paho.SubscribeOptions{Topic: "rap/#", QoS: 1, RetainAsPublished: true})
	v3 := testutil.ConnectV3(t, s.TCP(), "rap-v3")
	testutil.Wait(t, v3.Subscribe("rap/#", 1, nil))
	plain := psV5(t, s.TCP(), "norap")
	psSub(t, plain, paho.SubscribeOptions{Topic: "rap/#", QoS: 1})
	pub := psV5(t, s.TCP(), "pub")
	for _, retain := range []bool{true, false} {
		psPub(t, pub, "rap/x", 1, "m", func(p *paho.Publish) { p.Retain = retain })
		if m := c.Next(t); m.Retain != retain {
			t.Fatalf("Retain As Published: RETAIN %v, published %v", m.Retain, retain)
		}
		if m := plain.Next(t); m.Retain {
			t.Fatalf("without Retain As Published: RETAIN 1")
		}
		if m := v3.Next(t); m.Retained() {
			t.Fatalf("3.1.1 subscriber: RETAIN 1 on a forwarded message")
		}
	}
}

// TestSubOptsRetainHandling: Retain Handling 0 sends the retained messages
// at every subscribe [MQTT-3.3.1-9, 3.8.4-4], 1 only when the subscription
// is new [MQTT-3.3.1-10], 2 never [MQTT-3.3.1-11].
func TestSubOptsRetainHandling(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	pub := psV5(t, s.TCP(), "pub")
	psPub(t, pub, "rh/a", 1, "kept", func(p *paho.Publish) { p.Retain = true })
	// Whether the retained message comes at the first and at the second
	// SUBSCRIBE, by Retain Handling.
	want := [][2]bool{{true, true}, {true, false}, {false, false}}
	for rh, sends := range want {
		c := psV5(t, s.TCP(), "rh"+strconv.Itoa(rh))
		for _, send := range sends {
			psSub(t, c, paho.SubscribeOptions{Topic: "rh/#", QoS: 1, RetainHandling: byte(rh)})
			if send {
				if m := psExpectMsg(t, c, "rh/a", "kept"); !m.Retain {
					t.Fatalf("Retain Handling %d: retained message without RETAIN", rh)
				}
			}
			c.None(t, 100*time.Millisecond)
		}
	}
}

// TestSubOptsResubscribeReplaces: a SUBSCRIBE with a filter the session
// already has replaces that subscription, options included [MQTT-3.8.4-3]:
// one delivery with the new QoS and subscription identifier, and the
// subscription count does not grow.
func TestSubOptsResubscribeReplaces(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	c := psV5(t, s.TCP(), "resub")
	id1, id2 := 1, 2
	sub := func(qos byte, id *int) {
		if _, err := c.Subscribe(testutil.Ctx(t), &paho.Subscribe{Properties: &paho.SubscribeProperties{SubscriptionIdentifier: id},
			Subscriptions: []paho.SubscribeOptions{{Topic: "rs/#", QoS: qos}}}); err != nil {
			t.Fatalf("subscribe: %v", err)
		}
	}
	sub(2, &id1)
	sub(0, &id2)
	if n := s.Broker().Stats().Subscriptions.Value(); n != 1 {
		t.Fatalf("subscriptions.count = %d after re-subscribing, want 1", n)
	}
	pub := psV5(t, s.TCP(), "pub")
	psPub(t, pub, "rs/1", 2, "x")
	m := psExpectMsg(t, c, "rs/1", "x")
	if m.QoS != 0 || m.Properties == nil || m.Properties.SubscriptionIdentifier == nil || *m.Properties.SubscriptionIdentifier != 2 {
		t.Fatalf("delivery QoS %d props %+v, want QoS 0 and subscription id 2", m.QoS, m.Properties)
	}
	c.None(t, 200*time.Millisecond)
}

// TestSubOptsSubscriptionIDs: a PUBLISH carries the Subscription
// Identifier of the subscription it matched [MQTT-3.3.4-3], retained
// messages sent at subscribe time included; overlapping subscriptions of one
// client give one delivery at the highest of their QoS [MQTT-3.3.4-2] with
// every matching subscription's identifier [MQTT-3.3.4-4].
func TestSubOptsSubscriptionIDs(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	pub := psV5(t, s.TCP(), "pub")
	psPub(t, pub, "ov/r", 1, "retained", func(p *paho.Publish) { p.Retain = true })
	c, _ := psRaw(t, s.TCP(), packet.V5, "ids")
	psRawSub(t, c, 1, 7, packet.Subscription{Filter: "ov/r", QoS: 1})
	if p := psExpectPub(t, c); !p.Retain || !slices.Equal(p.Props.SubscriptionIDs, []uint32{7}) {
		t.Fatalf("retained message at subscribe: RETAIN %v ids %v, want 1 and [7]", p.Retain, p.Props.SubscriptionIDs)
	}
	psRawSub(t, c, 2, 1, packet.Subscription{Filter: "ov/#", QoS: 0, RetainHandling: 2})
	psRawSub(t, c, 3, 2, packet.Subscription{Filter: "ov/+", QoS: 2, RetainHandling: 2})
	psRawSub(t, c, 4, 0, packet.Subscription{Filter: "ov/x", QoS: 1, RetainHandling: 2})
	psPub(t, pub, "ov/x", 2, "m")
	p := psExpectPub(t, c)
	ids := slices.Sorted(slices.Values(p.Props.SubscriptionIDs))
	if p.QoS != 2 || !slices.Equal(ids, []uint32{1, 2}) {
		t.Fatalf("overlapping subscriptions: QoS %d ids %v, want one PUBLISH at QoS 2 with ids [1 2]", p.QoS, ids)
	}
	c.Send(&packet.Ack{PacketType: packet.PUBREC, PacketID: p.PacketID})
	psExpectAck(t, c, packet.PUBREL, p.PacketID)
	c.Send(&packet.Ack{PacketType: packet.PUBCOMP, PacketID: p.PacketID})
	psRawNone(t, c, 200*time.Millisecond)
}

// TestSubOptsUnsubscribe: UNSUBACK has 0x00 for a removed subscription and
// 0x11 for a filter with none [MQTT-3.11.3-1, 3.10.4-5], and messages stop
// after it [MQTT-3.10.4-2]; 3.1.1 clients get an UNSUBACK for each
// UNSUBSCRIBE [MQTT-3.10.4-4].
func TestSubOptsUnsubscribe(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	c := psV5(t, s.TCP(), "unsub")
	psSub(t, c, paho.SubscribeOptions{Topic: "us/a", QoS: 1}, paho.SubscribeOptions{Topic: "us/b", QoS: 1})
	ack, err := c.Unsubscribe(testutil.Ctx(t), &paho.Unsubscribe{Topics: []string{"us/a", "us/none"}})
	if err != nil {
		t.Fatalf("unsubscribe: %v", err)
	}
	if !slices.Equal(ack.Reasons, []byte{0x00, 0x11}) {
		t.Fatalf("UNSUBACK codes %x, want [00 11]", ack.Reasons)
	}
	v3 := testutil.ConnectV3(t, s.TCP(), "unsub-v3")
	testutil.Wait(t, v3.Subscribe("us/a", 1, nil))
	testutil.Wait(t, v3.Unsubscribe("us/a", "us/none"))
	pub := psV5(t, s.TCP(), "pub")
	psPub(t, pub, "us/a", 1, "gone")
	psPub(t, pub, "us/b", 1, "kept")
	psExpectMsg(t, c, "us/b", "kept")
	c.None(t, 200*time.Millisecond)
	v3.None(t, 100*time.Millisecond)
	if n := s.Broker().Stats().Subscriptions.Value(); n != 1 {
		t.Fatalf("subscriptions.count = %d, want 1", n)
	}
}
