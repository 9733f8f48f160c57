package integration

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// psMembers connects n clients named prefix0..prefixN-1, each subscribed to
// filter at QoS 1.
func psMembers(t *testing.T, s *testutil.Server, prefix, filter string, n int) []*testutil.V5 {
	t.Helper()
	ms := make([]*testutil.V5, n)
	for i := range ms {
		ms[i] = psV5(t, s.TCP(), prefix+strconv.Itoa(i))
		psSub(t, ms[i], paho.SubscribeOptions{Topic: filter, QoS: 1})
	}
	return ms
}

// psCollect gathers messages from the members until total have arrived,
// then checks that no member gets any more. It returns, for each member,
// the payloads it received, and fails on a payload received twice.
func psCollect(t *testing.T, members []*testutil.V5, total int) [][]string {
	t.Helper()
	got := make([][]string, len(members))
	seen := map[string]int{}
	n := 0
	deadline := time.After(testutil.Timeout)
	for n < total {
		progress := false
		for i, m := range members {
			select {
			case p := <-m.Msgs:
				if j, dup := seen[string(p.Payload)]; dup {
					t.Fatalf("message %q delivered to members %d and %d", p.Payload, j, i)
				}
				seen[string(p.Payload)] = i
				got[i] = append(got[i], string(p.Payload))
				n++
				progress = true
			default:
			}
		}
		if !progress {
			select {
			case <-deadline:
				t.Fatalf("%d of %d messages arrived", n, total)
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	for _, m := range members {
		m.None(t, 50*time.Millisecond)
	}
	return got
}

// psPublishN publishes n QoS 1 messages "0".."n-1" on topic.
func psPublishN(t *testing.T, pub *testutil.V5, topic string, n int) {
	t.Helper()
	for i := range n {
		psPub(t, pub, topic, 1, strconv.Itoa(i))
	}
}

// TestSharedEachMessageOnce: every message goes to exactly one member of
// each shared group, $share/<group>/ and $queue/ alike (4.8.2), and a
// client with a shared and a plain subscription gets a copy from each.
func TestSharedEachMessageOnce(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	g1 := psMembers(t, s, "g1-", "$share/g1/sh/#", 3)
	g2 := psMembers(t, s, "g2-", "$share/g2/sh/+", 2)
	q := psMembers(t, s, "q-", "$queue/sh/#", 2)
	both := psV5(t, s.TCP(), "both")
	psSub(t, both, paho.SubscribeOptions{Topic: "$share/g3/sh/#", QoS: 1}, paho.SubscribeOptions{Topic: "sh/#", QoS: 1})
	pub := psV5(t, s.TCP(), "pub")
	const n = 30
	psPublishN(t, pub, "sh/x", n)
	for name, g := range map[string][]*testutil.V5{"g1": g1, "g2": g2, "$queue": q} {
		if got := psCollect(t, g, n); len(got) != len(g) {
			t.Fatalf("group %s: %d members", name, len(got))
		}
	}
	for i := range 2 * n {
		if m := both.Next(t); m.Topic != "sh/x" {
			t.Fatalf("message %d on %q", i, m.Topic)
		}
	}
	both.None(t, 100*time.Millisecond)
}

// psStrategy starts a node with the given shared subscription strategy.
func psStrategy(t *testing.T, name string) *testutil.Server {
	return testutil.RunServer(t, psNoStore, func(c *config.Config) { c.Broker.SharedSubscriptionStrategy = name })
}

// TestSharedRoundRobin: round_robin hands the messages to the members in
// turn: equal shares, and message i and i+3 go to the same one of three.
func TestSharedRoundRobin(t *testing.T) {
	s := psStrategy(t, "round_robin")
	ms := psMembers(t, s, "m", "$share/g/rr/#", 3)
	pub := psV5(t, s.TCP(), "pub")
	const n = 30
	psPublishN(t, pub, "rr/x", n)
	got := psCollect(t, ms, n)
	for i, g := range got {
		if len(g) != n/3 {
			t.Fatalf("member %d got %d messages, want %d", i, len(g), n/3)
		}
		first, _ := strconv.Atoi(g[0])
		for k, p := range g {
			if p != strconv.Itoa(first+3*k) {
				t.Fatalf("member %d got %v, not every third message", i, g)
			}
		}
	}
}

// TestSharedRandom: random spreads the messages over every member; with 300
// messages and 3 members each share is 100 +- 8 (one standard deviation),
// so the bounds 50..150 fail by chance with probability below 1e-9.
func TestSharedRandom(t *testing.T) {
	s := psStrategy(t, "random")
	ms := psMembers(t, s, "m", "$share/g/rnd/#", 3)
	pub := psV5(t, s.TCP(), "pub")
	const n = 300
	psPublishN(t, pub, "rnd/x", n)
	for i, g := range psCollect(t, ms, n) {
		if len(g) < 50 || len(g) > 150 {
			t.Fatalf("member %d got %d of %d messages", i, len(g), n)
		}
	}
}

// TestSharedSticky: sticky keeps dispatching to the member it picked until
// that member goes away, then sticks to another one.
func TestSharedSticky(t *testing.T) {
	s := psStrategy(t, "sticky")
	ms := psMembers(t, s, "m", "$share/g/st/#", 3)
	pub := psV5(t, s.TCP(), "pub")
	const n = 20
	psPublishN(t, pub, "st/x", n)
	got := psCollect(t, ms, n)
	first := -1
	for i, g := range got {
		if len(g) == n {
			first = i
		} else if len(g) != 0 {
			t.Fatalf("messages spread over members: %v", got)
		}
	}
	if err := ms[first].Disconnect(&paho.Disconnect{}); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	rest := append(append([]*testutil.V5(nil), ms[:first]...), ms[first+1:]...)
	testutil.WaitGauge(t, "subscriptions.shared.count", &s.Broker().Stats().SharedSubscriptions, 2)
	psPublishN(t, pub, "st/x", n)
	got = psCollect(t, rest, n)
	if len(got[0]) != n && len(got[1]) != n {
		t.Fatalf("after the sticky member left: %v", got)
	}
}

// TestSharedHashClientID: hash_clientid sends all messages of one publisher
// to the same member.
func TestSharedHashClientID(t *testing.T) {
	s := psStrategy(t, "hash_clientid")
	ms := psMembers(t, s, "m", "$share/g/hc/#", 3)
	const pubs, per = 8, 5
	owner := map[string]int{}
	for p := range pubs {
		pub := psV5(t, s.TCP(), "pub"+strconv.Itoa(p))
		for i := range per {
			psPub(t, pub, "hc/"+strconv.Itoa(i), 1, fmt.Sprintf("%d-%d", p, i))
		}
	}
	for i, g := range psCollect(t, ms, pubs*per) {
		for _, payload := range g {
			pub, _, _ := strings.Cut(payload, "-")
			if j, ok := owner[pub]; ok && j != i {
				t.Fatalf("publisher %s dispatched to members %d and %d", pub, j, i)
			}
			owner[pub] = i
		}
	}
}

// TestSharedHashTopic: hash_topic sends all messages of one topic to the
// same member, and different topics over more than one member (12 topics on
// one member out of 3 happens with probability 3^-11).
func TestSharedHashTopic(t *testing.T) {
	s := psStrategy(t, "hash_topic")
	ms := psMembers(t, s, "m", "$share/g/ht/#", 3)
	pub := psV5(t, s.TCP(), "pub")
	const topics, per = 12, 3
	for k := range per {
		for tp := range topics {
			psPub(t, pub, "ht/"+strconv.Itoa(tp), 1, fmt.Sprintf("%d-%d", tp, k))
		}
	}
	owner := map[string]int{}
	used := 0
	for i, g := range psCollect(t, ms, topics*per) {
		if len(g) > 0 {
			used++
		}
		for _, payload := range g {
			tp, _, _ := strings.Cut(payload, "-")
			if j, ok := owner[tp]; ok && j != i {
				t.Fatalf("topic %s dispatched to members %d and %d", tp, j, i)
			}
			owner[tp] = i
		}
	}
	if used < 2 {
		t.Fatalf("%d topics all went to one member", topics)
	}
}

// TestSharedNoRetained: retained messages are not sent for a new shared
// subscription (4.8.2: "Retained messages are not sent to the Session when
// it first subscribes to a Shared Subscription").
func TestSharedNoRetained(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	pub := psV5(t, s.TCP(), "pub")
	psPub(t, pub, "sr/a", 1, "kept", func(p *paho.Publish) { p.Retain = true })
	c := psV5(t, s.TCP(), "member")
	psSub(t, c, paho.SubscribeOptions{Topic: "$share/g/sr/#", QoS: 1}, paho.SubscribeOptions{Topic: "$queue/sr/#", QoS: 1})
	c.None(t, 200*time.Millisecond)
}

// TestSharedNoLocalProtocolError: No Local on a shared subscription is a
// Protocol Error [MQTT-3.8.3-4]: DISCONNECT 0x82.
func TestSharedNoLocalProtocolError(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	for _, f := range []string{"$share/g/nl/#", "$queue/nl/#"} {
		c, _ := psRaw(t, s.TCP(), packet.V5, "nl")
		b, err := (&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: f, QoS: 1}}}).Append(nil, packet.V5)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		b[len(b)-1] |= 0x04 // No Local: the codec refuses to encode it on a shared filter
		c.SendBytes(b)
		psExpectDisconnect(t, c, packet.ProtocolError)
	}
}

// TestSharedDisabled: with mqtt.shared_subscription = false CONNACK says
// Shared Subscription Available 0 and a shared subscription is refused with
// 0x9E (v5) or 0x80 (3.1.1).
func TestSharedDisabled(t *testing.T) {
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) { c.MQTT.SharedSubscription = false })
	c, ack := psRaw(t, s.TCP(), packet.V5, "v5")
	if !ack.Props.Has(packet.PropSharedSubAvailable) || ack.Props.SharedSubAvailable != 0 {
		t.Fatalf("CONNACK Shared Subscription Available: present %v value %d", ack.Props.Has(packet.PropSharedSubAvailable), ack.Props.SharedSubAvailable)
	}
	sa := psRawSub(t, c, 1, 0, packet.Subscription{Filter: "$share/g/x", QoS: 1}, packet.Subscription{Filter: "$queue/x", QoS: 1},
		packet.Subscription{Filter: "x", QoS: 1})
	want := []packet.ReasonCode{packet.SharedSubsNotSupported, packet.SharedSubsNotSupported, packet.GrantedQoS1}
	for i, rc := range sa.ReasonCodes {
		if rc != want[i] {
			t.Fatalf("SUBACK codes %v, want %v", sa.ReasonCodes, want)
		}
	}
	v3, _ := psRaw(t, s.TCP(), packet.V311, "v3")
	if sa := psRawSub(t, v3, 1, 0, packet.Subscription{Filter: "$share/g/x", QoS: 1}); sa.ReasonCodes[0] != 0x80 {
		t.Fatalf("3.1.1 SUBACK %v, want 0x80", sa.ReasonCodes[0])
	}
}

// TestSharedOfflineMemberSkipped: a member whose client is offline (its
// session kept) gets no messages while another member is online; when every
// member is offline a message is queued for one of them and delivered when
// it comes back [MQTT-4.8.2-4].
func TestSharedOfflineMemberSkipped(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	expiry := uint32(60)
	persistent := func(cp *paho.Connect) {
		cp.CleanStart, cp.Properties = false, &paho.ConnectProperties{SessionExpiryInterval: &expiry}
	}
	off := psV5(t, s.TCP(), "off", persistent)
	psSub(t, off, paho.SubscribeOptions{Topic: "$share/g/of/#", QoS: 1})
	on := psMembers(t, s, "on", "$share/g/of/#", 1)[0]
	if err := off.Disconnect(&paho.Disconnect{}); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	testutil.WaitGauge(t, "connections", &s.Broker().Stats().Connections, 1)
	pub := psV5(t, s.TCP(), "pub")
	const n = 10
	psPublishN(t, pub, "of/x", n)
	psCollect(t, []*testutil.V5{on}, n)
	if err := on.Disconnect(&paho.Disconnect{}); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	testutil.WaitGauge(t, "subscriptions.shared.count", &s.Broker().Stats().SharedSubscriptions, 1)
	psPub(t, pub, "of/x", 1, "queued")
	back := psV5(t, s.TCP(), "off", persistent)
	psExpectMsg(t, back, "of/x", "queued")
	back.None(t, 100*time.Millisecond)
}
