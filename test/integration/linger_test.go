package integration

import (
	"fmt"
	"net"
	"testing"

	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/pires/go-proxyproto"
)

// A server that ends a connection (DISCONNECT, or a refusing CONNACK)
// half-closes it and keeps reading for a while, so that a client still
// writing packets it sent before it read the server's last one gets
// neither a broken pipe nor a reset, and reads why it was disconnected.
// The client below is such a client: it writes after the server's FIN
// (the end of what the server sends) and treats a failed write as the end,
// as Paho's Python test client does. Without the linger, the first of
// those writes reaches a closed socket, the kernel answers with a reset,
// and the next write fails.

// lingerWrites is how many packets the client writes after the server's
// FIN; from the second on, a write fails if the server's socket is closed.
const lingerWrites = 8

// lingerAfterClose reads until the server half-closes the connection (EOF)
// and returns what it sent; then it writes more packets, each of which must
// succeed (the server must still be reading), and closes.
func lingerAfterClose(t *testing.T, c *testutil.Raw, more ...packet.Packet) []packet.Packet {
	t.Helper()
	got := c.ExpectClosed(testutil.Timeout)
	lingerWrite(t, c, more...)
	return got
}

// lingerDisconnect fails unless got ends with a DISCONNECT with rc.
func lingerDisconnect(t *testing.T, got []packet.Packet, rc packet.ReasonCode) {
	t.Helper()
	if len(got) == 0 {
		t.Fatalf("no packet before the close, want DISCONNECT %v", rc)
	}
	if d, ok := got[len(got)-1].(*packet.Disconnect); !ok || d.ReasonCode != rc {
		t.Fatalf("last packet %v %+v, want DISCONNECT %v", got[len(got)-1].Type(), got[len(got)-1], rc)
	}
}

// TestLingerReceiveMaximum is Paho's test_flow_control2: a client sends
// more QoS 2 PUBLISHes than the server's Receive Maximum, gets DISCONNECT
// 0x93 [MQTT-3.3.4-9], and answers the PUBRECs it read before that with
// PUBRELs: they are read and dropped, and the client sees the DISCONNECT.
func TestLingerReceiveMaximum(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) { c.MQTT.MaxInflight = 2 })
	c, ack := psRaw(t, s.TCP(), packet.V5, "flow2")
	if ack.Props.ReceiveMaximum != 2 {
		t.Fatalf("CONNACK Receive Maximum %d, want 2", ack.Props.ReceiveMaximum)
	}
	for pid := uint16(1); pid <= 3; pid++ {
		psRawPub(c, "flow/2", 2, pid, "m")
	}
	got := c.ExpectClosed(testutil.Timeout)
	lingerDisconnect(t, got, packet.ReceiveMaximumExceeded)
	var rels []packet.Packet
	for _, p := range got {
		if a, ok := p.(*packet.Ack); ok && a.PacketType == packet.PUBREC {
			rels = append(rels, &packet.Ack{PacketType: packet.PUBREL, PacketID: a.PacketID})
		}
	}
	if len(rels) != 2 {
		t.Fatalf("got %d PUBRECs before the DISCONNECT, want 2", len(rels))
	}
	lingerWrite(t, c, rels...)
}

// lingerWrite is the write half of lingerAfterClose, for a caller that has
// read to the server's FIN itself.
func lingerWrite(t *testing.T, c *testutil.Raw, more ...packet.Packet) {
	t.Helper()
	for range lingerWrites {
		more = append(more, &packet.Pingreq{})
	}
	for i, p := range more {
		b, err := p.Append(nil, c.Version)
		if err != nil {
			t.Fatalf("encode %v: %v", p.Type(), err)
		}
		if _, err := c.Conn.Write(b); err != nil {
			t.Fatalf("write %d (%v) after the server's last packet: %v", i, p.Type(), err)
		}
	}
	_ = c.Conn.Close()
}

// TestLingerKick: a client kicked through the broker (DISCONNECT 0x98) and
// one taken over by a new connection with its client id (0x8E
// [MQTT-3.1.4-3]) can keep writing until they read the DISCONNECT.
func TestLingerKick(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, psNoStore)
	c, _ := psRaw(t, s.TCP(), packet.V5, "kicked")
	if err := s.Broker().Kick("kicked"); err != nil {
		t.Fatalf("Kick: %v", err)
	}
	lingerDisconnect(t, lingerAfterClose(t, c), packet.AdministrativeAction)
	old, _ := psRaw(t, s.TCP(), packet.V5, "twice")
	psRaw(t, s.TCP(), packet.V5, "twice")
	lingerDisconnect(t, lingerAfterClose(t, old), packet.SessionTakenOver)
}

// TestLingerRefusedConnect: a client that sends packets right behind its
// CONNECT (as pipelining clients do) and is refused (here a client id
// longer than mqtt.max_clientid_len: v5 0x85, 3.1.1 0x02) can keep writing
// until it reads the CONNACK.
func TestLingerRefusedConnect(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) { c.MQTT.MaxClientIDLen = 23 })
	want := map[byte]packet.ReasonCode{packet.V5: packet.ClientIdentifierNotValid, packet.V311: packet.V3IdentifierRejected}
	for _, v := range psVersions {
		c := testutil.DialRaw(t, s.TCP(), v)
		c.Send(&packet.Connect{ProtocolVersion: v, ClientID: "a-client-id-longer-than-23-bytes", CleanStart: true})
		got := lingerAfterClose(t, c, &packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "a"}}})
		if len(got) != 1 || got[0].(*packet.Connack).ReasonCode != want[v] {
			t.Fatalf("%s: got %+v, want one CONNACK %v", psVer(v), got, want[v])
		}
	}
}

// TestLingerTLS: over TLS the server sends close_notify after the
// DISCONNECT (the TLS half-close) and keeps reading.
func TestLingerTLS(t *testing.T) {
	t.Parallel()
	pki := testutil.NewPKI(t)
	s := testutil.RunServer(t, psNoStore, pki.UseTLS("verify_none", false))
	var conn net.Conn = dialTLS(t, s.Addr("ssl:default"), pki.ClientConfig())
	c := testutil.WrapRaw(t, conn, packet.V5)
	if ack := c.Connect(&packet.Connect{ClientID: "tls-kicked", CleanStart: true}); ack.ReasonCode != packet.Success {
		t.Fatalf("CONNACK %v", ack.ReasonCode)
	}
	if err := s.Broker().Kick("tls-kicked"); err != nil {
		t.Fatalf("Kick: %v", err)
	}
	lingerDisconnect(t, lingerAfterClose(t, c), packet.AdministrativeAction)
}

// TestLingerProxied: a connection behind a PROXY protocol header
// half-closes as a direct one, also when the CONNECT came in the header's
// segment (the listener then serves it from a wrapper holding those bytes).
func TestLingerProxied(t *testing.T) {
	t.Parallel()
	s, _ := proxyServer(t)
	for i, together := range []bool{false, true} {
		conn, err := net.DialTimeout("tcp", s.TCP(), testutil.Timeout)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		src, dst := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 4000}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1883}
		head, err := proxyproto.HeaderProxyFromAddrs(1, src, dst).Format()
		if err != nil {
			t.Fatalf("PROXY header: %v", err)
		}
		id := fmt.Sprintf("proxied-%d", i)
		connect, _ := (&packet.Connect{ProtocolVersion: packet.V5, ClientID: id, CleanStart: true}).Append(nil, packet.V5)
		c := testutil.WrapRaw(t, conn, packet.V5)
		if together {
			c.SendBytes(append(head, connect...))
		} else {
			c.SendBytes(head)
			c.SendBytes(connect)
		}
		if ack := c.Expect(packet.CONNACK).(*packet.Connack); ack.ReasonCode != packet.Success {
			t.Fatalf("CONNACK %v", ack.ReasonCode)
		}
		if err := s.Broker().Kick(id); err != nil {
			t.Fatalf("Kick: %v", err)
		}
		lingerDisconnect(t, lingerAfterClose(t, c), packet.AdministrativeAction)
	}
}
