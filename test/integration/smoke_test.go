// Package integration drives real Herald nodes over real sockets with real
// MQTT clients. Test names are prefixed by the area they cover.
package integration

import (
	"testing"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/testutil"
)

func TestIntegrationSmoke(t *testing.T) {
	s := testutil.RunServer(t)
	sub, _ := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: "s", CleanStart: true})
	if _, err := sub.Subscribe(testutil.Ctx(t), &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "t/#", QoS: 1}}}); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	pub := testutil.ConnectV3(t, s.TCP(), "p")
	testutil.Wait(t, pub.Publish("t/1", 1, false, "hello"))
	if m := sub.Next(t); m.Topic != "t/1" || string(m.Payload) != "hello" {
		t.Fatalf("got %q %q", m.Topic, m.Payload)
	}
}
