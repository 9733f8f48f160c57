package integration

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// hmacMethod is the Authentication Method of challengeAuth.
const hmacMethod = "TEST-HMAC-SHA256"

// challengeAuth is a small SCRAM-like challenge/response EnhancedAuthenticator:
// the client opens with "client-first", the server answers with a random
// nonce, the client proves it holds the shared key with HMAC(key, nonce),
// and the server's final data HMAC(key, "server"+nonce) proves the server
// holds it too. Plain CONNECTs (no method) are accepted.
type challengeAuth struct{ key []byte }

var _ broker.EnhancedAuthenticator = (*challengeAuth)(nil)

func (a *challengeAuth) mac(parts ...[]byte) []byte {
	m := hmac.New(sha256.New, a.key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

func (a *challengeAuth) Authenticate(context.Context, *broker.AuthRequest) error { return nil }

func (a *challengeAuth) AuthStart(_ context.Context, req *broker.AuthRequest) (broker.AuthStep, error) {
	if req.AuthMethod != hmacMethod {
		return broker.AuthStep{}, fmt.Errorf("method %q: %w", req.AuthMethod, broker.ErrBadAuthMethod)
	}
	if string(req.AuthData) != "client-first" {
		return broker.AuthStep{}, fmt.Errorf("bad client-first message: %w", broker.ErrNotAuthorized)
	}
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	return broker.AuthStep{Data: nonce, State: nonce}, nil
}

func (a *challengeAuth) AuthContinue(_ context.Context, req *broker.AuthRequest, state any) (broker.AuthStep, error) {
	nonce, _ := state.([]byte)
	if !hmac.Equal(req.AuthData, a.mac(nonce)) {
		return broker.AuthStep{}, fmt.Errorf("bad proof: %w", broker.ErrNotAuthorized)
	}
	return broker.AuthStep{Done: true, Data: a.mac([]byte("server"), nonce)}, nil
}

// authPacket builds an AUTH packet with the method and data.
func authPacket(rc packet.ReasonCode, method string, data []byte) *packet.Auth {
	a := &packet.Auth{ReasonCode: rc}
	a.Props.AuthMethod, a.Props.AuthData = []byte(method), data
	a.Props.Set(packet.PropAuthMethod)
	a.Props.Set(packet.PropAuthData)
	return a
}

// enhancedConnect is a v5 CONNECT opening an exchange with method.
func enhancedConnect(id, method string) *packet.Connect {
	p := &packet.Connect{ClientID: id, CleanStart: true, KeepAlive: 30}
	p.Props.AuthMethod, p.Props.AuthData = []byte(method), []byte("client-first")
	p.Props.Set(packet.PropAuthMethod)
	p.Props.Set(packet.PropAuthData)
	return p
}

// expectChallenge reads the server's AUTH 0x18 and returns its data
// [MQTT-4.12.0-2] [MQTT-4.12.0-5].
func expectChallenge(t *testing.T, c *testutil.Raw) []byte {
	t.Helper()
	a := c.Expect(packet.AUTH).(*packet.Auth)
	if a.ReasonCode != packet.ContinueAuthentication || string(a.Props.AuthMethod) != hmacMethod || len(a.Props.AuthData) == 0 {
		t.Fatalf("AUTH 0x%02x method %q data %x, want 0x18 %q with a nonce", byte(a.ReasonCode), a.Props.AuthMethod, a.Props.AuthData, hmacMethod)
	}
	return a.Props.AuthData
}

// startEnhanced runs a broker with challengeAuth and returns it, its
// authenticator and its address.
func startEnhanced(t *testing.T) (*broker.Broker, *challengeAuth, string) {
	t.Helper()
	a := &challengeAuth{key: []byte("shared key")}
	b, addr := testutil.ServeBroker(t, testutil.BrokerConfig(), broker.Options{Authenticator: a})
	return b, a, addr
}

// enhancedLogin completes a successful exchange and returns the client.
func enhancedLogin(t *testing.T, a *challengeAuth, addr, id string) *testutil.Raw {
	t.Helper()
	c := testutil.DialRaw(t, addr, packet.V5)
	c.Send(enhancedConnect(id, hmacMethod))
	nonce := expectChallenge(t, c)
	c.Send(authPacket(packet.ContinueAuthentication, hmacMethod, a.mac(nonce))) // [MQTT-4.12.0-3]
	ack := c.Expect(packet.CONNACK).(*packet.Connack)
	if ack.ReasonCode != packet.Success {
		t.Fatalf("CONNACK 0x%02x", byte(ack.ReasonCode))
	}
	// [MQTT-4.12.0-5]: the successful CONNACK carries the method, here
	// with the server's final data.
	if string(ack.Props.AuthMethod) != hmacMethod || !hmac.Equal(ack.Props.AuthData, a.mac([]byte("server"), nonce)) {
		t.Fatalf("CONNACK method %q data %x", ack.Props.AuthMethod, ack.Props.AuthData)
	}
	return c
}

// TestAuthEnhanced runs a successful MQTT 5 enhanced authentication: CONNECT
// with the method, AUTH 0x18 challenge, AUTH 0x18 response, CONNACK with the
// method and the server's final data [MQTT-4.12.0-2, 4.12.0-3, 4.12.0-5].
func TestAuthEnhanced(t *testing.T) {
	t.Parallel()
	_, a, addr := startEnhanced(t)
	c := enhancedLogin(t, a, addr, "enh")
	if got := c.Subscribe(1, "enh/#", 1).ReasonCodes; len(got) != 1 || got[0] != 1 {
		t.Fatalf("SUBACK %v", got)
	}
	// A plain CONNECT still works and gets no AUTH [MQTT-4.12.0-6].
	_, ack := testutil.ConnectRaw(t, addr, packet.V5, &packet.Connect{ClientID: "plain", CleanStart: true})
	if ack.Props.Has(packet.PropAuthMethod) {
		t.Fatalf("CONNACK carries an Authentication Method for a plain CONNECT [MQTT-4.12.0-6]")
	}
}

// TestAuthEnhancedRefused checks refusals during the exchange: a wrong proof
// gets CONNACK 0x87 [MQTT-4.12.0-4], an unknown method 0x8C [MQTT-4.12.0-1],
// an AUTH with another method 0x82, and a bad first message 0x87; the
// connection closes each time.
func TestAuthEnhancedRefused(t *testing.T) {
	t.Parallel()
	_, _, addr := startEnhanced(t)
	c := testutil.DialRaw(t, addr, packet.V5)
	c.Send(enhancedConnect("wrong", hmacMethod))
	expectChallenge(t, c)
	c.Send(authPacket(packet.ContinueAuthentication, hmacMethod, []byte("not the proof")))
	expectRefused(t, c, packet.NotAuthorized)

	refuse(t, addr, packet.V5, enhancedConnect("method", "SCRAM-SHA-512"), packet.BadAuthenticationMethod)

	c = testutil.DialRaw(t, addr, packet.V5)
	c.Send(enhancedConnect("switch", hmacMethod))
	expectChallenge(t, c)
	c.Send(authPacket(packet.ContinueAuthentication, "OTHER", []byte("x")))
	expectRefused(t, c, packet.ProtocolError)

	p := enhancedConnect("first", hmacMethod)
	p.Props.AuthData = []byte("hello")
	refuse(t, addr, packet.V5, p, packet.NotAuthorized)
}

// TestAuthReauthenticate re-authenticates an enhanced-auth client: AUTH 0x19
// with the same method, the challenge, the response and AUTH 0x00; the
// connection carries on [MQTT-4.12.1-1]. A failed re-authentication gets
// DISCONNECT 0x87 and the close [MQTT-4.12.1-2]; another method is a
// Protocol Error [MQTT-4.12.1-1], as is AUTH from a client that connected
// without a method [MQTT-4.12.0-7].
func TestAuthReauthenticate(t *testing.T) {
	t.Parallel()
	_, a, addr := startEnhanced(t)
	c := enhancedLogin(t, a, addr, "reauth")
	for range 2 {
		c.Send(authPacket(packet.ReAuthenticate, hmacMethod, []byte("client-first")))
		nonce := expectChallenge(t, c)
		c.Send(authPacket(packet.ContinueAuthentication, hmacMethod, a.mac(nonce)))
		done := c.Expect(packet.AUTH).(*packet.Auth)
		if done.ReasonCode != packet.Success || string(done.Props.AuthMethod) != hmacMethod ||
			!hmac.Equal(done.Props.AuthData, a.mac([]byte("server"), nonce)) {
			t.Fatalf("re-authentication ended with AUTH 0x%02x %q %x", byte(done.ReasonCode), done.Props.AuthMethod, done.Props.AuthData)
		}
		rawPingPong(t, c)
	}

	c.Send(authPacket(packet.ReAuthenticate, hmacMethod, []byte("client-first")))
	expectChallenge(t, c)
	c.Send(authPacket(packet.ContinueAuthentication, hmacMethod, []byte("forged")))
	expectDisconnect(t, c, packet.NotAuthorized)

	c = enhancedLogin(t, a, addr, "reauth-other")
	c.Send(authPacket(packet.ReAuthenticate, "OTHER", []byte("client-first")))
	expectDisconnect(t, c, packet.ProtocolError)

	c, _ = testutil.ConnectRaw(t, addr, packet.V5, &packet.Connect{ClientID: "no-method", CleanStart: true})
	c.Send(authPacket(packet.ReAuthenticate, hmacMethod, []byte("client-first")))
	expectDisconnect(t, c, packet.ProtocolError)
}

// expectDisconnect expects DISCONNECT with rc, then the close.
func expectDisconnect(t *testing.T, c *testutil.Raw, rc packet.ReasonCode) {
	t.Helper()
	got := c.ExpectClosed(testutil.Timeout)
	if len(got) != 1 || got[0].Type() != packet.DISCONNECT || got[0].(*packet.Disconnect).ReasonCode != rc {
		t.Fatalf("got %+v, want DISCONNECT 0x%02x then close", got, byte(rc))
	}
}

// blockingAuth holds every authentication until released.
type blockingAuth struct {
	entered chan struct{}
	release chan struct{}
}

func (a *blockingAuth) Authenticate(context.Context, *broker.AuthRequest) error {
	a.entered <- struct{}{}
	<-a.release
	return nil
}

// TestAuthShutdownDuringAuthentication shuts the broker down while a CONNECT
// waits for its authenticator: the connection is closed at once, the CONNECT
// completing afterwards does not race with the shutdown, and Shutdown
// returns once the connection has ended.
func TestAuthShutdownDuringAuthentication(t *testing.T) {
	t.Parallel()
	a := &blockingAuth{entered: make(chan struct{}, 1), release: make(chan struct{})}
	b, addr := testutil.ServeBroker(t, testutil.BrokerConfig(), broker.Options{Authenticator: a})
	c := testutil.DialRaw(t, addr, packet.V5)
	c.Send(&packet.Connect{ProtocolVersion: packet.V5, ClientID: "slow-auth", CleanStart: true})
	select {
	case <-a.entered:
	case <-time.After(testutil.Timeout):
		t.Fatalf("authenticator not called")
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*testutil.Timeout)
		defer cancel()
		done <- b.Shutdown(ctx)
	}()
	if got := c.ExpectClosed(testutil.Timeout); len(got) != 0 {
		t.Fatalf("packets before the close: %+v", got)
	}
	close(a.release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(2 * testutil.Timeout):
		t.Fatalf("shutdown did not return")
	}
}
