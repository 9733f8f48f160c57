package integration

import (
	"strconv"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// psReadWindow reads n PUBLISH packets and then checks that no further
// packet arrives for a short while.
func psReadWindow(t *testing.T, c *testutil.Raw, n int) []*packet.Publish {
	t.Helper()
	got := make([]*packet.Publish, 0, n)
	for range n {
		got = append(got, psExpectPub(t, c))
	}
	psRawNone(t, c, 100*time.Millisecond)
	return got
}

// TestQoSReceiveMaximumOutbound: the server never has more than the
// client's Receive Maximum QoS 1 and QoS 2 PUBLISH packets unacknowledged
// [MQTT-3.3.4-9, 4.9.0-2]; a QoS 2 message counts until its PUBCOMP, and the
// rest are delivered, in order, as acknowledgements free the window.
func TestQoSReceiveMaximumOutbound(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	c, _ := psRaw(t, s.TCP(), packet.V5, "rm", func(p *packet.Connect) {
		p.Props.ReceiveMaximum = 2
		p.Props.Set(packet.PropReceiveMaximum)
	})
	psRawSub(t, c, 1, 0, packet.Subscription{Filter: "rm/#", QoS: 2})
	pub := psV5(t, s.TCP(), "rm-pub")
	const n = 9
	for i := range n {
		psPub(t, pub, "rm/"+strconv.Itoa(i%3), byte(1+i%2), strconv.Itoa(i))
	}
	next := 0
	check := func(ps []*packet.Publish) {
		t.Helper()
		for _, p := range ps {
			if string(p.Payload) != strconv.Itoa(next) || p.QoS != byte(1+next%2) {
				t.Fatalf("got payload %q QoS %d, want message %d", p.Payload, p.QoS, next)
			}
			next++
		}
	}
	window := psReadWindow(t, c, 2)
	check(window)
	for next < n {
		first := window[0]
		window = window[1:]
		if first.QoS == 2 {
			c.Send(&packet.Ack{PacketType: packet.PUBREC, PacketID: first.PacketID})
			psExpectAck(t, c, packet.PUBREL, first.PacketID)
			psRawNone(t, c, 100*time.Millisecond) // still in flight until PUBCOMP
			c.Send(&packet.Ack{PacketType: packet.PUBCOMP, PacketID: first.PacketID})
		} else {
			c.Send(&packet.Ack{PacketType: packet.PUBACK, PacketID: first.PacketID})
		}
		more := psReadWindow(t, c, min(1, n-next))
		check(more)
		window = append(window, more...)
	}
}

// TestQoSReceiveMaximumAdvertised: the server's Receive Maximum in CONNACK
// (3.2.2.3.3) is mqtt.max_inflight; a client with that many QoS 2 messages
// awaiting PUBREL may send no further QoS 2 PUBLISH [MQTT-3.3.4-7]: the
// server disconnects it with 0x93 Receive Maximum exceeded (3.3.4).
func TestQoSReceiveMaximumAdvertised(t *testing.T) {
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) { c.MQTT.MaxInflight = 3 })
	c, ack := psRaw(t, s.TCP(), packet.V5, "rmin")
	if !ack.Props.Has(packet.PropReceiveMaximum) || ack.Props.ReceiveMaximum != 3 {
		t.Fatalf("CONNACK Receive Maximum %d (present %v), want 3", ack.Props.ReceiveMaximum, ack.Props.Has(packet.PropReceiveMaximum))
	}
	for pid := uint16(1); pid <= 3; pid++ {
		psRawPub(c, "rmin", 2, pid, "x")
		psExpectAck(t, c, packet.PUBREC, pid)
	}
	c.Send(&packet.Ack{PacketType: packet.PUBREL, PacketID: 1}) // frees one slot
	psExpectAck(t, c, packet.PUBCOMP, 1)
	psRawPub(c, "rmin", 2, 4, "x")
	psExpectAck(t, c, packet.PUBREC, 4)
	psRawPub(c, "rmin", 2, 5, "x")
	psExpectDisconnect(t, c, packet.ReceiveMaximumExceeded)
}
