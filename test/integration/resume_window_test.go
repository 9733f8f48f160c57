package integration

import (
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// TestSessionResumeWindowTrimmed: a session resumed by a connection with a
// smaller Receive Maximum gets at most that many unacknowledged PUBLISH
// packets [MQTT-3.3.4-9]; the rest follow as acknowledgements free the window.
func TestSessionResumeWindowTrimmed(t *testing.T) {
	s := testutil.RunServer(t)
	sub := testutil.DialRaw(t, s.TCP(), packet.V5)
	cp := &packet.Connect{ClientID: "trim", KeepAlive: 30}
	cp.Props.SessionExpiry = 60
	cp.Props.Set(packet.PropSessionExpiry)
	sub.Connect(cp)
	sub.Send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "trim/t", QoS: 1}}})
	sub.Expect(packet.SUBACK)
	pub := testutil.ConnectV3(t, s.TCP(), "trim-pub")
	for i := 0; i < 5; i++ {
		testutil.Wait(t, pub.Publish("trim/t", 1, false, []byte{byte('a' + i)}))
	}
	for i := 0; i < 5; i++ {
		sub.Expect(packet.PUBLISH) // received, never acknowledged
	}
	sub.Conn.Close()
	testutil.WaitGauge(t, "connections", &s.Broker().Stats().Connections, 1) // the publisher's

	again := testutil.DialRaw(t, s.TCP(), packet.V5)
	cp2 := &packet.Connect{ClientID: "trim", KeepAlive: 30}
	cp2.Props.SessionExpiry = 60
	cp2.Props.ReceiveMaximum = 2
	cp2.Props.Set(packet.PropSessionExpiry)
	cp2.Props.Set(packet.PropReceiveMaximum)
	if ack := again.Connect(cp2); !ack.SessionPresent {
		t.Fatalf("session not present")
	}
	var got []byte
	for len(got) < 5 {
		p1 := again.Expect(packet.PUBLISH).(*packet.Publish)
		p2 := again.Expect(packet.PUBLISH).(*packet.Publish)
		got = append(got, p1.Payload[0], p2.Payload[0])
		if len(got) < 5 {
			if p, err := again.Read(200 * time.Millisecond); err == nil {
				t.Fatalf("a third unacknowledged %v beyond Receive Maximum 2", p.Type())
			}
		}
		again.Send(&packet.Ack{PacketType: packet.PUBACK, PacketID: p1.PacketID})
		again.Send(&packet.Ack{PacketType: packet.PUBACK, PacketID: p2.PacketID})
		if len(got) == 4 {
			p := again.Expect(packet.PUBLISH).(*packet.Publish)
			got = append(got, p.Payload[0])
			again.Send(&packet.Ack{PacketType: packet.PUBACK, PacketID: p.PacketID})
		}
	}
	if string(got) != "abcde" {
		t.Fatalf("order after resume = %q, want abcde", got)
	}
}
