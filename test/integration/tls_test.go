package integration

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	mqtt3 "github.com/eclipse/paho.mqtt.golang"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// dialTLS opens a TLS connection to addr and completes the handshake.
func dialTLS(t *testing.T, addr string, cfg *tls.Config) *tls.Conn {
	t.Helper()
	d := &net.Dialer{Timeout: testutil.Timeout}
	conn, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		t.Fatalf("tls dial %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// tlsConnect tries a TLS handshake and an MQTT 5 CONNECT; it returns nil
// when a successful CONNACK arrives. With TLS 1.3 a refused client
// certificate surfaces on the first read, not in the handshake.
func tlsConnect(t *testing.T, addr, id string, cfg *tls.Config) error {
	t.Helper()
	d := &net.Dialer{Timeout: testutil.Timeout}
	conn, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	defer conn.Close()
	b, _ := (&packet.Connect{ProtocolVersion: packet.V5, ClientID: id, CleanStart: true}).Append(nil, packet.V5)
	_ = conn.SetDeadline(time.Now().Add(testutil.Timeout))
	if _, err := conn.Write(b); err != nil {
		return fmt.Errorf("write CONNECT: %w", err)
	}
	p, err := packet.ReadPacket(conn, packet.V5, 0)
	if err != nil {
		return fmt.Errorf("read CONNACK: %w", err)
	}
	if ack, ok := p.(*packet.Connack); !ok || ack.ReasonCode != packet.Success {
		return fmt.Errorf("not a successful CONNACK: %+v", p)
	}
	return nil
}

// TestTransportTLSPahoV5 runs MQTT 5 over TLS (ssl listener, MQTT spec
// section 5.4.9: TLS is the recommended transport) with paho.golang over a
// tls.Conn, and across transports to a TCP client.
func TestTransportTLSPahoV5(t *testing.T) {
	pki := testutil.NewPKI(t)
	s := testutil.RunServer(t, pki.UseTLS("verify_none", false))
	addr := s.Addr("ssl:default")
	sub := testutil.WrapV5(t, dialTLS(t, addr, pki.ClientConfig()))
	if _, err := sub.Connect(testutil.Ctx(t), &paho.Connect{ClientID: "tls-sub", CleanStart: true}); err != nil {
		t.Fatalf("connect over TLS: %v", err)
	}
	sub.SubscribeOK(t, "tls/#", 1)
	pub := testutil.WrapV5(t, dialTLS(t, addr, pki.ClientConfig()))
	if _, err := pub.Connect(testutil.Ctx(t), &paho.Connect{ClientID: "tls-pub", CleanStart: true}); err != nil {
		t.Fatalf("connect over TLS: %v", err)
	}
	for i := range 20 {
		if rc := pub.PublishRC(t, "tls/a", fmt.Sprint(i)); rc != 0 {
			t.Fatalf("PUBACK reason %#x", rc)
		}
	}
	for i := range 20 {
		sub.Expect(t, "tls/a", fmt.Sprint(i))
	}
	// Across transports: a plain TCP publisher reaches the TLS subscriber.
	tcp, _ := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: "tcp-pub", CleanStart: true})
	tcp.PublishRC(t, "tls/b", "cross")
	sub.Expect(t, "tls/b", "cross")
}

// TestTransportTLSPahoV3 runs MQTT 3.1.1 over ssl:// with paho.mqtt.golang
// at each QoS.
func TestTransportTLSPahoV3(t *testing.T) {
	pki := testutil.NewPKI(t)
	s := testutil.RunServer(t, pki.UseTLS("verify_none", false))
	url := "ssl://" + s.Addr("ssl:default")
	withTLS := func(o *mqtt3.ClientOptions) { o.SetTLSConfig(pki.ClientConfig()) }
	sub := testutil.ConnectV3URL(t, url, "tls3-sub", withTLS)
	testutil.Wait(t, sub.Subscribe("tls3/#", 2, nil))
	pub := testutil.ConnectV3URL(t, url, "tls3-pub", withTLS)
	for qos := range byte(3) {
		testutil.Wait(t, pub.Publish("tls3/q", qos, false, fmt.Sprint("qos", qos)))
		if m := sub.Next(t); m.Topic() != "tls3/q" || string(m.Payload()) != fmt.Sprint("qos", qos) || m.Qos() != qos {
			t.Fatalf("got %q %q qos %d", m.Topic(), m.Payload(), m.Qos())
		}
	}
}

// TestTransportTLSFailIfNoPeerCert mirrors EMQX ssl_options verify =
// verify_peer with fail_if_no_peer_cert = true: no certificate or one from
// another CA is refused, a certificate from cacertfile's CA is accepted.
func TestTransportTLSFailIfNoPeerCert(t *testing.T) {
	pki := testutil.NewPKI(t)
	s := testutil.RunServer(t, pki.UseTLS("verify_peer", true))
	addr := s.Addr("ssl:default")
	if err := tlsConnect(t, addr, "anon", pki.ClientConfig()); err == nil {
		t.Fatalf("a client without a certificate was accepted with fail_if_no_peer_cert")
	}
	foreign := testutil.ForeignClientCert(t, pkix.Name{CommonName: "intruder"})
	if err := tlsConnect(t, addr, "foreign", pki.ClientConfig(foreign)); err == nil {
		t.Fatalf("a certificate from an untrusted CA was accepted")
	}
	good := pki.ClientCert(t, pkix.Name{CommonName: "dev-1"})
	if err := tlsConnect(t, addr, "good", pki.ClientConfig(good)); err != nil {
		t.Fatalf("trusted client certificate refused: %v", err)
	}
	// paho.mqtt.golang with the certificate works end to end too.
	c := testutil.ConnectV3URL(t, "ssl://"+addr, "good3", func(o *mqtt3.ClientOptions) { o.SetTLSConfig(pki.ClientConfig(good)) })
	testutil.Wait(t, c.Subscribe("x", 1, nil))
	testutil.Wait(t, c.Publish("x", 1, false, "y"))
	c.Next(t)
}

// TestTransportTLSVerifyPeerOptionalCert mirrors EMQX verify_peer with
// fail_if_no_peer_cert = false: a client without a certificate is
// accepted, an untrusted one refused, a trusted one's subject recorded.
func TestTransportTLSVerifyPeerOptionalCert(t *testing.T) {
	pki := testutil.NewPKI(t)
	s := testutil.RunServer(t, pki.UseTLS("verify_peer", false))
	rec := testutil.RecordClients(s)
	addr := s.Addr("ssl:default")
	if err := tlsConnect(t, addr, "anon", pki.ClientConfig()); err != nil {
		t.Fatalf("verify_peer without fail_if_no_peer_cert refused a client without a certificate: %v", err)
	}
	if ci := rec.Get(t, "anon"); ci.CertCN != "" {
		t.Fatalf("anonymous TLS client has CertCN %q", ci.CertCN)
	}
	foreign := testutil.ForeignClientCert(t, pkix.Name{CommonName: "intruder"})
	if err := tlsConnect(t, addr, "foreign", pki.ClientConfig(foreign)); err == nil {
		t.Fatalf("verify_peer accepted a certificate from an untrusted CA")
	}
	good := pki.ClientCert(t, pkix.Name{CommonName: "dev-2", Organization: []string{"Herald"}})
	if err := tlsConnect(t, addr, "good", pki.ClientConfig(good)); err != nil {
		t.Fatalf("trusted certificate refused: %v", err)
	}
	if ci := rec.Get(t, "good"); ci.CertCN != "dev-2" || ci.CertSubject != "CN=dev-2,O=Herald" || ci.Username != "" {
		t.Fatalf("client info %+v", ci)
	}
}

// certSubject is the client certificate subject of the peer-cert tests; its
// DN is dnString.
var certSubject = pkix.Name{CommonName: "dev-7", OrganizationalUnit: []string{"Sensors"}, Organization: []string{"Herald"}}

const dnString = "CN=dev-7,OU=Sensors,O=Herald"

// TestTransportTLSPeerCertAs checks mqtt.peer_cert_as_username and
// peer_cert_as_clientid (EMQX: the value replaces what the CONNECT carries
// and is what authorization sees): the recorded client info and an ACL that
// allows publishing only to that username or client id.
func TestTransportTLSPeerCertAs(t *testing.T) {
	cases := []struct {
		name, asUser, asID, who string
		wantUser, wantID        string
	}{
		{"username-cn", "cn", "disabled", "username:dev-7", "dev-7", "sent-id"},
		{"username-dn", "dn", "disabled", "username:" + dnString, dnString, "sent-id"},
		{"clientid-cn", "disabled", "cn", "clientid:dev-7", "sent-user", "dev-7"},
		{"clientid-dn", "disabled", "dn", "clientid:" + dnString, "sent-user", dnString},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pki := testutil.NewPKI(t)
			s := testutil.RunServer(t, pki.UseTLS("verify_peer", true), func(c *config.Config) {
				c.MQTT.PeerCertAsUsername, c.MQTT.PeerCertAsClientID = tc.asUser, tc.asID
				c.Authorization.NoMatch = "deny"
				c.Authorization.Rules = []config.Rule{{Permission: "allow", Who: tc.who, Action: "publish", Topics: []string{"cert/#"}}}
			})
			rec := testutil.RecordClients(s)
			conn := dialTLS(t, s.Addr("ssl:default"), pki.ClientConfig(pki.ClientCert(t, certSubject)))
			c := testutil.WrapV5(t, conn)
			if _, err := c.Connect(testutil.Ctx(t), &paho.Connect{ClientID: "sent-id", Username: "sent-user", UsernameFlag: true, CleanStart: true}); err != nil {
				t.Fatalf("connect: %v", err)
			}
			ci := rec.Get(t, tc.wantID)
			if ci.Username != tc.wantUser || ci.ClientID != tc.wantID {
				t.Fatalf("broker saw username %q client id %q, want %q %q", ci.Username, ci.ClientID, tc.wantUser, tc.wantID)
			}
			if rc := c.PublishRC(t, "cert/a", "x"); rc >= 0x80 {
				t.Fatalf("publish allowed by the ACL rule for %q refused: %#x", tc.who, rc)
			}
			if rc := c.PublishRC(t, "other/a", "x"); rc != byte(packet.NotAuthorized) {
				t.Fatalf("publish outside the rule: reason %#x, want 0x87", rc)
			}
		})
	}
}
