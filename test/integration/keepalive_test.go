package integration

import (
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// expectKeepAliveClose waits for the server to close a silent connection
// and checks it did not do so before min after since, a time taken before
// the client's last packet was sent (so the server's timer started later).
// A v5 client may get DISCONNECT 0x8D first (EMQX sends it); the spec asks
// for a close "as if the network had failed" [MQTT-3.1.2-22].
func expectKeepAliveClose(t *testing.T, c *testutil.Raw, since time.Time, min time.Duration) {
	t.Helper()
	got := c.ExpectClosed(testutil.Timeout)
	if d := time.Since(since); d < min {
		t.Fatalf("closed after %v, before %v", d, min)
	}
	for _, p := range got {
		if d, ok := p.(*packet.Disconnect); !ok || d.ReasonCode != packet.KeepAliveTimeout {
			t.Fatalf("unexpected %v before the keep alive close", p.Type())
		}
	}
}

// TestConnectKeepAliveTimeout leaves clients with keep alive 1 s silent: the
// server closes them after 1.5 s [MQTT-3.1.2-22] (mqtt.keepalive_multiplier).
func TestConnectKeepAliveTimeout(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	for _, v := range []byte{packet.V311, packet.V5} {
		start := time.Now()
		c, _ := testutil.ConnectRaw(t, s.TCP(), v, &packet.Connect{ClientID: "ka", CleanStart: true, KeepAlive: 1})
		expectKeepAliveClose(t, c, start, 1300*time.Millisecond)
	}
}

// TestConnectKeepAlivePing keeps a keep-alive-2 client alive for 3 s with
// PINGREQ every 500 ms, each answered by PINGRESP [MQTT-3.12.4-1]; once
// the pings stop the connection is closed [MQTT-3.1.2-22]. (Keep alive 2:
// the server waits 3 s, so a test stalled 2.5 s by a busy machine still
// pings in time.)
func TestConnectKeepAlivePing(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	c, _ := testutil.ConnectRaw(t, s.TCP(), packet.V311, &packet.Connect{ClientID: "pinger", CleanStart: true, KeepAlive: 2})
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	var last time.Time
	for range 6 {
		<-tick.C // pacing the client's pings, not waiting for a condition
		last = time.Now()
		rawPingPong(t, c)
	}
	expectKeepAliveClose(t, c, last, 2800*time.Millisecond)
}

// TestConnectServerKeepAlive sets mqtt.server_keepalive = 1: v5 clients get
// Server Keep Alive 1 in CONNACK and are held to it whatever they asked
// for [MQTT-3.2.2-21] [MQTT-3.1.2-22]; 3.1.1 clients keep their own (EMQX
// applies server_keepalive to MQTT 5 only).
func TestConnectServerKeepAlive(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, func(c *config.Config) { c.MQTT.ServerKeepalive = 1 })
	v3, _ := testutil.ConnectRaw(t, s.TCP(), packet.V311, &packet.Connect{ClientID: "v3", CleanStart: true})
	for _, ka := range []uint16{0, 60} {
		start := time.Now()
		c, ack := testutil.ConnectRaw(t, s.TCP(), packet.V5, &packet.Connect{ClientID: "v5", CleanStart: true, KeepAlive: ka})
		if !ack.Props.Has(packet.PropServerKeepAlive) || ack.Props.ServerKeepAlive != 1 {
			t.Fatalf("keep alive %d: CONNACK Server Keep Alive %v/%d, want 1", ka, ack.Props.Has(packet.PropServerKeepAlive), ack.Props.ServerKeepAlive)
		}
		expectKeepAliveClose(t, c, start, 1300*time.Millisecond)
	}
	v3.ExpectNothing(200 * time.Millisecond)
	rawPingPong(t, v3)
}
