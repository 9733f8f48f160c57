package integration

import (
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// TestQoSRetryIntervalV311: an unacknowledged QoS 1 message to a 3.1.1
// client is resent with DUP and the same packet id after
// mqtt.retry_interval (as EMQX does; 3.1.1 allows it). A v5 client is never
// sent it again while connected [MQTT-4.4.0-2].
func TestQoSRetryIntervalV311(t *testing.T) {
	s := testutil.RunServer(t, func(c *config.Config) { c.MQTT.RetryInterval = 500 * time.Millisecond })
	for _, v := range []byte{packet.V311, packet.V5} {
		sub := testutil.DialRaw(t, s.TCP(), v)
		if ack := sub.Connect(&packet.Connect{ClientID: "retry-sub", CleanStart: true, KeepAlive: 30}); ack.ReasonCode != 0 {
			t.Fatalf("connack %v", ack.ReasonCode)
		}
		sub.Send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "r/t", QoS: 1}}})
		sub.Expect(packet.SUBACK)
		pub := testutil.ConnectV3(t, s.TCP(), "retry-pub")
		testutil.Wait(t, pub.Publish("r/t", 1, false, "x"))
		first := sub.Expect(packet.PUBLISH).(*packet.Publish)
		if first.Dup {
			t.Fatalf("first delivery has DUP set")
		}
		wait := testutil.Timeout // 3.1.1: the resend, due after 500 ms (a failure bound)
		if v == packet.V5 {
			wait = 1500 * time.Millisecond // a window past three retry intervals
		}
		p, err := sub.Read(wait)
		if v == packet.V5 {
			if err == nil {
				t.Fatalf("v5: unexpected %v resend while connected", p.Type())
			}
		} else {
			if err != nil {
				t.Fatalf("3.1.1: no resend after retry_interval: %v", err)
			}
			again, ok := p.(*packet.Publish)
			if !ok || !again.Dup || again.PacketID != first.PacketID {
				t.Fatalf("3.1.1: resend %+v, want DUP with packet id %d", p, first.PacketID)
			}
		}
		sub.Send(&packet.Ack{PacketType: packet.PUBACK, PacketID: first.PacketID})
		sub.Send(&packet.Disconnect{})
		pub.Disconnect(50)
	}
}
