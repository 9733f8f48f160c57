package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// psMaxOut sets the client's Maximum Packet Size in CONNECT.
func psMaxOut(n uint32) func(*packet.Connect) {
	return func(p *packet.Connect) {
		p.Props.MaximumPacketSize = n
		p.Props.Set(packet.PropMaximumPacketSize)
	}
}

// psPublishBytes encodes a PUBLISH whose whole packet is exactly size bytes.
func psPublishBytes(t *testing.T, version byte, topic string, qos byte, size int) []byte {
	t.Helper()
	p := &packet.Publish{Topic: []byte(topic), QoS: qos}
	if qos > 0 {
		p.PacketID = 1
	}
	p.Payload = make([]byte, size-p.Size(version))
	for p.Size(version) > size { // the Remaining Length grew a byte
		p.Payload = p.Payload[1:]
	}
	b, err := p.Append(nil, version)
	if err != nil || len(b) != size {
		t.Fatalf("encode a %d byte PUBLISH: %d bytes, %v", size, len(b), err)
	}
	return b
}

// TestPropsMaxPacketSizeInbound: the server advertises mqtt.max_packet_size
// as Maximum Packet Size in CONNACK (3.2.2.3.6); a packet of exactly that
// size is accepted, a larger one ends the connection with DISCONNECT 0x95
// Packet too large (v5, 3.2.2.3.6 and 4.13) or a plain close (3.1.1),
// whether it arrives whole or is still arriving.
func TestPropsMaxPacketSizeInbound(t *testing.T) {
	const limit = 1024
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) { c.MQTT.MaxPacketSize = limit })
	sub := psV5(t, s.TCP(), "sub")
	psSub(t, sub, paho.SubscribeOptions{Topic: "big/#"})
	for _, v := range psVersions {
		t.Run(psVer(v), func(t *testing.T) {
			c, ack := psRaw(t, s.TCP(), v, "pub-"+psVer(v))
			if v == packet.V5 && (!ack.Props.Has(packet.PropMaximumPacketSize) || ack.Props.MaximumPacketSize != limit) {
				t.Fatalf("CONNACK Maximum Packet Size %d, want %d", ack.Props.MaximumPacketSize, limit)
			}
			c.SendBytes(psPublishBytes(t, v, "big/ok", 0, limit))
			if m := sub.Next(t); m.Topic != "big/ok" {
				t.Fatalf("got %q", m.Topic)
			}
			c.SendBytes(psPublishBytes(t, v, "big/no", 0, limit+1))
			psExpectTooLarge(t, c, v)
		})
		t.Run(psVer(v)+"-streaming", func(t *testing.T) {
			c, _ := psRaw(t, s.TCP(), v, "stream-"+psVer(v))
			b := psPublishBytes(t, v, "big/huge", 0, 256<<10)
			go func() { _, _ = c.Conn.Write(b) }() // the server may close before reading it all
			psExpectTooLarge(t, c, v)
		})
	}
	sub.None(t, 100*time.Millisecond)
}

// psExpectTooLarge waits for the close that follows a packet over the
// server's maximum.
func psExpectTooLarge(t *testing.T, c *testutil.Raw, v byte) {
	t.Helper()
	if v == packet.V5 {
		psExpectDisconnect(t, c, packet.PacketTooLarge)
		return
	}
	if got := c.ExpectClosed(testutil.Timeout); len(got) != 0 {
		t.Fatalf("3.1.1 client got %v before the close", got[0].Type())
	}
}

// TestPropsMaxPacketSizeOutbound: the server sends no packet larger than
// the client's Maximum Packet Size [MQTT-3.1.2-24]: a PUBLISH that would be
// is dropped as if it had been delivered [MQTT-3.1.2-25] (a QoS 1 one does
// not hold a slot of the Receive Maximum window), and the messages around
// it are still sent; it is counted as delivery.dropped.too_large.
func TestPropsMaxPacketSizeOutbound(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	c, _ := psRaw(t, s.TCP(), packet.V5, "small", psMaxOut(64), func(p *packet.Connect) {
		p.Props.ReceiveMaximum = 1
		p.Props.Set(packet.PropReceiveMaximum)
	})
	psRawSub(t, c, 1, 0, packet.Subscription{Filter: "mo/#", QoS: 1})
	pub := psV5(t, s.TCP(), "pub")
	big := strings.Repeat("x", 100)
	for _, payload := range []string{"a", big, "b", big, "c"} {
		psPub(t, pub, "mo/t", 1, payload)
	}
	for _, want := range []string{"a", "b", "c"} {
		p := psExpectPub(t, c)
		if string(p.Payload) != want {
			t.Fatalf("got %q, want %q", p.Payload, want)
		}
		if p.Size(packet.V5) > 64 {
			t.Fatalf("PUBLISH of %d bytes", p.Size(packet.V5))
		}
		c.Send(&packet.Ack{PacketType: packet.PUBACK, PacketID: p.PacketID})
	}
	psRawNone(t, c, 100*time.Millisecond)
	psWaitMetric(t, s, "delivery.dropped.too_large", 2)
}

// TestPropsMaxPacketSizeResponses: responses that would exceed the
// client's Maximum Packet Size are sent without their Reason String
// [MQTT-3.9.2-1 (SUBACK), 3.4.2-2 (PUBACK), 3.14.2-3 (DISCONNECT)].
func TestPropsMaxPacketSizeResponses(t *testing.T) {
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) {
		c.Authorization.Rules = []config.Rule{{Permission: "deny", Who: "all", Action: "publish", Topics: []string{"deny/#"}}}
	})
	const limit = 16
	c, _ := psRaw(t, s.TCP(), packet.V5, "tiny", psMaxOut(limit))
	c.Send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "a/#/b"}}})
	sa := c.Expect(packet.SUBACK).(*packet.Suback)
	if sa.ReasonCodes[0] != packet.TopicFilterInvalid || sa.Size(packet.V5) > limit {
		t.Fatalf("SUBACK %v of %d bytes", sa.ReasonCodes, sa.Size(packet.V5))
	}
	psRawPub(c, "deny/x", 1, 2, "x")
	if a := psExpectAck(t, c, packet.PUBACK, 2); a.ReasonCode != packet.NotAuthorized || a.Size(packet.V5) > limit {
		t.Fatalf("PUBACK %v of %d bytes", a.ReasonCode, a.Size(packet.V5))
	}
	psRawPub(c, "", 0, 0, "x", psAlias(1)) // unknown alias: Protocol Error
	if d := psExpectDisconnect(t, c, packet.ProtocolError); d.Size(packet.V5) > limit {
		t.Fatalf("DISCONNECT of %d bytes", d.Size(packet.V5))
	}
}
