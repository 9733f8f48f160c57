package integration

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// psQoSMatrix publishes one message at every QoS to subscriptions at every
// QoS and checks the QoS each is delivered with, for every pair of protocol
// versions. want gives the delivered QoS of (publish QoS, subscription QoS).
func psQoSMatrix(t *testing.T, s *testutil.Server, want func(pub, sub byte) byte) {
	for _, pv := range psVersions {
		for _, sv := range psVersions {
			t.Run(psVer(pv)+"-to-"+psVer(sv), func(t *testing.T) {
				name := psVer(pv) + psVer(sv)
				sub := psConnect(t, s.TCP(), sv, "sub-"+name)
				for q := byte(0); q <= 2; q++ {
					sub.sub(t, fmt.Sprintf("%s/%d/+", name, q), q)
				}
				pub := psConnect(t, s.TCP(), pv, "pub-"+name)
				for sq := byte(0); sq <= 2; sq++ {
					for pq := byte(0); pq <= 2; pq++ {
						tp := fmt.Sprintf("%s/%d/%d", name, sq, pq)
						pub.pub(t, tp, pq, false, tp)
						m := sub.next(t)
						if m.topic != tp || m.payload != tp || m.qos != want(pq, sq) {
							t.Fatalf("publish QoS %d to subscription QoS %d: got %+v, want QoS %d", pq, sq, m, want(pq, sq))
						}
					}
				}
			})
		}
	}
}

// TestQoSDowngradeMatrix: a message is delivered at the lower of its QoS and
// the granted QoS of the subscription [MQTT-3.8.4-8], between 3.1.1 and 5
// clients in every direction.
func TestQoSDowngradeMatrix(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	psQoSMatrix(t, s, func(pub, sub byte) byte { return min(pub, sub) })
}

// TestQoSUpgrade: with mqtt.upgrade_qos the delivery QoS is the higher of
// the two (EMQX emqx_session:enrich_subopts with upgrade_qos = true).
func TestQoSUpgrade(t *testing.T) {
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) { c.MQTT.UpgradeQoS = true })
	psQoSMatrix(t, s, func(pub, sub byte) byte { return max(pub, sub) })
}

// TestQoSMaxQoSAllowed: with mqtt.max_qos_allowed = 1 a QoS 2 subscription
// is granted QoS 1 and CONNACK says Maximum QoS 1 [MQTT-3.2.2-9]; a QoS 2
// PUBLISH is a protocol violation answered with DISCONNECT 0x9B
// [MQTT-3.2.2-11].
func TestQoSMaxQoSAllowed(t *testing.T) {
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) { c.MQTT.MaxQoSAllowed = 1 })
	c, ack := psRaw(t, s.TCP(), packet.V5, "maxqos")
	if !ack.Props.Has(packet.PropMaximumQoS) || ack.Props.MaximumQoS != 1 {
		t.Fatalf("CONNACK Maximum QoS: present %v value %d", ack.Props.Has(packet.PropMaximumQoS), ack.Props.MaximumQoS)
	}
	sa := psRawSub(t, c, 1, 0, packet.Subscription{Filter: "mq/#", QoS: 2})
	if sa.ReasonCodes[0] != packet.GrantedQoS1 {
		t.Fatalf("SUBACK %v, want granted QoS 1", sa.ReasonCodes[0])
	}
	psRawPub(c, "mq/1", 2, 1, "x")
	psExpectDisconnect(t, c, packet.QoSNotSupported)
}

// TestQoSPacketIDs: the packet ids of a session's unacknowledged QoS 1
// deliveries are unique and non-zero [MQTT-2.2.1-3, 2.2.1-2]; an id still
// unacknowledged is never handed out again, while the ids of completed flows
// are reused once the id space wraps around [MQTT-2.2.1-4].
func TestQoSPacketIDs(t *testing.T) {
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) {
		c.MQTT.MaxInflight = 64
		c.MQTT.MaxMqueueLen = 0
	})
	c, _ := psRaw(t, s.TCP(), packet.V5, "ids")
	psRawSub(t, c, 1, 0, packet.Subscription{Filter: "ids", QoS: 1})
	const total = 65535 + 200
	go func() {
		for i := range total {
			s.Broker().Publish(&broker.Message{Topic: "ids", QoS: 1, Payload: []byte(strconv.Itoa(i))})
		}
	}()
	held := psExpectPub(t, c) // never acknowledged until the end
	if held.PacketID == 0 || string(held.Payload) != "0" {
		t.Fatalf("first delivery: id %d payload %q", held.PacketID, held.Payload)
	}
	inflight := map[uint16]bool{held.PacketID: true}
	seen := map[uint16]int{}
	var acks []byte
	for i := 1; i < total; i++ {
		p := psExpectPub(t, c)
		if p.QoS != 1 || p.PacketID == 0 || inflight[p.PacketID] {
			t.Fatalf("message %d: QoS %d packet id %d already in flight or zero", i, p.QoS, p.PacketID)
		}
		if string(p.Payload) != strconv.Itoa(i) {
			t.Fatalf("message %d: payload %q", i, p.Payload)
		}
		inflight[p.PacketID] = true
		seen[p.PacketID]++
		acks, _ = (&packet.Ack{PacketType: packet.PUBACK, PacketID: p.PacketID}).Append(acks, packet.V5)
		if len(inflight) == 64 { // the window is full: acknowledge all but the held one
			c.SendBytes(acks)
			acks = acks[:0]
			clear(inflight)
			inflight[held.PacketID] = true
		}
	}
	reused := 0
	for _, n := range seen {
		if n > 1 {
			reused++
		}
	}
	if reused == 0 {
		t.Fatalf("no packet id was reused after %d completed flows", total-1)
	}
	if seen[held.PacketID] != 0 {
		t.Fatalf("held packet id %d handed out again while unacknowledged", held.PacketID)
	}
}

// TestQoS2ExactlyOnceInbound: a QoS 2 PUBLISH retransmitted with DUP=1 and
// the same packet id before PUBREL is acknowledged again but not delivered
// again [MQTT-4.3.3-10, 4.3.3-9]; after PUBCOMP the id starts a new message
// [MQTT-4.3.3-12]. Checked for 3.1.1 and 5.
func TestQoS2ExactlyOnceInbound(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	for _, v := range psVersions {
		t.Run(psVer(v), func(t *testing.T) {
			sub := psV5(t, s.TCP(), "sub-"+psVer(v))
			psSub(t, sub, paho.SubscribeOptions{Topic: "eo/" + psVer(v), QoS: 2})
			c, _ := psRaw(t, s.TCP(), v, "pub-"+psVer(v))
			tp := "eo/" + psVer(v)
			psRawPub(c, tp, 2, 7, "first")
			psExpectAck(t, c, packet.PUBREC, 7)
			psRawPub(c, tp, 2, 7, "first", func(p *packet.Publish) { p.Dup = true })
			psExpectAck(t, c, packet.PUBREC, 7)
			psExpectMsg(t, sub, tp, "first")
			sub.None(t, 200*time.Millisecond)
			c.Send(&packet.Ack{PacketType: packet.PUBREL, PacketID: 7})
			if a := psExpectAck(t, c, packet.PUBCOMP, 7); a.ReasonCode != packet.Success {
				t.Fatalf("PUBCOMP %v", a.ReasonCode)
			}
			psRawPub(c, tp, 2, 7, "second")
			psExpectAck(t, c, packet.PUBREC, 7)
			c.Send(&packet.Ack{PacketType: packet.PUBREL, PacketID: 7})
			psExpectAck(t, c, packet.PUBCOMP, 7)
			psExpectMsg(t, sub, tp, "second")
		})
	}
	psWaitMetric(t, s, "packets.publish.inuse", 2) // EMQX counts the retransmissions there
}

// TestQoS2ExactlyOnceOutbound walks the broker's side of a QoS 2 delivery
// with a raw subscriber: PUBLISH, PUBREC -> PUBREL [MQTT-4.3.3-4], PUBCOMP
// ends it; a PUBREC for an unknown id gets PUBREL 0x92.
func TestQoS2ExactlyOnceOutbound(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	c, _ := psRaw(t, s.TCP(), packet.V5, "q2out")
	psRawSub(t, c, 1, 0, packet.Subscription{Filter: "q2", QoS: 2})
	pub := psV5(t, s.TCP(), "pub")
	psPub(t, pub, "q2", 2, "m1")
	p := psExpectPub(t, c)
	if p.QoS != 2 || p.Dup || string(p.Payload) != "m1" {
		t.Fatalf("got %+v", p)
	}
	c.Send(&packet.Ack{PacketType: packet.PUBREC, PacketID: p.PacketID})
	if rel := psExpectAck(t, c, packet.PUBREL, p.PacketID); rel.ReasonCode != packet.Success {
		t.Fatalf("PUBREL %v", rel.ReasonCode)
	}
	c.Send(&packet.Ack{PacketType: packet.PUBCOMP, PacketID: p.PacketID})
	c.Send(&packet.Ack{PacketType: packet.PUBREC, PacketID: p.PacketID + 100})
	if rel := psExpectAck(t, c, packet.PUBREL, p.PacketID+100); rel.ReasonCode != packet.PacketIdentifierNotFound {
		t.Fatalf("PUBREL for an unknown id: %v, want 0x92", rel.ReasonCode)
	}
	psWaitMetric(t, s, "messages.acked", 1)
}

// TestQoSPubrelUnknownID: a PUBREL for a packet id the server does not know
// is answered with PUBCOMP 0x92 Packet Identifier not found (v5), a plain
// PUBCOMP for 3.1.1 [MQTT-4.3.3-11].
func TestQoSPubrelUnknownID(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	for _, v := range psVersions {
		c, _ := psRaw(t, s.TCP(), v, "rel-"+psVer(v))
		c.Send(&packet.Ack{PacketType: packet.PUBREL, PacketID: 42})
		a := psExpectAck(t, c, packet.PUBCOMP, 42)
		want := packet.PacketIdentifierNotFound
		if v != packet.V5 {
			want = packet.Success
		}
		if a.ReasonCode != want {
			t.Fatalf("%s: PUBCOMP %v, want %v", psVer(v), a.ReasonCode, want)
		}
	}
	psWaitMetric(t, s, "packets.pubrel.missed", 2)
}

// TestQoSUnknownAcksIgnored: PUBACK and PUBCOMP for packet ids the server
// never used are counted as missed and otherwise ignored; the connection
// stays up and in-flight messages are unaffected.
func TestQoSUnknownAcksIgnored(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	for _, v := range psVersions {
		t.Run(psVer(v), func(t *testing.T) {
			c, _ := psRaw(t, s.TCP(), v, "acks-"+psVer(v))
			psRawSub(t, c, 1, 0, packet.Subscription{Filter: "ua/" + psVer(v), QoS: 1})
			s.Broker().Publish(&broker.Message{Topic: "ua/" + psVer(v), QoS: 1, Payload: []byte("x")})
			p := psExpectPub(t, c)
			c.Send(&packet.Ack{PacketType: packet.PUBACK, PacketID: p.PacketID + 1})
			c.Send(&packet.Ack{PacketType: packet.PUBCOMP, PacketID: p.PacketID + 2})
			c.Send(&packet.Ack{PacketType: packet.PUBCOMP, PacketID: p.PacketID}) // wrong ack for a QoS 1 message
			c.Send(&packet.Pingreq{})
			c.Expect(packet.PINGRESP)
			c.Send(&packet.Ack{PacketType: packet.PUBACK, PacketID: p.PacketID})
			c.Send(&packet.Pingreq{})
			c.Expect(packet.PINGRESP)
		})
	}
	psWaitMetric(t, s, "packets.puback.missed", 2)
	psWaitMetric(t, s, "packets.pubcomp.missed", 4)
	psWaitMetric(t, s, "messages.acked", 2)
}

// TestQoSOrderPerTopic: messages of one publisher on one topic reach each
// subscriber in the order they were published, per QoS [MQTT-4.6.0-5,
// 4.6.0-6], with pipelined publishes.
func TestQoSOrderPerTopic(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	const n = 300
	subs := make([]*testutil.V5, 3)
	for q := range subs {
		subs[q] = psV5(t, s.TCP(), "order-sub-"+strconv.Itoa(q))
		psSub(t, subs[q], paho.SubscribeOptions{Topic: "order/#", QoS: byte(q)})
	}
	for pq := byte(0); pq <= 2; pq++ {
		pub := psV5(t, s.TCP(), "order-pub-"+strconv.Itoa(int(pq)))
		tp := "order/" + strconv.Itoa(int(pq))
		for i := range n {
			p := &paho.Publish{Topic: tp, QoS: pq, Payload: []byte(strconv.Itoa(i))}
			if _, err := pub.PublishWithOptions(context.Background(), p, paho.PublishOptions{Method: paho.PublishMethod_AsyncSend}); err != nil {
				t.Fatalf("publish %d: %v", i, err)
			}
		}
		for q, sub := range subs {
			for i := range n {
				m := sub.Next(t)
				if m.Topic != tp || string(m.Payload) != strconv.Itoa(i) {
					t.Fatalf("subscriber QoS %d, publish QoS %d: message %d is %q %q", q, pq, i, m.Topic, m.Payload)
				}
			}
		}
	}
}

// TestQoSHeldAckMemory: a subscriber that never acknowledges one QoS 1
// message while acknowledging everything after it must not make the server
// keep every message it delivered since: the server's heap stays bounded
// (the in-process node's heap is measured after a GC).
func TestQoSHeldAckMemory(t *testing.T) {
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) { c.MQTT.MaxMqueueLen = 0 })
	c, _ := psRaw(t, s.TCP(), packet.V5, "held")
	psRawSub(t, c, 1, 0, packet.Subscription{Filter: "held", QoS: 1})
	s.Broker().Publish(&broker.Message{Topic: "held", QoS: 1, Payload: []byte("held")})
	psExpectPub(t, c) // never acknowledged
	before := psHeap()
	const n, size = 10000, 2048
	go func() {
		for range n {
			s.Broker().Publish(&broker.Message{Topic: "held", QoS: 1, Payload: make([]byte, size)})
		}
	}()
	var acks []byte
	for i := range n {
		p := psExpectPub(t, c)
		acks, _ = (&packet.Ack{PacketType: packet.PUBACK, PacketID: p.PacketID}).Append(acks, packet.V5)
		if i%16 == 15 || i == n-1 {
			c.SendBytes(acks)
			acks = acks[:0]
		}
	}
	psWaitMetric(t, s, "messages.acked", n)
	if grown := int64(psHeap()) - int64(before); grown > n*size/4 {
		t.Fatalf("heap grew by %d bytes after %d acknowledged messages of %d bytes", grown, n, size)
	}
}

// psHeap returns the live heap after a garbage collection.
func psHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestQoSOrderAfterReconnect: QoS 0 messages queued for an offline session
// and still queued behind a full Receive Maximum window after the client
// comes back are not overtaken by new QoS 0 messages on the same topic
// [MQTT-4.6.0-5, 4.6.0-6].
func TestQoSOrderAfterReconnect(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	opts := func(p *packet.Connect) {
		p.Props.ReceiveMaximum = 1
		p.Props.Set(packet.PropReceiveMaximum)
		psSessionExpiry(60)(p)
	}
	c, _ := psRaw(t, s.TCP(), packet.V5, "order", opts)
	psRawSub(t, c, 1, 0, packet.Subscription{Filter: "ord/#", QoS: 1})
	c.Send(&packet.Disconnect{})
	c.ExpectClosed(testutil.Timeout)
	pub := psV5(t, s.TCP(), "pub")
	psPub(t, pub, "ord/1", 1, "A")
	psPub(t, pub, "ord/1", 1, "B")
	psPub(t, pub, "ord/0", 0, "C")
	psWaitMetric(t, s, "messages.received", 3) // C is queued before the client comes back
	c, _ = psRaw(t, s.TCP(), packet.V5, "order", opts, func(p *packet.Connect) { p.CleanStart = false })
	a := psExpectPub(t, c)
	if string(a.Payload) != "A" {
		t.Fatalf("first after reconnect: %q, want A", a.Payload)
	}
	psPub(t, pub, "ord/0", 0, "D")
	psRawNone(t, c, 100*time.Millisecond) // D may not overtake C, which waits behind B
	c.Send(&packet.Ack{PacketType: packet.PUBACK, PacketID: a.PacketID})
	var got []string
	for range 3 {
		p := psExpectPub(t, c)
		got = append(got, string(p.Payload))
		if p.QoS > 0 {
			c.Send(&packet.Ack{PacketType: packet.PUBACK, PacketID: p.PacketID})
		}
	}
	if strings.Join(got, "") != "BCD" {
		t.Fatalf("after A: %v, want B C D", got)
	}
}
