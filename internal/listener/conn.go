package listener

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// ConnMeta describes an accepted connection to its Handler.
type ConnMeta struct {
	Listener string // Config.ID
	Type     Type
	// RemoteAddr is the PROXY header's source when ProxyProtocol is on
	// (and the header carries a TCP address), else the socket peer.
	RemoteAddr netip.AddrPort
	// LocalAddr is the PROXY header's destination under the same rule,
	// else the socket's local address.
	LocalAddr netip.AddrPort
	// TLS is the state after the handshake; nil for tcp and ws. Its
	// PeerCertificates serve peer_cert_as_username/clientid.
	TLS *tls.ConnectionState
	// ProxyClientCN is the client certificate CN that a TLS-terminating
	// proxy sent in a PROXY v2 PP2_SUBTYPE_SSL_CN TLV ("" if none).
	ProxyClientCN string
	// Subprotocol is the negotiated WebSocket subprotocol ("" if none or not ws).
	Subprotocol string
}

// addrPort converts a socket address, unmapping IPv4-in-IPv6.
func addrPort(a net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	if t, ok := a.(*net.TCPAddr); ok {
		ap = t.AddrPort()
	} else if a != nil {
		ap, _ = netip.ParseAddrPort(a.String())
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func (l *Listener) baseMeta(c net.Conn) ConnMeta {
	return ConnMeta{Listener: l.cfg.ID, Type: l.cfg.Type,
		RemoteAddr: addrPort(c.RemoteAddr()), LocalAddr: addrPort(c.LocalAddr())}
}

// serveRaw runs the handler on a plain TCP connection, unwrapped.
func (l *Listener) serveRaw(c *net.TCPConn) {
	defer l.release()
	l.runHandler(c, l.baseMeta(c))
}

// adopt hands a plain TCP connection to Config.Adopt.
func (l *Listener) adopt(c *net.TCPConn) {
	var once sync.Once
	l.cfg.Adopt(c, l.baseMeta(c), func() {
		once.Do(func() {
			_ = c.Close()
			l.release()
		})
	})
}

func (l *Listener) runHandler(c net.Conn, meta ConnMeta) {
	defer func() { _ = c.Close() }()
	l.handler(c, meta)
}

// serveWrapped runs the PROXY and TLS stages, then the handler (or, for
// WebSocket listeners, the HTTP upgrade which then runs the handler).
func (l *Listener) serveWrapped(raw net.Conn) {
	c, meta, ok := l.prepare(raw)
	if !ok {
		_ = raw.Close()
		l.release()
		return
	}
	if l.ws != nil {
		l.ws.hand(c, meta)
		return
	}
	defer l.release()
	l.runHandler(c, meta)
}

// prepare runs the pre-handler stages while raw is registered as pending
// (so that Close can abort it); false if a stage failed or Close came.
func (l *Listener) prepare(raw net.Conn) (net.Conn, ConnMeta, bool) {
	if !l.addPending(raw) {
		return nil, ConnMeta{}, false
	}
	c, meta, err := l.upgrade(raw)
	if !l.promote(raw) || err != nil {
		return nil, meta, false
	}
	return c, meta, true
}

func (l *Listener) upgrade(raw net.Conn) (net.Conn, ConnMeta, error) {
	c, meta := raw, l.baseMeta(raw)
	var err error
	if l.cfg.ProxyProtocol {
		if c, err = l.readProxy(raw, &meta); err != nil {
			return nil, meta, err
		}
	}
	if l.tls != nil {
		if c, err = l.handshake(c, &meta); err != nil {
			return nil, meta, err
		}
	}
	return c, meta, nil
}

// handshake runs the TLS server handshake under HandshakeTimeout.
func (l *Listener) handshake(c net.Conn, meta *ConnMeta) (net.Conn, error) {
	tc := tls.Server(c, l.tls)
	_ = c.SetDeadline(time.Now().Add(l.cfg.HandshakeTimeout))
	if err := tc.Handshake(); err != nil {
		l.stats.handshakeErrs.Add(1)
		l.log.Debug("tls handshake failed", slog.String("peername", meta.RemoteAddr.String()), slog.Any("err", err))
		return nil, fmt.Errorf("tls handshake: %w", err)
	}
	_ = c.SetDeadline(time.Time{})
	st := tc.ConnectionState()
	meta.TLS = &st
	return tc, nil
}
