package listener

import (
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"
)

func startTLS(t *testing.T, cfg Config, h Handler) *Listener {
	t.Helper()
	cfg.Type = TypeSSL
	return startListener(t, cfg, h)
}

func dialTLS(t *testing.T, l *Listener, cfg *tls.Config) (*tls.Conn, error) {
	t.Helper()
	d := &net.Dialer{Timeout: testTimeout}
	c, err := tls.DialWithDialer(d, "tcp", l.Addr().String(), cfg)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	return c, nil
}

func TestTLSEcho(t *testing.T) {
	pki := newPKI(t)
	rec := newRecorder()
	l := startTLS(t, Config{TLS: pki.serverTLS()}, rec.handle)
	c, err := dialTLS(t, l, pki.clientTLS(false))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	roundTrip(t, c, "secret")
	got := rec.next(t)
	if _, ok := got.conn.(*tls.Conn); !ok {
		t.Fatalf("handler conn is %T, want *tls.Conn", got.conn)
	}
	m := got.meta
	if m.Type != TypeSSL || m.TLS == nil || !m.TLS.HandshakeComplete || len(m.TLS.PeerCertificates) != 0 {
		t.Fatalf("meta = %+v", m)
	}
	if m.RemoteAddr.String() != c.LocalAddr().String() {
		t.Fatalf("RemoteAddr = %v, want %v", m.RemoteAddr, c.LocalAddr())
	}
}

func TestTLSVerifyPeerClientCert(t *testing.T) {
	pki := newPKI(t)
	rec := newRecorder()
	tc := pki.serverTLS()
	tc.VerifyPeer = true
	l := startTLS(t, Config{TLS: tc}, rec.handle)

	c, err := dialTLS(t, l, pki.clientTLS(true))
	if err != nil {
		t.Fatalf("dial with cert: %v", err)
	}
	roundTrip(t, c, "x")
	certs := rec.next(t).meta.TLS.PeerCertificates
	if len(certs) != 1 || certs[0].Subject.CommonName != "client-1" {
		t.Fatalf("peer certificates = %v", certs)
	}

	// Without FailIfNoPeerCert a client without a certificate is accepted.
	c2, err := dialTLS(t, l, pki.clientTLS(false))
	if err != nil {
		t.Fatalf("dial without cert: %v", err)
	}
	roundTrip(t, c2, "y")
	if certs := rec.next(t).meta.TLS.PeerCertificates; len(certs) != 0 {
		t.Fatalf("peer certificates = %v, want none", certs)
	}
}

func TestTLSFailIfNoPeerCert(t *testing.T) {
	pki := newPKI(t)
	rec := newRecorder()
	tc := pki.serverTLS()
	tc.VerifyPeer, tc.FailIfNoPeerCert = true, true
	l := startTLS(t, Config{TLS: tc}, rec.handle)

	// TLS 1.3 clients learn of the refusal on their first read.
	if c, err := dialTLS(t, l, pki.clientTLS(false)); err == nil {
		_, _ = c.Write([]byte("x"))
		if _, err := io.ReadFull(c, make([]byte, 1)); err == nil {
			t.Fatalf("client without certificate was served")
		}
	}
	rec.none(t, 100*time.Millisecond)
	waitFor(t, "handshake error counted", func() bool { return l.Stats().HandshakeErrors == 1 })

	c, err := dialTLS(t, l, pki.clientTLS(true))
	if err != nil {
		t.Fatalf("dial with cert: %v", err)
	}
	roundTrip(t, c, "ok")
}

func TestTLSBadHandshakeDoesNotBlock(t *testing.T) {
	pki := newPKI(t)
	// A stalled handshake does not hold up the next client: with a
	// handshake timeout far beyond the test's failure bound, a good client
	// can only be served if nothing waits for the silent one.
	patient := startTLS(t, Config{TLS: pki.serverTLS(), HandshakeTimeout: time.Hour}, echo)
	dialTCP(t, patient) // silent: never sends a ClientHello
	c, err := dialTLS(t, patient, pki.clientTLS(false))
	if err != nil {
		t.Fatalf("dial behind a stalled handshake: %v", err)
	}
	roundTrip(t, c, "fine")

	// Stalled and bad handshakes end with the handshake timeout and are
	// counted; the good connection stays.
	l := startTLS(t, Config{TLS: pki.serverTLS(), HandshakeTimeout: 500 * time.Millisecond}, echo)
	silent := dialTCP(t, l)
	garbage := dialTCP(t, l)
	if _, err := garbage.Write([]byte("CONNECT not tls\r\n\r\n")); err != nil {
		t.Fatalf("write garbage: %v", err)
	}
	c, err = dialTLS(t, l, pki.clientTLS(false))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	roundTrip(t, c, "fine")
	expectClosed(t, garbage, testTimeout)
	expectClosed(t, silent, testTimeout)
	waitFor(t, "two handshake errors, one live conn", func() bool {
		s := l.Stats()
		return s.HandshakeErrors == 2 && s.Current == 1
	})
}

func TestTLSMinVersion(t *testing.T) {
	pki := newPKI(t)
	tc := pki.serverTLS()
	tc.MinVersion = "tlsv1.3"
	l := startTLS(t, Config{TLS: tc}, echo)
	old := pki.clientTLS(false)
	old.MaxVersion = tls.VersionTLS12
	if _, err := dialTLS(t, l, old); err == nil {
		t.Fatalf("TLS 1.2 client accepted by a tlsv1.3 listener")
	}
	c, err := dialTLS(t, l, pki.clientTLS(false))
	if err != nil {
		t.Fatalf("TLS 1.3 dial: %v", err)
	}
	roundTrip(t, c, "v13")
}
