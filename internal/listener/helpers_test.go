package listener

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testTimeout bounds every wait for an event: a failure bound, generous
// because the machine may be shared, never a duration under test.
const testTimeout = 30 * time.Second

// startListener creates and starts a listener on 127.0.0.1:0; cleanup
// closes it and waits for its handlers.
func startListener(t *testing.T, cfg Config, h Handler) *Listener {
	t.Helper()
	if cfg.Bind == "" {
		cfg.Bind = "127.0.0.1:0"
	}
	l, err := New(cfg, h)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := l.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { closeAndWait(t, l) })
	return l
}

func closeAndWait(t *testing.T, l *Listener) {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := l.Wait(ctx); err != nil {
		t.Errorf("Wait: %v", err)
	}
}

// echo copies everything read back to the writer.
func echo(conn net.Conn, _ ConnMeta) { _, _ = io.Copy(conn, conn) }

// metaRecorder is a Handler that reports each connection, then echoes.
type metaRecorder struct {
	ch chan recorded
}

type recorded struct {
	conn net.Conn
	meta ConnMeta
}

func newRecorder() *metaRecorder { return &metaRecorder{ch: make(chan recorded, 64)} }

func (r *metaRecorder) handle(conn net.Conn, meta ConnMeta) {
	r.ch <- recorded{conn, meta}
	echo(conn, meta)
}

func (r *metaRecorder) next(t *testing.T) recorded {
	t.Helper()
	select {
	case rec := <-r.ch:
		return rec
	case <-time.After(testTimeout):
		t.Fatalf("handler not called within %v", testTimeout)
		return recorded{}
	}
}

func (r *metaRecorder) none(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case rec := <-r.ch:
		t.Fatalf("handler unexpectedly called for %v", rec.meta.RemoteAddr)
	case <-time.After(within):
	}
}

func dialTCP(t *testing.T, l *Listener) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", l.Addr().String(), testTimeout)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	return c
}

// roundTrip writes msg and expects it echoed back.
func roundTrip(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("read echo: %v", err)
	}
	if string(buf) != msg {
		t.Fatalf("echo = %q, want %q", buf, msg)
	}
}

// expectClosed fails unless the peer closes c within the deadline.
func expectClosed(t *testing.T, c net.Conn, within time.Duration) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(within))
	buf := make([]byte, 64)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("conn not closed by server within %v", within)
		}
		return
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testPKI is a CA with a server and a client certificate, as PEM files.
type testPKI struct {
	caFile, certFile, keyFile string
	pool                      *x509.CertPool
	client                    tls.Certificate
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, caCert := genCert(t, "Herald Test CA", nil, nil)
	p := &testPKI{pool: x509.NewCertPool()}
	p.pool.AddCert(caCert)
	p.caFile = writePEM(t, dir, "ca.pem", "CERTIFICATE", caCert.Raw)
	srvKey, srvCert := genCert(t, "localhost", caCert, caKey)
	p.certFile = writePEM(t, dir, "server.pem", "CERTIFICATE", srvCert.Raw)
	p.keyFile = writePEM(t, dir, "server.key", "PRIVATE KEY", marshalKey(t, srvKey))
	cliKey, cliCert := genCert(t, "client-1", caCert, caKey)
	p.client = tls.Certificate{Certificate: [][]byte{cliCert.Raw}, PrivateKey: cliKey}
	return p
}

func (p *testPKI) serverTLS() *TLSConfig {
	return &TLSConfig{CertFile: p.certFile, KeyFile: p.keyFile, CACertFile: p.caFile}
}

func (p *testPKI) clientTLS(withCert bool) *tls.Config {
	cfg := &tls.Config{RootCAs: p.pool, ServerName: "localhost"}
	if withCert {
		cfg.Certificates = []tls.Certificate{p.client}
	}
	return cfg
}

// genCert makes a certificate for cn, self-signed when parent is nil.
func genCert(t *testing.T, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:     []string{cn},
	}
	signer, signerKey := tmpl, key
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	} else {
		signer, signerKey = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatalf("create cert: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse cert: %v", err)
	}
	return key, cert
}

func marshalKey(t *testing.T, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatalf("marshal key: %v", err)
	}
	return der
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
	return path
}
