package listener

import (
	"bytes"
	"crypto/tls"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	proxyproto "github.com/pires/go-proxyproto"
	"github.com/pires/go-proxyproto/tlvparse"
)

var (
	proxySrc = netip.MustParseAddrPort("203.0.113.7:40001")
	proxyDst = netip.MustParseAddrPort("198.51.100.1:1883")
)

func proxyHeader(t *testing.T, version byte, src, dst netip.AddrPort) []byte {
	t.Helper()
	h := proxyproto.HeaderProxyFromAddrs(version, net.TCPAddrFromAddrPort(src), net.TCPAddrFromAddrPort(dst))
	h.Command = proxyproto.PROXY
	b, err := h.Format()
	if err != nil {
		t.Fatalf("format header: %v", err)
	}
	return b
}

func writeAll(t *testing.T, c net.Conn, b []byte) {
	t.Helper()
	if _, err := c.Write(b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func TestProxyHeaderSetsRemoteAddr(t *testing.T) {
	v6src := netip.MustParseAddrPort("[2001:db8::7]:40002")
	v6dst := netip.MustParseAddrPort("[2001:db8::1]:1883")
	cases := []struct {
		name     string
		version  byte
		src, dst netip.AddrPort
		sameSeg  bool // data in the same write as the header
	}{
		{"v1", 1, proxySrc, proxyDst, false},
		{"v2", 2, proxySrc, proxyDst, false},
		{"v1 with data", 1, proxySrc, proxyDst, true},
		{"v2 with data", 2, proxySrc, proxyDst, true},
		{"v2 ipv6", 2, v6src, v6dst, false},
		{"v1 ipv6", 1, v6src, v6dst, true},
	}
	rec := newRecorder()
	l := startListener(t, Config{Type: TypeTCP, ProxyProtocol: true}, rec.handle)
	for _, tc := range cases {
		c := dialTCP(t, l)
		hdr := proxyHeader(t, tc.version, tc.src, tc.dst)
		got := sendProxied(t, c, rec, hdr, tc.sameSeg)
		if got.meta.RemoteAddr != tc.src || got.meta.LocalAddr != tc.dst {
			t.Fatalf("%s: meta addrs %v -> %v", tc.name, got.meta.RemoteAddr, got.meta.LocalAddr)
		}
		if got.conn.RemoteAddr().String() != tc.src.String() || got.conn.LocalAddr().String() != tc.dst.String() {
			t.Fatalf("%s: conn addrs %v -> %v", tc.name, got.conn.RemoteAddr(), got.conn.LocalAddr())
		}
		if _, ok := got.conn.(syscall.Conn); ok == tc.sameSeg {
			t.Fatalf("%s: conn %T exposes SyscallConn = %v", tc.name, got.conn, ok)
		}
	}
	if s := l.Stats(); s.ProxyErrors != 0 || s.Accepted != uint64(len(cases)) {
		t.Fatalf("stats = %+v", s)
	}
}

// sendProxied sends hdr and an MQTT-like payload, either in one write or
// after the handler has started, and checks the echo.
func sendProxied(t *testing.T, c net.Conn, rec *metaRecorder, hdr []byte, sameSeg bool) recorded {
	t.Helper()
	payload := []byte{0x10, 0x02, 0x00, 0x00}
	if !sameSeg {
		writeAll(t, c, hdr)
		got := rec.next(t)
		roundTrip(t, c, string(payload))
		return got
	}
	writeAll(t, c, append(bytes.Clone(hdr), payload...))
	buf := make([]byte, len(payload))
	if _, err := c.Read(buf); err != nil || !bytes.Equal(buf, payload) {
		t.Fatalf("echo after header = %x, %v", buf, err)
	}
	return rec.next(t)
}

func TestProxyMissingHeaderRefused(t *testing.T) {
	rec := newRecorder()
	l := startListener(t, Config{Type: TypeTCP, ProxyProtocol: true}, rec.handle)
	c := dialTCP(t, l)
	writeAll(t, c, []byte{0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00})
	expectClosed(t, c, testTimeout)
	rec.none(t, 50*time.Millisecond)
	waitFor(t, "refused conn counted and released", func() bool {
		s := l.Stats()
		return s.ProxyErrors == 1 && s.Current == 0
	})
}

func TestProxySlowHeaderTimesOut(t *testing.T) {
	rec := newRecorder()
	l := startListener(t, Config{Type: TypeTCP, ProxyProtocol: true, ProxyTimeout: 200 * time.Millisecond}, rec.handle)
	silent := dialTCP(t, l)
	partial := dialTCP(t, l)
	writeAll(t, partial, []byte("PROXY TCP4 "))
	start := time.Now()
	expectClosed(t, silent, testTimeout)
	expectClosed(t, partial, testTimeout)
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Fatalf("closed after %v, before the 200ms proxy timeout", el)
	}
	rec.none(t, 10*time.Millisecond)
	waitFor(t, "proxy errors counted", func() bool { return l.Stats().ProxyErrors == 2 })
}

func TestProxyLocalCommandKeepsSocketAddr(t *testing.T) {
	rec := newRecorder()
	l := startListener(t, Config{Type: TypeTCP, ProxyProtocol: true}, rec.handle)
	h := &proxyproto.Header{Version: 2, Command: proxyproto.LOCAL, TransportProtocol: proxyproto.UNSPEC}
	hdr, err := h.Format()
	if err != nil {
		t.Fatalf("format: %v", err)
	}
	for _, hdr := range [][]byte{hdr, []byte("PROXY UNKNOWN\r\n")} {
		c := dialTCP(t, l)
		got := sendProxied(t, c, rec, hdr, false)
		if got.meta.RemoteAddr.String() != c.LocalAddr().String() {
			t.Fatalf("header %q: RemoteAddr = %v, want socket peer %v", hdr, got.meta.RemoteAddr, c.LocalAddr())
		}
	}
}

func TestProxyV2SSLClientCN(t *testing.T) {
	rec := newRecorder()
	l := startListener(t, Config{Type: TypeTCP, ProxyProtocol: true}, rec.handle)
	h := proxyproto.HeaderProxyFromAddrs(2, net.TCPAddrFromAddrPort(proxySrc), net.TCPAddrFromAddrPort(proxyDst))
	h.Command = proxyproto.PROXY
	ssl := tlvparse.PP2SSL{Client: tlvparse.PP2_BITFIELD_CLIENT_SSL | tlvparse.PP2_BITFIELD_CLIENT_CERT_CONN,
		TLV: []proxyproto.TLV{
			{Type: proxyproto.PP2_SUBTYPE_SSL_VERSION, Value: []byte("TLSv1.3")},
			{Type: proxyproto.PP2_SUBTYPE_SSL_CN, Value: []byte("device-42")},
		}}
	tlv, err := ssl.Marshal()
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if err := h.SetTLVs([]proxyproto.TLV{tlv}); err != nil {
		t.Fatalf("set tlvs: %v", err)
	}
	hdr, err := h.Format()
	if err != nil {
		t.Fatalf("format: %v", err)
	}
	got := sendProxied(t, dialTCP(t, l), rec, hdr, false)
	if got.meta.ProxyClientCN != "device-42" || got.meta.RemoteAddr != proxySrc {
		t.Fatalf("meta = %+v", got.meta)
	}
}

func TestProxyThenTLS(t *testing.T) {
	pki := newPKI(t)
	rec := newRecorder()
	l := startListener(t, Config{Type: TypeSSL, ProxyProtocol: true, TLS: pki.serverTLS()}, rec.handle)
	raw := dialTCP(t, l)
	writeAll(t, raw, proxyHeader(t, 2, proxySrc, proxyDst))
	c := tls.Client(raw, pki.clientTLS(false))
	roundTrip(t, c, "through the proxy")
	got := rec.next(t)
	if got.meta.RemoteAddr != proxySrc || got.meta.TLS == nil || got.conn.RemoteAddr().String() != proxySrc.String() {
		t.Fatalf("meta = %+v, conn remote %v", got.meta, got.conn.RemoteAddr())
	}
}

func TestProxyCloseAbortsPending(t *testing.T) {
	rec := newRecorder()
	l := startListener(t, Config{Type: TypeTCP, ProxyProtocol: true, ProxyTimeout: time.Minute}, rec.handle)
	c := dialTCP(t, l)
	waitFor(t, "connection pending", func() bool { return l.Stats().Current == 1 })
	closeAndWait(t, l)
	expectClosed(t, c, testTimeout)
	rec.none(t, 10*time.Millisecond)
}
