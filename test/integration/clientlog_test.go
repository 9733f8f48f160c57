package integration

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/lograte"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/herald-mqtt/herald/pkg/client"
)

// The client log: every test runs a node whose log is captured (JSON, debug
// level) and drives it with real clients over real sockets.

// TestClientLogConnectAndDisconnect: a connect and a normal DISCONNECT are
// debug lines naming the client, its address and what it asked for.
func TestClientLogConnectAndDisconnect(t *testing.T) {
	t.Parallel()
	s, logs := testutil.RunServerLogged(t, psNoStore)
	c, _ := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: "log-a", Username: "alice", UsernameFlag: true,
		KeepAlive: 30, CleanStart: true})
	peer := c.Conn.LocalAddr().String()
	logs.Wait(t, "client connected", "level", "DEBUG", "clientid", "log-a", "username", "alice", "peername", peer,
		"proto_ver", 5, "keepalive", 30, "clean_start", true, "session_present", false, "listener", "tcp:default")
	if err := c.Disconnect(&paho.Disconnect{ReasonCode: 0}); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	logs.Wait(t, "client disconnected", "level", "DEBUG", "clientid", "log-a", "peername", peer,
		"reason_code", "0x00", "reason", "normal disconnection")
}

// TestClientLogAbnormalEndings: a connection that ends without the
// client's DISCONNECT is an info line with the cause, so "why was my
// device kicked" has an answer.
func TestClientLogAbnormalEndings(t *testing.T) {
	t.Parallel()
	s, logs := testutil.RunServerLogged(t, psNoStore, func(c *config.Config) { c.MQTT.MaxPacketSize = 1024 })

	// The client goes away without DISCONNECT.
	gone, _ := psRaw(t, s.TCP(), packet.V311, "log-gone")
	peer := gone.Conn.LocalAddr().String()
	gone.Conn.Close()
	logs.Wait(t, "client connection lost", "level", "INFO", "clientid", "log-gone", "peername", peer,
		"reason", "closed by the client without DISCONNECT")

	// Kicked through the management plane.
	psRaw(t, s.TCP(), packet.V5, "log-kicked")
	if err := s.Broker().Kick("log-kicked"); err != nil {
		t.Fatalf("kick: %v", err)
	}
	logs.Wait(t, "client disconnected", "level", "INFO", "clientid", "log-kicked", "reason_code", "0x98",
		"reason", "administrative action")

	// A protocol error the server closes the connection for: 0x95.
	big, _ := psRaw(t, s.TCP(), packet.V5, "log-big")
	big.Send(&packet.Publish{Topic: []byte("t"), Payload: make([]byte, 2000)})
	big.ExpectDisconnect(packet.PacketTooLarge)
	rec := logs.Wait(t, "client protocol error", "level", "INFO", "clientid", "log-big", "reason_code", "0x95")
	if !strings.Contains(rec["reason"].(string), "mqtt.max_packet_size") {
		t.Fatalf("reason %q does not say which limit", rec["reason"])
	}

	// And 0x82: a second CONNECT.
	twice, _ := psRaw(t, s.TCP(), packet.V5, "log-twice")
	twice.Send(&packet.Connect{ProtocolVersion: packet.V5, ClientID: "log-twice"})
	twice.ExpectDisconnect(packet.ProtocolError)
	logs.Wait(t, "client protocol error", "clientid", "log-twice", "reason_code", "0x82",
		"reason", "protocol error: second CONNECT")
}

// TestClientLogKeepAliveTimeout: a client silent past 1.5 x keep alive is
// logged with 0x8D.
func TestClientLogKeepAliveTimeout(t *testing.T) {
	t.Parallel()
	s, logs := testutil.RunServerLogged(t, psNoStore)
	c := testutil.DialRaw(t, s.TCP(), packet.V5)
	if ack := c.Connect(&packet.Connect{ClientID: "log-ka", CleanStart: true, KeepAlive: 1}); ack.ReasonCode != 0 {
		t.Fatalf("CONNACK %#x", byte(ack.ReasonCode))
	}
	c.ExpectClosed(10 * time.Second)
	logs.Wait(t, "client connection lost", "level", "INFO", "clientid", "log-ka", "reason_code", "0x8d")
}

// TestClientLogTakeover: a takeover names both addresses at info; the old
// connection's end is debug (the takeover line says it all).
func TestClientLogTakeover(t *testing.T) {
	t.Parallel()
	s, logs := testutil.RunServerLogged(t, psNoStore)
	old, _ := psRaw(t, s.TCP(), packet.V5, "log-dup")
	oldPeer := old.Conn.LocalAddr().String()
	nw, _ := psRaw(t, s.TCP(), packet.V5, "log-dup")
	newPeer := nw.Conn.LocalAddr().String()
	old.ExpectDisconnect(packet.SessionTakenOver)
	logs.Wait(t, "client session taken over", "level", "INFO", "clientid", "log-dup", "peername", newPeer,
		"old_peername", oldPeer, "reason_code", "0x8e")
	logs.Wait(t, "client disconnected", "level", "DEBUG", "clientid", "log-dup", "peername", oldPeer,
		"reason_code", "0x8e", "reason", "session taken over")
}

// TestClientLogRefusals: refused CONNECTs say why; an authentication
// failure is a warning that never holds the password.
func TestClientLogRefusals(t *testing.T) {
	t.Parallel()
	s, logs := testutil.RunServerLogged(t, psNoStore, withUsers(false, plainUser("dev", "right-pw")))

	c := testutil.DialRaw(t, s.TCP(), packet.V5)
	if ack := c.Connect(login("log-auth", "dev", "wrong-pw-4711")); ack.ReasonCode != packet.BadUsernameOrPassword {
		t.Fatalf("CONNACK %#x, want 0x86", byte(ack.ReasonCode))
	}
	logs.Wait(t, "client authentication failed", "level", "WARN", "clientid", "log-auth", "username", "dev",
		"peername", c.Conn.LocalAddr().String(), "reason_code", "0x86")
	if strings.Contains(logs.String(), "wrong-pw-4711") {
		t.Fatalf("the log holds the password:\n%s", logs.String())
	}

	api := s.API(t)
	if _, err := api.Ban(testutil.Ctx(t), client.Ban{As: "clientid", Who: "log-banned"}); err != nil {
		t.Fatalf("ban: %v", err)
	}
	b := testutil.DialRaw(t, s.TCP(), packet.V5)
	if ack := b.Connect(login("log-banned", "dev", "right-pw")); ack.ReasonCode != packet.Banned {
		t.Fatalf("CONNACK %#x, want 0x8a", byte(ack.ReasonCode))
	}
	logs.Wait(t, "client connect refused", "level", "INFO", "clientid", "log-banned", "reason_code", "0x8a")

	// Not a CONNECT first: refused as a protocol error.
	p := testutil.DialRaw(t, s.TCP(), packet.V5)
	p.Send(&packet.Pingreq{})
	p.ExpectClosed(testutil.Timeout)
	logs.Wait(t, "client connect refused", "peername", p.Conn.LocalAddr().String(), "reason_code", "0x82")

	// A port probe: connects and closes (debug).
	probe, err := net.Dial("tcp", s.TCP())
	if err != nil {
		t.Fatal(err)
	}
	probePeer := probe.LocalAddr().String()
	probe.Close()
	logs.Wait(t, "connection closed before CONNECT", "level", "DEBUG", "peername", probePeer,
		"reason", "closed by the client")
}

// TestClientLogWillAndExpiry: a will published and a session expiring are
// debug lines.
func TestClientLogWillAndExpiry(t *testing.T) {
	t.Parallel()
	s, logs := testutil.RunServerLogged(t, psNoStore)
	c := testutil.DialRaw(t, s.TCP(), packet.V5)
	p := withWill(&packet.Connect{ClientID: "log-will", CleanStart: true}, "wills/log", "bye", 0, 0)
	p.Props.SessionExpiry = 1
	p.Props.Set(packet.PropSessionExpiry)
	if ack := c.Connect(p); ack.ReasonCode != 0 {
		t.Fatalf("CONNACK %#x", byte(ack.ReasonCode))
	}
	c.Conn.Close()
	logs.Wait(t, "will message published", "level", "DEBUG", "clientid", "log-will", "topic", "wills/log")
	logs.Wait(t, "session expired", "level", "DEBUG", "clientid", "log-will", "expiry_interval", 1)
}

// TestClientLogOversizeDrop: a message larger than the subscriber's
// Maximum Packet Size is dropped with an info line.
func TestClientLogOversizeDrop(t *testing.T) {
	t.Parallel()
	s, logs := testutil.RunServerLogged(t, psNoStore)
	sub := testutil.DialRaw(t, s.TCP(), packet.V5)
	p := &packet.Connect{ClientID: "log-small", CleanStart: true}
	p.Props.MaximumPacketSize = 100
	p.Props.Set(packet.PropMaximumPacketSize)
	if ack := sub.Connect(p); ack.ReasonCode != 0 {
		t.Fatalf("CONNACK %#x", byte(ack.ReasonCode))
	}
	sub.Subscribe(1, "big/#", 0)
	pub, _ := psRaw(t, s.TCP(), packet.V5, "log-pub")
	pub.Send(&packet.Publish{Topic: []byte("big/x"), Payload: make([]byte, 500)})
	logs.Wait(t, "message dropped: larger than the client's maximum packet size", "level", "INFO",
		"clientid", "log-small", "topic", "big/x", "max_packet_size", 100)
}

// TestClientLogRateLimited: a flood of one event (bad passwords) writes a
// bounded number of lines, and once the node stops a summary says how
// many were held back: passed + suppressed = attempts.
func TestClientLogRateLimited(t *testing.T) {
	t.Parallel()
	s, logs := testutil.RunServerLogged(t, psNoStore, withUsers(false, plainUser("dev", "pw")))
	const attempts = 60
	start := time.Now()
	for range attempts {
		c := testutil.DialRaw(t, s.TCP(), packet.V311)
		if ack := c.Connect(login("flood", "dev", "bad")); ack.ReasonCode != packet.V3BadUsernameOrPassword {
			t.Fatalf("CONNACK %#x, want 4", byte(ack.ReasonCode))
		}
		c.Conn.Close()
	}
	elapsed := time.Since(start)
	s.Stop(t) // the broker writes its last summaries
	passed := len(logs.Find(t, "client authentication failed"))
	bound := lograte.DefaultBurst + int(elapsed.Seconds()*lograte.DefaultRate) + 1
	if passed < lograte.DefaultBurst || passed > bound {
		t.Fatalf("%d lines for %d failures in %v, want %d..%d", passed, attempts, elapsed, lograte.DefaultBurst, bound)
	}
	sums := logs.Find(t, lograte.SummaryMsg, "suppressed_msg", "client authentication failed", "component", "broker")
	var held int
	for _, r := range sums {
		held += int(r["suppressed"].(float64))
	}
	if passed+held != attempts {
		t.Fatalf("%d lines passed + %d suppressed (summaries %v) != %d attempts", passed, held, sums, attempts)
	}
}
