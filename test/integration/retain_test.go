package integration

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// psRetained subscribes a fresh raw client of the given version to filter
// and returns the retained messages it gets: the broker sends them while
// it handles the SUBSCRIBE, so a PINGREQ sent after it is answered after
// the last of them.
func psRetained(t *testing.T, s *testutil.Server, version byte, id, filter string, qos byte) []psMsg {
	t.Helper()
	c, _ := psRaw(t, s.TCP(), version, id)
	c.Send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: filter, QoS: qos}}})
	c.Send(&packet.Pingreq{})
	return psUntilPingresp(t, c, nil)
}

// psUntilPingresp reads c until PINGRESP and returns the PUBLISH packets
// read, acknowledging those of QoS 1; each one is passed to check first
// when it is not nil.
func psUntilPingresp(t *testing.T, c *testutil.Raw, check func(*packet.Publish)) []psMsg {
	t.Helper()
	var got []psMsg
	for {
		p, err := c.Read(testutil.Timeout)
		if err != nil {
			t.Fatalf("reading up to PINGRESP: %v (after %d messages)", err, len(got))
		}
		switch p := p.(type) {
		case *packet.Pingresp:
			return got
		case *packet.Publish:
			if check != nil {
				check(p)
			}
			got = append(got, psMsg{string(p.Topic), string(p.Payload), p.QoS, p.Retain})
			if p.QoS == 1 {
				c.Send(&packet.Ack{PacketType: packet.PUBACK, PacketID: p.PacketID})
			}
		}
	}
}

func psWaitRetainedCount(t *testing.T, s *testutil.Server, want int64) {
	t.Helper()
	testutil.WaitGauge(t, "retained.count", &s.Broker().Stats().Retained, want)
}

// TestRetainStoreReplaceDelete: a retained PUBLISH replaces the topic's
// retained message [MQTT-3.3.1-5]; a new subscriber gets it with RETAIN=1
// (3.1.1 [MQTT-3.3.1-8], v5 3.3.1.3) at the lower of the stored QoS and its
// subscription's [MQTT-3.8.4-8]; a PUBLISH without RETAIN leaves it alone
// [MQTT-3.3.1-8]; an empty retained PUBLISH is forwarded normally, deletes
// it and is not stored itself [MQTT-3.3.1-6, 3.3.1-7].
func TestRetainStoreReplaceDelete(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	live := psV5(t, s.TCP(), "live")
	psSub(t, live, paho.SubscribeOptions{Topic: "r/#", QoS: 2})
	pub := psV5(t, s.TCP(), "pub")
	retain := func(p *paho.Publish) { p.Retain = true }
	psPub(t, pub, "r/a", 2, "one", retain)
	psPub(t, pub, "r/a", 1, "two", retain)
	psPub(t, pub, "r/a", 2, "not retained")
	psWaitRetainedCount(t, s, 1)
	for _, v := range psVersions {
		got := psRetained(t, s, v, "new-"+psVer(v), "r/#", 2)
		want := []psMsg{{"r/a", "two", 1, true}}
		if !slices.Equal(got, want) {
			t.Fatalf("%s subscriber got %+v, want %+v", psVer(v), got, want)
		}
	}
	if got := psRetained(t, s, packet.V5, "qos0", "r/a", 0); len(got) != 1 || got[0].qos != 0 {
		t.Fatalf("QoS 0 subscriber got %+v", got)
	}
	psPub(t, pub, "r/a", 1, "", retain)
	for _, want := range []string{"one", "two", "not retained", ""} {
		psExpectMsg(t, live, "r/a", want)
	}
	psWaitRetainedCount(t, s, 0)
	if got := psRetained(t, s, packet.V5, "after", "r/#", 1); len(got) != 0 {
		t.Fatalf("after delete: %+v", got)
	}
	psPub(t, pub, "r/b", 1, "", retain) // deleting nothing stores nothing
	psWaitRetainedCount(t, s, 0)
}

// TestRetainWildcards: retained messages are matched by wildcard filters
// at subscribe time (4.7), "a/#" including "a" itself [MQTT-4.7.1-1], but
// topics starting with '$' are not matched by a filter starting with a
// wildcard [MQTT-4.7.2-1].
func TestRetainWildcards(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	pub := psV5(t, s.TCP(), "pub")
	for _, tp := range []string{"w", "w/a", "w/b/c", "x/a", "$data/a"} {
		psPub(t, pub, tp, 1, tp, func(p *paho.Publish) { p.Retain = true })
	}
	psWaitRetainedCount(t, s, 5)
	cases := []struct {
		filter string
		want   []string
	}{
		{"#", []string{"w", "w/a", "w/b/c", "x/a"}},
		{"w/#", []string{"w", "w/a", "w/b/c"}},
		{"w/+", []string{"w/a"}},
		{"+/a", []string{"w/a", "x/a"}},
		{"+/+/c", []string{"w/b/c"}},
		{"$data/#", []string{"$data/a"}},
		{"+/#", []string{"w", "w/a", "w/b/c", "x/a"}},
		{"w/b/c", []string{"w/b/c"}},
		{"nothing", nil},
	}
	// One client, one subscription per filter, told apart by their
	// Subscription Identifiers.
	c, _ := psRaw(t, s.TCP(), packet.V5, "wc")
	for i, tc := range cases {
		c.Send(&packet.Subscribe{PacketID: uint16(i + 1), Props: packet.Properties{SubscriptionIDs: []uint32{uint32(i + 1)}},
			Subscriptions: []packet.Subscription{{Filter: tc.filter, QoS: 1}}})
	}
	c.Send(&packet.Pingreq{}) // answered after the last retained message
	got := make([][]string, len(cases))
	psUntilPingresp(t, c, func(pub *packet.Publish) {
		if !pub.Retain || len(pub.Props.SubscriptionIDs) != 1 {
			t.Fatalf("%s: RETAIN %v subscription ids %v", pub.Topic, pub.Retain, pub.Props.SubscriptionIDs)
		}
		i := pub.Props.SubscriptionIDs[0] - 1
		got[i] = append(got[i], string(pub.Topic))
	})
	for i, tc := range cases {
		slices.Sort(got[i])
		if !slices.Equal(got[i], tc.want) {
			t.Fatalf("filter %q: retained %v, want %v", tc.filter, got[i], tc.want)
		}
	}
}

// TestRetainMessageExpiry: a retained message is not delivered once its
// Message Expiry Interval has passed [MQTT-3.3.2-5]; before that it is, with
// the interval counted down [MQTT-3.3.2-6].
func TestRetainMessageExpiry(t *testing.T) {
	t.Parallel() // waits for an expiry
	s := testutil.RunServer(t, psNoStore)
	pub := psV5(t, s.TCP(), "pub")
	expiry := uint32(2)
	sent := time.Now()
	psPub(t, pub, "re/a", 1, "short", func(p *paho.Publish) {
		p.Retain, p.Properties = true, &paho.PublishProperties{MessageExpiry: &expiry}
	})
	psPub(t, pub, "re/b", 1, "forever", func(p *paho.Publish) { p.Retain = true })
	c := psV5(t, s.TCP(), "early")
	psSub(t, c, paho.SubscribeOptions{Topic: "re/a", QoS: 1})
	if testutil.InTime(t, sent, 2*time.Second, "retained message delivered before its expiry") {
		m := psExpectMsg(t, c, "re/a", "short")
		if m.Properties == nil || m.Properties.MessageExpiry == nil || *m.Properties.MessageExpiry > 2 || *m.Properties.MessageExpiry < 1 {
			t.Fatalf("Message Expiry Interval %+v, want 2 or less", m.Properties)
		}
	}
	time.Sleep(time.Until(sent.Add(2100 * time.Millisecond))) // the condition is the passing of time
	got := psRetained(t, s, packet.V5, "late", "re/#", 1)
	if len(got) != 1 || got[0].topic != "re/b" {
		t.Fatalf("after expiry: %+v, want only re/b", got)
	}
}

// TestRetainLimits: retainer.max_retained_messages caps the number of
// retained topics (replacing one still works when full) and
// retainer.max_payload_size the size of a retained payload; messages over
// either limit are still forwarded to live subscribers (EMQX retainer).
func TestRetainLimits(t *testing.T) {
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) {
		c.Retainer.MaxRetainedMessages = 2
		c.Retainer.MaxPayloadSize = 10
	})
	live := psV5(t, s.TCP(), "live")
	psSub(t, live, paho.SubscribeOptions{Topic: "lim/#", QoS: 1})
	pub := psV5(t, s.TCP(), "pub")
	retain := func(p *paho.Publish) { p.Retain = true }
	psPub(t, pub, "lim/a", 1, "a", retain)
	psPub(t, pub, "lim/b", 1, "b", retain)
	psPub(t, pub, "lim/c", 1, "c", retain)
	psPub(t, pub, "lim/a", 1, "a2", retain)
	psPub(t, pub, "lim/b", 1, "01234567890", retain)
	for _, p := range []string{"a", "b", "c", "a2", "01234567890"} {
		if m := live.Next(t); string(m.Payload) != p {
			t.Fatalf("live subscriber got %q, want %q", m.Payload, p)
		}
	}
	got := psRetained(t, s, packet.V5, "late", "lim/#", 1)
	slices.SortFunc(got, func(a, b psMsg) int { return strings.Compare(a.topic, b.topic) })
	want := []psMsg{{"lim/a", "a2", 1, true}, {"lim/b", "b", 1, true}}
	if !slices.Equal(got, want) {
		t.Fatalf("retained %+v, want %+v", got, want)
	}
}

// TestRetainExpiryInterval: retainer.msg_expiry_interval expires retained
// messages published without a Message Expiry Interval (EMQX retainer).
func TestRetainExpiryInterval(t *testing.T) {
	t.Parallel() // waits for an expiry
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) { c.Retainer.MsgExpiryInterval = 2 * time.Second })
	pub := psV5(t, s.TCP(), "pub")
	sent := time.Now()
	psPub(t, pub, "ri/a", 1, "x", func(p *paho.Publish) { p.Retain = true })
	got := psRetained(t, s, packet.V5, "early", "ri/a", 1)
	if testutil.InTime(t, sent, 2*time.Second, "retained message kept before the expiry interval") && len(got) != 1 {
		t.Fatalf("before expiry: %+v", got)
	}
	time.Sleep(time.Until(sent.Add(2100 * time.Millisecond))) // the condition is the passing of time
	if got := psRetained(t, s, packet.V5, "late", "ri/a", 1); len(got) != 0 {
		t.Fatalf("after retainer.msg_expiry_interval: %+v", got)
	}
}

// TestRetainUnavailable: with mqtt.retain_available = false CONNACK says
// Retain Available 0, a retained PUBLISH gets DISCONNECT 0x9A (3.3.1.3,
// [MQTT-3.2.2-14]), a 3.1.1 client is disconnected, and a will with Will
// Retain is refused with CONNACK 0x9A [MQTT-3.2.2-13].
func TestRetainUnavailable(t *testing.T) {
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) { c.MQTT.RetainAvailable = false })
	c, ack := psRaw(t, s.TCP(), packet.V5, "v5")
	if !ack.Props.Has(packet.PropRetainAvailable) || ack.Props.RetainAvailable != 0 {
		t.Fatalf("CONNACK Retain Available: present %v value %d", ack.Props.Has(packet.PropRetainAvailable), ack.Props.RetainAvailable)
	}
	psRawPub(c, "ru/a", 1, 1, "x", func(p *packet.Publish) { p.Retain = true })
	psExpectDisconnect(t, c, packet.RetainNotSupported)
	v3, _ := psRaw(t, s.TCP(), packet.V311, "v3")
	psRawPub(v3, "ru/a", 1, 1, "x", func(p *packet.Publish) { p.Retain = true })
	if got := v3.ExpectClosed(testutil.Timeout); len(got) != 0 {
		t.Fatalf("3.1.1 client got %v before the close", got[0].Type())
	}
	w := testutil.DialRaw(t, s.TCP(), packet.V5)
	cack := w.Connect(&packet.Connect{ClientID: "will", CleanStart: true, WillFlag: true, WillTopic: "ru/will",
		WillPayload: []byte("x"), WillRetain: true})
	if cack.ReasonCode != packet.RetainNotSupported {
		t.Fatalf("CONNACK %v, want 0x9A", cack.ReasonCode)
	}
	if n := s.Broker().Stats().Retained.Value(); n != 0 {
		t.Fatalf("retained.count = %d", n)
	}
}
