package listener

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"

	proxyproto "github.com/pires/go-proxyproto"
	"github.com/pires/go-proxyproto/tlvparse"
)

// proxyBufSize bounds the read-ahead while parsing a PROXY header: a v1
// header is at most 107 bytes; longer v2 headers are read in several reads.
const proxyBufSize = 256

// readProxy reads the PROXY v1/v2 header that must arrive within
// ProxyTimeout; a connection without one is refused, as EMQX does.
func (l *Listener) readProxy(raw net.Conn, meta *ConnMeta) (net.Conn, error) {
	br := bufio.NewReaderSize(raw, proxyBufSize)
	h, err := proxyproto.ReadHeaderTimeout(raw, br, l.cfg.ProxyTimeout)
	if err == nil && h == nil {
		err = proxyproto.ErrNoProxyProtocol
	}
	if err != nil {
		l.stats.proxyErrs.Add(1)
		l.log.Debug("proxy protocol header refused", slog.String("peername", meta.RemoteAddr.String()), slog.Any("err", err))
		return nil, fmt.Errorf("proxy header: %w", err)
	}
	applyProxyHeader(h, meta)
	return wrapProxied(raw, br, meta), nil
}

// applyProxyHeader takes the addresses of a PROXY command over TCP. LOCAL
// commands (health checks), v1 UNKNOWN and non-TCP families keep the
// socket's addresses, as EMQX (esockd) does.
func applyProxyHeader(h *proxyproto.Header, meta *ConnMeta) {
	if !h.Command.IsProxy() {
		return
	}
	if src, dst, ok := h.TCPAddrs(); ok {
		meta.RemoteAddr = addrPort(src)
		meta.LocalAddr = addrPort(dst)
	}
	tlvs, err := h.TLVs()
	if err != nil {
		return
	}
	if ssl, ok := tlvparse.FindSSL(tlvs); ok {
		meta.ProxyClientCN, _ = ssl.ClientCN()
	}
}

// wrapProxied returns a conn reporting the header's addresses. When no
// bytes were read past the header it embeds the *net.TCPConn, so that
// SyscallConn and the other TCPConn methods stay available.
func wrapProxied(raw net.Conn, br *bufio.Reader, meta *ConnMeta) net.Conn {
	remote := net.TCPAddrFromAddrPort(meta.RemoteAddr)
	local := net.TCPAddrFromAddrPort(meta.LocalAddr)
	tcp, ok := raw.(*net.TCPConn)
	if br.Buffered() == 0 && ok {
		return &proxiedTCPConn{TCPConn: tcp, remote: remote, local: local}
	}
	rest, _ := br.Peek(br.Buffered())
	return &prefixConn{Conn: raw, rest: bytes.Clone(rest), remote: remote, local: local}
}

// proxiedTCPConn is a *net.TCPConn with the PROXY header's addresses.
type proxiedTCPConn struct {
	*net.TCPConn
	remote, local net.Addr
}

func (c *proxiedTCPConn) RemoteAddr() net.Addr { return c.remote }
func (c *proxiedTCPConn) LocalAddr() net.Addr  { return c.local }

// prefixConn first returns the bytes read past the PROXY header. It does
// not expose SyscallConn: a readiness wait would miss the buffered bytes.
type prefixConn struct {
	net.Conn
	rest          []byte
	remote, local net.Addr
}

func (c *prefixConn) RemoteAddr() net.Addr { return c.remote }
func (c *prefixConn) LocalAddr() net.Addr  { return c.local }

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.rest) == 0 {
		return c.Conn.Read(p)
	}
	n := copy(p, c.rest)
	c.rest = c.rest[n:]
	if len(c.rest) == 0 {
		c.rest = nil
	}
	return n, nil
}

// CloseWrite shuts the write side of the transport, when it can (TCP), so
// a handler can half-close a proxied connection as a direct one.
func (c *prefixConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}
