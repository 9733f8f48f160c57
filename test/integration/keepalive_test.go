package integration

import (
	"fmt"
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

// kaServerKeepAlive returns the Server Keep Alive of a CONNACK, 0 if absent.
func kaServerKeepAlive(ack *packet.Connack) uint16 {
	if !ack.Props.Has(packet.PropServerKeepAlive) {
		return 0
	}
	return ack.Props.ServerKeepAlive
}

// kaExpectClose waits (longer than expectKeepAliveClose, for keep alives
// above 2 s) for the server to close a silent connection, and checks it did
// not do so before min.
func kaExpectClose(t *testing.T, c *testutil.Raw, since time.Time, min time.Duration) {
	t.Helper()
	c.ExpectClosed(2 * testutil.Timeout)
	if d := time.Since(since); d < min {
		t.Fatalf("closed after %v, before %v", d, min)
	}
}

// TestConnectMaxKeepAlive sets mqtt.max_keepalive = 2 (mosquitto's
// max_keepalive): a v5 client asking for more, or for 0, gets Server Keep
// Alive 2 in CONNACK and is held to it [MQTT-3.2.2-21] [MQTT-3.1.2-22]; one
// asking for less keeps its own (no Server Keep Alive [MQTT-3.2.2-22]). A
// 3.1.1 or 3.1 client cannot be told another keep alive: it is accepted
// with its own, whatever it asks (as Debian's mosquitto 2.0.11 and EMQX).
func TestConnectMaxKeepAlive(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, func(c *config.Config) { c.MQTT.MaxKeepalive = 2 })
	start := time.Now()
	var capped []*testutil.Raw
	for _, ka := range []uint16{0, 3, 60} {
		c, ack := testutil.ConnectRaw(t, s.TCP(), packet.V5, &packet.Connect{ClientID: fmt.Sprintf("cap%d", ka), CleanStart: true, KeepAlive: ka})
		if got := kaServerKeepAlive(ack); got != 2 {
			t.Fatalf("keep alive %d: CONNACK Server Keep Alive %d, want 2", ka, got)
		}
		capped = append(capped, c)
	}
	own, ack := testutil.ConnectRaw(t, s.TCP(), packet.V5, &packet.Connect{ClientID: "own", CleanStart: true, KeepAlive: 1})
	if ack.Props.Has(packet.PropServerKeepAlive) {
		t.Fatalf("keep alive 1 under the maximum: CONNACK Server Keep Alive %d, want none", ack.Props.ServerKeepAlive)
	}
	for _, v := range []byte{packet.V311, packet.V31} {
		for _, ka := range []uint16{0, 2, 60} {
			c, _ := testutil.ConnectRaw(t, s.TCP(), v, &packet.Connect{ClientID: fmt.Sprintf("v3-%d-%d", v, ka), CleanStart: true, KeepAlive: ka})
			rawPingPong(t, c)
		}
	}
	kaExpectClose(t, own, start, 1300*time.Millisecond)
	for _, c := range capped {
		kaExpectClose(t, c, start, 2800*time.Millisecond) // 2 s x keepalive_multiplier 1.5
	}
}

// TestConnectMaxKeepAliveWithServerKeepAlive: with both keys set,
// mqtt.server_keepalive (imposed) wins for v5 clients. Both apply to new connections as soon
// as they are changed at run time.
func TestConnectMaxKeepAliveWithServerKeepAlive(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, func(c *config.Config) { c.MQTT.ServerKeepalive, c.MQTT.MaxKeepalive = 1, 30 })
	for _, ka := range []uint16{0, 10, 60} {
		_, ack := testutil.ConnectRaw(t, s.TCP(), packet.V5, &packet.Connect{ClientID: "both", CleanStart: true, KeepAlive: ka})
		if got := kaServerKeepAlive(ack); got != 1 {
			t.Fatalf("keep alive %d: CONNACK Server Keep Alive %d, want 1 (server_keepalive)", ka, got)
		}
	}
	cfg := s.Broker().Config()
	cfg.ServerKeepAlive, cfg.MaxKeepAlive = 0, 0
	if err := s.Broker().UpdateConfig(cfg); err != nil {
		t.Fatalf("UpdateConfig: %v", err)
	}
	testutil.ConnectRaw(t, s.TCP(), packet.V311, &packet.Connect{ClientID: "v3", CleanStart: true, KeepAlive: 60})
	if _, ack := testutil.ConnectRaw(t, s.TCP(), packet.V5, &packet.Connect{ClientID: "both", CleanStart: true}); ack.Props.Has(packet.PropServerKeepAlive) {
		t.Fatalf("CONNACK Server Keep Alive %d with both keys disabled", ack.Props.ServerKeepAlive)
	}
}
