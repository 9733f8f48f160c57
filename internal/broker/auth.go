package broker

import (
	"context"
	"net/netip"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

// ClientInfo identifies a connected client to authentication, authorization
// and hooks. It is fixed once the client is authenticated and may be shared
// read-only.
type ClientInfo struct {
	ClientID        string
	Username        string
	Listener        string         // listener id, e.g. "tcp:default"
	RemoteAddr      netip.AddrPort // after PROXY protocol, when enabled
	ProtocolVersion byte
	CertCN          string // TLS client certificate common name, "" without one
	CertSubject     string // TLS client certificate subject DN
	Superuser       bool   // set by the Authenticator; skips authorization
	Mountpoint      string
}

// AuthRequest is what a CONNECT (or a v5 AUTH exchange) presents.
type AuthRequest struct {
	Client     *ClientInfo // Superuser may be set by the authenticator
	Password   []byte
	HasPass    bool
	AuthMethod string // v5 Authentication Method, "" for none
	AuthData   []byte // v5 Authentication Data
}

// Authenticator decides whether a CONNECT may proceed. It returns nil to
// accept, or an error wrapping a packet.ReasonCode: BadUsernameOrPassword,
// NotAuthorized, BadAuthenticationMethod, ServerUnavailable (v3 clients get the
// matching CONNACK return code). Any other error counts as
// ServerUnavailable.
type Authenticator interface {
	Authenticate(ctx context.Context, req *AuthRequest) error
}

// AuthStep is one round of an enhanced (AUTH packet) authentication exchange.
type AuthStep struct {
	Done  bool   // true: authenticated; false: send AUTH 0x18 with Data
	Data  []byte // Authentication Data for the client
	State any    // carried to the next AuthContinue
}

// EnhancedAuthenticator is implemented by authenticators that support MQTT 5
// enhanced authentication [MQTT-4.12]. The broker uses it when CONNECT names an
// Authentication Method; without one the method gets BadAuthenticationMethod.
type EnhancedAuthenticator interface {
	AuthStart(ctx context.Context, req *AuthRequest) (AuthStep, error)
	AuthContinue(ctx context.Context, req *AuthRequest, state any) (AuthStep, error)
}

// Action is what an Authorizer is asked about.
type Action uint8

// Actions.
const (
	ActionPublish Action = 1 << iota
	ActionSubscribe
)

// Authorizer decides whether a client may publish to a topic name or subscribe
// to a topic filter. It is called on the publish path, so it must be fast and
// safe for concurrent use; implementations cache as they see fit.
type Authorizer interface {
	Authorize(c *ClientInfo, action Action, topic string, qos byte, retain bool) bool
}

// Standard reason codes an Authenticator returns.
var (
	ErrBadCredentials = packet.BadUsernameOrPassword
	ErrNotAuthorized  = packet.NotAuthorized
	ErrBadAuthMethod  = packet.BadAuthenticationMethod
)
