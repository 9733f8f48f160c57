package listener

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"strings"
	"time"
)

// Type is a listener's transport, named as EMQX names them.
type Type string

// The transports a Listener can serve.
const (
	TypeTCP Type = "tcp" // plain MQTT over TCP
	TypeSSL Type = "ssl" // MQTT over TLS
	TypeWS  Type = "ws"  // MQTT over WebSocket
	TypeWSS Type = "wss" // MQTT over WebSocket over TLS
)

// Defaults applied by New to zero Config fields.
const (
	DefaultProxyTimeout     = 3 * time.Second
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultWSPath           = "/mqtt"
)

// DefaultWSSubprotocols are the WebSocket subprotocols accepted when
// Config.WSSubprotocols is nil: the union of what MQTT clients send
// ("mqtt" for 3.1.1 and 5.0, "mqttv3.1" for 3.1) and EMQX's default
// supported_subprotocols. "mqtt" comes first and is preferred.
var DefaultWSSubprotocols = []string{"mqtt", "mqttv3.1", "mqttv3.1.1", "mqtt-v3", "mqtt-v3.1.1", "mqtt-v5"}

// Sentinel errors returned (wrapped) by New and Start.
var (
	ErrInvalidConfig = errors.New("listener: invalid config")
	ErrCertificate   = errors.New("listener: cannot load certificate")
	ErrStarted       = errors.New("listener: already started")
	ErrClosed        = errors.New("listener: closed")
)

// Config describes one listener. Zero values take the defaults noted.
type Config struct {
	ID               string        // "tcp:default" (type:name as EMQX); default Type+":default"
	Type             Type          // tcp, ssl, ws or wss
	Bind             string        // "0.0.0.0:1883"; port 0 picks a free port
	MaxConnections   int           // 0 = unlimited; beyond it new connections are closed at once
	MaxConnRate      float64       // new connections per second, 0 = unlimited
	ConnBurst        int           // token bucket size; default max(1, ceil(MaxConnRate))
	ProxyProtocol    bool          // expect a PROXY v1 or v2 header first; refuse conns without one
	ProxyTimeout     time.Duration // deadline for the PROXY header; default 3s
	HandshakeTimeout time.Duration // deadline for the TLS handshake; default 10s
	TLS              *TLSConfig    // required for ssl and wss, refused for tcp and ws
	WSPath           string        // HTTP path of the WebSocket upgrade; default "/mqtt"
	// WSSubprotocols lists the accepted WebSocket subprotocols; nil = DefaultWSSubprotocols.
	WSSubprotocols []string
	// WSFailIfNoSubprotocol refuses (400) an upgrade without a
	// Sec-WebSocket-Protocol header; default false as in EMQX.
	WSFailIfNoSubprotocol bool
	Logger                *slog.Logger // nil = discard
	// Adopt, when set, takes plain TCP connections (no PROXY, TLS or
	// WebSocket) in place of the Handler, on the accept loop's goroutine:
	// it must not block. It owns conn and calls release once done with it
	// (release closes conn and frees its MaxConnections slot; calls after
	// the first do nothing). It saves a goroutine per connection for a
	// server that serves connections on goroutines of its own.
	Adopt Adopter
}

// Adopter takes a plain TCP connection without blocking; see Config.Adopt.
type Adopter func(conn *net.TCPConn, meta ConnMeta, release func())

// TLSConfig holds the certificate settings of ssl and wss listeners.
type TLSConfig struct {
	CertFile   string // PEM server certificate (chain)
	KeyFile    string // PEM private key
	CACertFile string // PEM CA bundle used to verify client certificates
	// VerifyPeer asks clients for a certificate and verifies it against
	// CACertFile when one is sent (EMQX verify_peer).
	VerifyPeer bool
	// FailIfNoPeerCert refuses clients without a certificate; needs VerifyPeer.
	FailIfNoPeerCert bool
	// MinVersion is "tlsv1", "tlsv1.1", "tlsv1.2" (default) or "tlsv1.3".
	MinVersion string
}

var tlsVersions = map[string]uint16{
	"":        tls.VersionTLS12,
	"tlsv1":   tls.VersionTLS10,
	"tlsv1.1": tls.VersionTLS11,
	"tlsv1.2": tls.VersionTLS12,
	"tlsv1.3": tls.VersionTLS13,
}

func (t Type) usesTLS() bool { return t == TypeSSL || t == TypeWSS }

func (t Type) isWS() bool { return t == TypeWS || t == TypeWSS }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
}

// withDefaults validates cfg and fills in its zero fields.
func (cfg Config) withDefaults() (Config, error) {
	if err := cfg.validate(); err != nil {
		return cfg, err
	}
	if cfg.ID == "" {
		cfg.ID = string(cfg.Type) + ":default"
	}
	cfg.fillDurations()
	if cfg.MaxConnRate > 0 && cfg.ConnBurst <= 0 {
		cfg.ConnBurst = max(1, int(math.Ceil(cfg.MaxConnRate)))
	}
	cfg.fillWS()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Logger = cfg.Logger.With(slog.String("listener", cfg.ID))
	return cfg, nil
}

func (cfg *Config) fillDurations() {
	if cfg.ProxyTimeout <= 0 {
		cfg.ProxyTimeout = DefaultProxyTimeout
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
}

func (cfg *Config) fillWS() {
	if cfg.WSPath == "" {
		cfg.WSPath = DefaultWSPath
	}
	if cfg.WSSubprotocols == nil {
		cfg.WSSubprotocols = DefaultWSSubprotocols
	}
}

func (cfg Config) validate() error {
	switch cfg.Type {
	case TypeTCP, TypeSSL, TypeWS, TypeWSS:
	default:
		return invalid("unknown type %q", cfg.Type)
	}
	if cfg.Bind == "" {
		return invalid("empty bind address")
	}
	if cfg.MaxConnections < 0 || cfg.MaxConnRate < 0 || math.IsNaN(cfg.MaxConnRate) || math.IsInf(cfg.MaxConnRate, 0) {
		return invalid("negative or non-finite connection limit")
	}
	if cfg.WSPath != "" && !strings.HasPrefix(cfg.WSPath, "/") {
		return invalid("ws path %q does not start with /", cfg.WSPath)
	}
	return cfg.validateTLS()
}

func (cfg Config) validateTLS() error {
	if !cfg.Type.usesTLS() {
		if cfg.TLS != nil {
			return invalid("tls options on a %s listener", cfg.Type)
		}
		return nil
	}
	t := cfg.TLS
	if t == nil || t.CertFile == "" || t.KeyFile == "" {
		return invalid("%s listener needs a certificate and key file", cfg.Type)
	}
	if _, ok := tlsVersions[strings.ToLower(t.MinVersion)]; !ok {
		return invalid("unknown tls version %q", t.MinVersion)
	}
	if t.VerifyPeer && t.CACertFile == "" {
		return invalid("verify_peer needs a CA certificate file")
	}
	if t.FailIfNoPeerCert && !t.VerifyPeer {
		return invalid("fail_if_no_peer_cert needs verify_peer")
	}
	return nil
}

// buildTLS loads the certificate files into a server-side tls.Config.
// It sets no ALPN protocols, so clients offering any (e.g. "mqtt") are
// not refused.
func buildTLS(t *TLSConfig) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("%w: key pair: %w", ErrCertificate, err)
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tlsVersions[strings.ToLower(t.MinVersion)],
		ClientAuth:   clientAuth(t),
	}
	if t.CACertFile != "" {
		if cfg.ClientCAs, err = loadPool(t.CACertFile); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

func clientAuth(t *TLSConfig) tls.ClientAuthType {
	switch {
	case t.VerifyPeer && t.FailIfNoPeerCert:
		return tls.RequireAndVerifyClientCert
	case t.VerifyPeer:
		return tls.VerifyClientCertIfGiven
	default:
		return tls.NoClientCert
	}
}

func loadPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%w: ca file: %w", ErrCertificate, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: no PEM certificate in %s", ErrCertificate, file)
	}
	return pool, nil
}
