package integration

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// banHook refuses one client id with 0x8A Banned, as an EMQX banned-clients
// table would.
type banHook struct{ id string }

func (banHook) Name() string { return "test-ban" }

func (h banHook) OnConnect(c *broker.ClientInfo, _ *packet.Connect) error {
	if c.ClientID == h.id {
		return fmt.Errorf("client %q is banned: %w", c.ClientID, packet.Banned)
	}
	return nil
}

// plainUser is a config user with a plain-text password.
func plainUser(name, password string) config.User {
	return config.User{Username: name, PasswordHash: password, Algorithm: "plain", SaltPosition: "prefix"}
}

// connackCase is one refused CONNECT: its v5 reason code and its 3.1.1
// return code (none when v3 closes without CONNACK).
type connackCase struct {
	name    string
	mutate  func(*config.Config)
	connect packet.Connect
	v5      packet.ReasonCode
	v3      packet.ReasonCode
	v3Close bool // 3.1.1 gets no CONNACK
	v5Only  bool // the field does not exist in 3.1.1
}

var connackCases = []connackCase{
	{name: "0x86 bad password", mutate: withUsers(false, plainUser("alice", "secret")),
		connect: packet.Connect{ClientID: "c", Username: "alice", Password: []byte("wrong")},
		v5:      packet.BadUsernameOrPassword, v3: packet.V3BadUsernameOrPassword},
	{name: "0x86 unknown user", mutate: withUsers(false, plainUser("alice", "secret")),
		connect: packet.Connect{ClientID: "c", Username: "mallory", Password: []byte("secret")},
		v5:      packet.BadUsernameOrPassword, v3: packet.V3BadUsernameOrPassword},
	{name: "0x87 anonymous refused", mutate: withUsers(false, plainUser("alice", "secret")),
		connect: packet.Connect{ClientID: "c"}, v5: packet.NotAuthorized, v3: packet.V3NotAuthorized},
	{name: "0x87 anonymous refused without users", mutate: withUsers(false),
		connect: packet.Connect{ClientID: "c"}, v5: packet.NotAuthorized, v3: packet.V3NotAuthorized},
	{name: "0x8A banned", connect: packet.Connect{ClientID: "banned"}, v5: packet.Banned, v3: packet.V3NotAuthorized},
	{name: "0x8C method without enhanced auth", connect: packet.Connect{ClientID: "c", Props: authMethod("SCRAM-SHA-256")},
		v5: packet.BadAuthenticationMethod, v5Only: true},
	{name: "0x8C method with the users authenticator", mutate: withUsers(true, plainUser("alice", "secret")),
		connect: packet.Connect{ClientID: "c", Props: authMethod("SCRAM-SHA-256")}, v5: packet.BadAuthenticationMethod, v5Only: true},
	{name: "0x90 will topic with a wildcard", connect: packet.Connect{ClientID: "c", WillFlag: true, WillTopic: "will/+"},
		v5: packet.TopicNameInvalid, v3: packet.V3ServerUnavailable},
	{name: "0x90 empty will topic", connect: packet.Connect{ClientID: "c", WillFlag: true},
		v5: packet.TopicNameInvalid, v3: packet.V3ServerUnavailable},
	{name: "0x95 CONNECT above max_packet_size", mutate: func(c *config.Config) { c.MQTT.MaxPacketSize = 1024 },
		connect: packet.Connect{ClientID: "c", Username: "u", Password: bytes.Repeat([]byte("p"), 2048)},
		v5:      packet.PacketTooLarge, v3Close: true},
	{name: "0x9A will retain unavailable", mutate: func(c *config.Config) { c.MQTT.RetainAvailable = false },
		connect: packet.Connect{ClientID: "c", WillFlag: true, WillTopic: "w", WillRetain: true},
		v5:      packet.RetainNotSupported, v3: packet.V3ServerUnavailable},
	{name: "0x9B will QoS above max", mutate: func(c *config.Config) { c.MQTT.MaxQoSAllowed = 1 },
		connect: packet.Connect{ClientID: "c", WillFlag: true, WillTopic: "w", WillQoS: 2},
		v5:      packet.QoSNotSupported, v3: packet.V3ServerUnavailable},
}

func withUsers(anonymous bool, users ...config.User) func(*config.Config) {
	return func(c *config.Config) {
		c.Authentication.AllowAnonymous = anonymous
		c.Authentication.Users = users
	}
}

func authMethod(m string) packet.Properties {
	var p packet.Properties
	p.AuthMethod = []byte(m)
	p.Set(packet.PropAuthMethod)
	return p
}

// TestConnectReasonCodes provokes every refusal the broker produces and
// checks the CONNACK code for v5 [MQTT-3.2.2-8] and its 3.1.1 return code
// [MQTT-3.2.2-5], then the close [MQTT-3.2.2-7]: 0x86/0x04 bad credentials,
// 0x87/0x05 not authorized, 0x8A banned (a ConnectHook), 0x8C bad
// authentication method [MQTT-4.12.0-1], 0x90 invalid will topic
// [MQTT-3.1.3-11], 0x95 CONNECT too large (v5 only, as EMQX), 0x9A will
// retain unavailable [MQTT-3.2.2-13], 0x9B will QoS above maximum
// [MQTT-3.2.2-12]. 0x81, 0x82, 0x84 and 0x85 are covered by
// TestConnectMalformedV5, TestConnectUnsupportedLevel and
// TestConnectClientIDTooLong.
func TestConnectReasonCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range connackCases {
		t.Run(tc.name, func(t *testing.T) {
			var mutate []func(*config.Config)
			if tc.mutate != nil {
				mutate = append(mutate, tc.mutate)
			}
			s := testutil.RunServer(t, mutate...)
			s.Broker().Hooks().Add(banHook{id: "banned"})
			p := tc.connect
			ack := refuse(t, s.TCP(), packet.V5, &p, tc.v5)
			if len(ack.Props.ReasonString) == 0 {
				t.Errorf("v5 CONNACK 0x%02x without a Reason String", byte(tc.v5))
			}
			if tc.v5Only {
				return
			}
			p = tc.connect
			p.Props, p.WillProps = packet.Properties{}, packet.Properties{}
			if tc.v3Close {
				c := testutil.DialRaw(t, s.TCP(), packet.V311)
				c.Send(&p)
				expectSilentClose(t, c)
				return
			}
			refuse(t, s.TCP(), packet.V311, &p, tc.v3)
			p.CleanStart = true // 3.1 requires a client id; keep the rest
			refuse(t, s.TCP(), packet.V31, &p, tc.v3)
		})
	}
}

// TestConnectRefusedPaho checks a refusal as paho.golang reports it: the
// CONNACK reason code and Reason String come with the error.
func TestConnectRefusedPaho(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, withUsers(false, plainUser("alice", "secret")))
	c := testutil.DialV5(t, s.TCP())
	ack, err := c.Connect(testutil.Ctx(t), &paho.Connect{ClientID: "p", Username: "alice", UsernameFlag: true,
		Password: []byte("nope"), PasswordFlag: true, CleanStart: true})
	if err == nil || ack == nil || ack.ReasonCode != byte(packet.BadUsernameOrPassword) {
		t.Fatalf("connect: err %v connack %+v, want 0x86", err, ack)
	}
	if got := s.Broker().Metrics().Get(broker.MAuthenticationFailure); got != 1 {
		t.Fatalf("authentication.failure = %d, want 1", got)
	}
}
