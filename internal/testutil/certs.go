package testutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/config"
)

// PKI is a throwaway certificate authority for TLS tests: a CA and a server
// certificate for 127.0.0.1/localhost, written as PEM files to a temp dir,
// plus client certificates on demand.
type PKI struct {
	Dir      string
	CAFile   string // PEM CA certificate
	CertFile string // PEM server certificate
	KeyFile  string // PEM server key
	Pool     *x509.CertPool
	ca       *x509.Certificate
	caKey    *ecdsa.PrivateKey
}

// NewPKI creates a CA and a server certificate in t.TempDir().
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	p := &PKI{Dir: t.TempDir(), Pool: x509.NewCertPool()}
	tmpl := certTemplate(pkix.Name{CommonName: "Herald Test CA"})
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	der, key := issue(t, tmpl, nil, nil)
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse CA: %v", err)
	}
	p.ca, p.caKey = ca, key
	p.Pool.AddCert(ca)
	p.CAFile = filepath.Join(p.Dir, "ca.pem")
	writePEM(t, p.CAFile, "CERTIFICATE", der)
	p.CertFile, p.KeyFile = p.writePair(t, "server", p.serverTemplate())
	return p
}

func (p *PKI) serverTemplate() *x509.Certificate {
	tmpl := certTemplate(pkix.Name{CommonName: "127.0.0.1"})
	tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	tmpl.DNSNames = []string{"localhost"}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	return tmpl
}

// ClientCert issues a client certificate for subject signed by the CA.
func (p *PKI) ClientCert(t testing.TB, subject pkix.Name) tls.Certificate {
	t.Helper()
	return p.clientCert(t, subject, p.ca, p.caKey)
}

// ForeignClientCert issues a client certificate signed by a CA the server
// does not trust.
func ForeignClientCert(t testing.TB, subject pkix.Name) tls.Certificate {
	t.Helper()
	tmpl := certTemplate(pkix.Name{CommonName: "Untrusted CA"})
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign
	der, key := issue(t, tmpl, nil, nil)
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse CA: %v", err)
	}
	return (&PKI{}).clientCert(t, subject, ca, key)
}

func (p *PKI) clientCert(t testing.TB, subject pkix.Name, ca *x509.Certificate, caKey *ecdsa.PrivateKey) tls.Certificate {
	t.Helper()
	tmpl := certTemplate(subject)
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	der, key := issue(t, tmpl, ca, caKey)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// ClientFiles issues a client certificate and writes it and its key as PEM
// files (for command-line clients); it returns their paths.
func (p *PKI) ClientFiles(t testing.TB, name string, subject pkix.Name) (certFile, keyFile string) {
	t.Helper()
	tmpl := certTemplate(subject)
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	return p.writePair(t, name, tmpl)
}

// ClientConfig is a TLS client configuration trusting the CA and
// presenting cert when given (anonymous otherwise). The certificate is sent
// even when the server's acceptable CAs do not list its issuer.
func (p *PKI) ClientConfig(cert ...tls.Certificate) *tls.Config {
	c := &tls.Config{RootCAs: p.Pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	if len(cert) > 0 {
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert[0], nil }
	}
	return c
}

// UseTLS returns a RunServer mutator that enables the default ssl and wss
// listeners with the PKI's server certificate. verify is
// ssl_options.verify ("verify_none" or "verify_peer").
func (p *PKI) UseTLS(verify string, failIfNoPeerCert bool) func(*config.Config) {
	return func(c *config.Config) {
		for _, m := range []map[string]config.Listener{c.Listeners.SSL, c.Listeners.WSS} {
			l := m["default"]
			l.SSLOptions = config.SSLOptions{CertFile: p.CertFile, KeyFile: p.KeyFile, CACertFile: p.CAFile,
				Verify: verify, FailIfNoPeerCert: failIfNoPeerCert}
			m["default"] = l
		}
	}
}

// UseAPITLS returns a RunServer mutator that enables the HTTPS API
// listener (dashboard.listeners.https) on 127.0.0.1 port 0 with the PKI's
// server certificate.
func (p *PKI) UseAPITLS() func(*config.Config) {
	return func(c *config.Config) {
		l := &c.Dashboard.Listeners.HTTPS
		l.Bind = "127.0.0.1:0"
		l.SSLOptions = config.DashboardSSL{CertFile: p.CertFile, KeyFile: p.KeyFile}
	}
}

func (p *PKI) writePair(t testing.TB, name string, tmpl *x509.Certificate) (certFile, keyFile string) {
	t.Helper()
	der, key := issue(t, tmpl, p.ca, p.caKey)
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatalf("marshal key: %v", err)
	}
	certFile, keyFile = filepath.Join(p.Dir, name+".pem"), filepath.Join(p.Dir, name+"-key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", kb)
	return certFile, keyFile
}

func certTemplate(subject pkix.Name) *x509.Certificate {
	sn, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return &x509.Certificate{
		SerialNumber: sn,
		Subject:      subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
}

// issue creates a key and a certificate from tmpl signed by parent (self
// signed when parent is nil).
func issue(t testing.TB, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatalf("create certificate: %v", err)
	}
	return der, key
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}
