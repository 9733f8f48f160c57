package integration

import (
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// TestLimitMountpoint: a listener's mountpoint prefixes the topics its
// clients publish (and their wills) and subscribe to, and is stripped from
// what they receive (EMQX's listeners.*.mountpoint).
func TestLimitMountpoint(t *testing.T) {
	s := testutil.RunServer(t, func(c *config.Config) {
		l := c.Listeners.TCP["default"]
		c.Listeners.TCP["plain"] = l
		l.Mountpoint = "tenant1/"
		c.Listeners.TCP["default"] = l
	})
	plain := testutil.ConnectV3(t, s.Addr("tcp:plain"), "outside")
	testutil.Wait(t, plain.Subscribe("#", 1, nil))
	inside := testutil.ConnectV3(t, s.TCP(), "inside")
	testutil.Wait(t, inside.Subscribe("in/#", 1, nil))

	testutil.Wait(t, inside.Publish("in/x", 1, false, "hello"))
	if m := plain.Next(t); m.Topic() != "tenant1/in/x" {
		t.Fatalf("outside saw %q, want tenant1/in/x", m.Topic())
	}
	if m := inside.Next(t); m.Topic() != "in/x" {
		t.Fatalf("inside saw %q, want in/x (mountpoint stripped)", m.Topic())
	}
	testutil.Wait(t, plain.Publish("tenant1/in/y", 1, false, "from outside"))
	if m := inside.Next(t); m.Topic() != "in/y" {
		t.Fatalf("inside saw %q, want in/y", m.Topic())
	}
	plain.Next(t) // its own message

	// A will of a mounted client is published under the mountpoint too.
	w := testutil.DialRaw(t, s.TCP(), packet.V311)
	w.Connect(&packet.Connect{ClientID: "will-in", CleanStart: true, KeepAlive: 30,
		WillFlag: true, WillTopic: "in/will", WillPayload: []byte("gone")})
	w.Conn.Close()
	select {
	case m := <-plain.Msgs:
		if m.Topic() != "tenant1/in/will" {
			t.Fatalf("will on %q, want tenant1/in/will", m.Topic())
		}
	case <-time.After(testutil.Timeout):
		t.Fatalf("no will")
	}
}
