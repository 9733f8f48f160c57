package integration

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/pires/go-proxyproto"
)

// proxyServer runs a node whose tcp listener expects a PROXY protocol
// header, with an ACL that lets only clients from 192.0.2.0/24 and
// 2001:db8::/32 publish to proxy/#.
func proxyServer(t *testing.T) (*testutil.Server, *testutil.Clients) {
	t.Helper()
	s := testutil.RunServer(t, func(c *config.Config) {
		l := c.Listeners.TCP["default"]
		l.ProxyProtocol = true
		l.ProxyProtocolTimeout = time.Second
		c.Listeners.TCP["default"] = l
		c.Authorization.NoMatch = "deny"
		c.Authorization.Rules = []config.Rule{
			{Permission: "allow", Who: "ipaddr:192.0.2.0/24", Action: "publish", Topics: []string{"proxy/#"}},
			{Permission: "allow", Who: "ipaddr:2001:db8::/32", Action: "publish", Topics: []string{"proxy/#"}},
		}
	})
	return s, testutil.RecordClients(s)
}

// dialProxied dials addr and sends a PROXY header of version v claiming the
// connection comes from src.
func dialProxied(t *testing.T, addr string, v byte, src netip.AddrPort) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, testutil.Timeout)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	dst := netip.MustParseAddrPort("127.0.0.1:1883")
	if src.Addr().Is6() {
		dst = netip.MustParseAddrPort("[2001:db8::ffff]:1883")
	}
	h := proxyproto.HeaderProxyFromAddrs(v, net.TCPAddrFromAddrPort(src), net.TCPAddrFromAddrPort(dst))
	if _, err := h.WriteTo(conn); err != nil {
		t.Fatalf("write PROXY header: %v", err)
	}
	return conn
}

// checkProxied connects through a PROXY header from src and checks the
// address the broker recorded and the ipaddr ACL decision.
func checkProxied(t *testing.T, s *testutil.Server, rec *testutil.Clients, v byte, src string, allowed bool) {
	t.Helper()
	ap := netip.MustParseAddrPort(src)
	id := "proxied-" + ap.Addr().String()
	c := connectV5Over(t, dialProxied(t, s.TCP(), v, ap), id)
	if got := rec.Get(t, id).RemoteAddr; got != ap {
		t.Fatalf("broker saw remote address %v, want %v from the PROXY v%d header", got, ap, v)
	}
	rc := c.PublishRC(t, "proxy/x", "p")
	if allowed && rc >= 0x80 {
		t.Fatalf("publish from %v refused with %#x; the ipaddr rule should allow it", ap, rc)
	}
	if !allowed && rc != byte(packet.NotAuthorized) {
		t.Fatalf("publish from %v: reason %#x, want 0x87", ap, rc)
	}
}

// TestTransportProxyV1 sends PROXY protocol v1 text headers; the address in
// the header is the client's address for hooks and ACL (EMQX
// proxy_protocol).
func TestTransportProxyV1(t *testing.T) {
	s, rec := proxyServer(t)
	checkProxied(t, s, rec, 1, "192.0.2.10:40001", true)
	checkProxied(t, s, rec, 1, "198.51.100.7:40002", false)
	checkProxied(t, s, rec, 1, "[2001:db8::5]:40003", true)
}

// TestTransportProxyV2 sends binary PROXY protocol v2 headers.
func TestTransportProxyV2(t *testing.T) {
	s, rec := proxyServer(t)
	checkProxied(t, s, rec, 2, "192.0.2.20:50001", true)
	checkProxied(t, s, rec, 2, "203.0.113.9:50002", false)
	checkProxied(t, s, rec, 2, "[2001:db8::6]:50003", true)
}

// TestTransportProxyHeaderWithConnect sends the header and the CONNECT in
// one write, so the listener must replay the bytes that followed the header.
func TestTransportProxyHeaderWithConnect(t *testing.T) {
	s, rec := proxyServer(t)
	conn, err := net.DialTimeout("tcp", s.TCP(), testutil.Timeout)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	raw := testutil.WrapRaw(t, conn, packet.V5)
	b := []byte("PROXY TCP4 192.0.2.99 127.0.0.1 41000 1883\r\n")
	b, _ = (&packet.Connect{ProtocolVersion: packet.V5, ClientID: "one-write", CleanStart: true}).Append(b, packet.V5)
	raw.SendBytes(b)
	if ack := raw.Expect(packet.CONNACK).(*packet.Connack); ack.ReasonCode != 0 {
		t.Fatalf("CONNACK %#x", ack.ReasonCode)
	}
	if got := rec.Get(t, "one-write").RemoteAddr.String(); got != "192.0.2.99:41000" {
		t.Fatalf("remote address %s", got)
	}
}

// TestTransportProxyMissingHeader checks that a listener with
// proxy_protocol = true refuses a connection that starts without a header
// (EMQX closes it), and one whose header never comes within
// proxy_protocol_timeout.
func TestTransportProxyMissingHeader(t *testing.T) {
	s, rec := proxyServer(t)
	raw := testutil.DialRaw(t, s.TCP(), packet.V5)
	raw.Send(&packet.Connect{ProtocolVersion: packet.V5, ClientID: "no-header", CleanStart: true})
	if got := raw.ExpectClosed(testutil.Timeout); len(got) != 0 {
		t.Fatalf("got %v before close", got)
	}
	silent := testutil.DialRaw(t, s.TCP(), packet.V5)
	silent.ExpectClosed(testutil.Timeout) // proxy_protocol_timeout is 1s
	if ids := rec.IDs(); len(ids) != 0 {
		t.Fatalf("clients connected without a PROXY header: %v", ids)
	}
}
