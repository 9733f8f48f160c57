package integration

import (
	"io"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	mqtt3 "github.com/eclipse/paho.mqtt.golang"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// connectBytes encodes a CONNECT for version.
func connectBytes(t *testing.T, version byte, p *packet.Connect) []byte {
	t.Helper()
	b, err := p.Append(nil, version)
	if err != nil {
		t.Fatalf("encode CONNECT: %v", err)
	}
	return b
}

// expectRefused reads a CONNACK with reason code want and then expects the
// server to close the connection.
func expectRefused(t *testing.T, c *testutil.Raw, want packet.ReasonCode) *packet.Connack {
	t.Helper()
	ack := c.Expect(packet.CONNACK).(*packet.Connack)
	if ack.ReasonCode != want || ack.SessionPresent {
		t.Fatalf("CONNACK 0x%02x present=%v, want 0x%02x present=false", byte(ack.ReasonCode), ack.SessionPresent, byte(want))
	}
	if got := c.ExpectClosed(testutil.Timeout); len(got) != 0 {
		t.Fatalf("packets after a refused CONNACK: %+v", got)
	}
	return ack
}

// refuse connects a raw client with p and expects CONNACK want, then close.
func refuse(t *testing.T, addr string, version byte, p *packet.Connect, want packet.ReasonCode) *packet.Connack {
	t.Helper()
	c := testutil.DialRaw(t, addr, version)
	p.ProtocolVersion = version
	c.Send(p)
	return expectRefused(t, c, want)
}

// expectSilentClose expects the connection to close with no packet at all.
func expectSilentClose(t *testing.T, c *testutil.Raw) {
	t.Helper()
	if got := c.ExpectClosed(testutil.Timeout); len(got) != 0 {
		t.Fatalf("expected a close without a response, got %+v", got)
	}
}

// rawPingPong sends PINGREQ and expects PINGRESP: the connection works.
func rawPingPong(t *testing.T, c *testutil.Raw) {
	t.Helper()
	c.Send(&packet.Pingreq{})
	c.Expect(packet.PINGRESP)
}

// TestConnectMQTT31 connects with protocol name "MQIsdp" level 3 and does a
// QoS 1 round trip [MQTT-3.1.2-1, 3.1.2-2].
func TestConnectMQTT31(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	c, ack := testutil.ConnectRaw(t, s.TCP(), packet.V31, &packet.Connect{ClientID: "c31", CleanStart: true, KeepAlive: 30})
	if ack.SessionPresent {
		t.Fatalf("session present on a clean session")
	}
	if got := c.Subscribe(1, "v31/#", 1).ReasonCodes; len(got) != 1 || got[0] != 1 {
		t.Fatalf("SUBACK %v, want [1]", got)
	}
	c.Send(&packet.Publish{QoS: 1, PacketID: 2, Topic: []byte("v31/a"), Payload: []byte("hi")})
	var gotAck, gotPub bool
	for !gotAck || !gotPub {
		p, err := c.Read(testutil.Timeout)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		switch p := p.(type) {
		case *packet.Ack:
			gotAck = p.PacketType == packet.PUBACK && p.PacketID == 2
		case *packet.Publish:
			gotPub = string(p.Topic) == "v31/a" && string(p.Payload) == "hi" && p.QoS == 1
			c.Send(&packet.Ack{PacketType: packet.PUBACK, PacketID: p.PacketID})
		}
	}
	rawPingPong(t, c)
}

// TestConnectMQTT311 connects 3.1.1 clients: paho.mqtt.golang end to end,
// and the raw client checking the exact CONNACK [MQTT-3.2.2-1].
func TestConnectMQTT311(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	sub := testutil.ConnectV3(t, s.TCP(), "sub311")
	testutil.Wait(t, sub.Subscribe("v311/#", 1, nil))
	pub := testutil.ConnectV3(t, s.TCP(), "pub311")
	testutil.Wait(t, pub.Publish("v311/x", 1, false, "hello"))
	if m := sub.Next(t); m.Topic() != "v311/x" || string(m.Payload()) != "hello" || m.Qos() != 1 {
		t.Fatalf("got %q %q qos %d", m.Topic(), m.Payload(), m.Qos())
	}
	c := testutil.DialRaw(t, s.TCP(), packet.V311)
	c.SendBytes(connectBytes(t, packet.V311, &packet.Connect{ClientID: "raw311", CleanStart: true}))
	buf := make([]byte, 4)
	_ = c.Conn.SetReadDeadline(time.Now().Add(testutil.Timeout))
	if _, err := io.ReadFull(c.Conn, buf); err != nil {
		t.Fatalf("read CONNACK: %v", err)
	}
	if want := []byte{0x20, 0x02, 0x00, 0x00}; string(buf) != string(want) {
		t.Fatalf("CONNACK bytes % x, want % x", buf, want)
	}
}

// TestConnectMQTT5 connects with paho.golang and checks the CONNACK
// properties the broker announces [MQTT-3.2.2.3].
func TestConnectMQTT5(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, func(c *config.Config) { c.MQTT.MaxQoSAllowed = 1; c.MQTT.RetainAvailable = false })
	c, ack := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: "v5", CleanStart: true, KeepAlive: 30})
	pr := ack.Properties
	switch {
	case ack.ReasonCode != 0 || ack.SessionPresent:
		t.Fatalf("CONNACK %+v", ack)
	case pr.ReceiveMaximum == nil || *pr.ReceiveMaximum != 32:
		t.Fatalf("Receive Maximum %v, want 32", pr.ReceiveMaximum)
	case pr.MaximumPacketSize == nil || *pr.MaximumPacketSize != 1<<20:
		t.Fatalf("Maximum Packet Size %v, want 1MB", pr.MaximumPacketSize)
	case pr.MaximumQoS == nil || *pr.MaximumQoS != 1:
		t.Fatalf("Maximum QoS %v, want 1", pr.MaximumQoS)
	case pr.RetainAvailable:
		t.Fatalf("Retain Available true with mqtt.retain_available = false")
	case pr.AssignedClientID != "":
		t.Fatalf("Assigned Client Identifier %q for a client with an id", pr.AssignedClientID)
	}
	if _, err := c.Subscribe(testutil.Ctx(t), &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "v5/#", QoS: 1}}}); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	if _, err := c.Publish(testutil.Ctx(t), &paho.Publish{Topic: "v5/a", QoS: 1, Payload: []byte("x")}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if m := c.Next(t); m.Topic != "v5/a" || m.QoS != 1 {
		t.Fatalf("got %q qos %d", m.Topic, m.QoS)
	}
}

// TestConnectUnsupportedLevel sends protocol levels the broker does not
// speak: it answers CONNACK 0x01 in the 3.1.1 form and closes
// [MQTT-3.1.2-2]. A v5 level under a wrong protocol name gets a v5 CONNACK
// 0x84 [MQTT-3.1.2-1].
func TestConnectUnsupportedLevel(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	for _, level := range []byte{0, 2, 6, 255} {
		c := testutil.DialRaw(t, s.TCP(), packet.V311)
		b := connectBytes(t, packet.V311, &packet.Connect{ClientID: "lvl", CleanStart: true})
		b[8] = level
		c.SendBytes(b)
		expectRefused(t, c, packet.V3UnacceptableProtocolVersion)
	}
	c := testutil.DialRaw(t, s.TCP(), packet.V311)
	b := connectBytes(t, packet.V311, &packet.Connect{ClientID: "lvl3", CleanStart: true})
	b[8] = packet.V31 // "MQTT" with the 3.1 level
	c.SendBytes(b)
	expectRefused(t, c, packet.V3UnacceptableProtocolVersion)

	c = testutil.DialRaw(t, s.TCP(), packet.V5)
	b = connectBytes(t, packet.V5, &packet.Connect{ClientID: "name", CleanStart: true})
	copy(b[4:8], "MQTX")
	c.SendBytes(b)
	expectRefused(t, c, packet.UnsupportedProtocolVersion)
}

// TestConnectMalformedV5 sends broken v5 CONNECT packets: a malformed one
// gets CONNACK 0x81, one that breaks a protocol rule 0x82, then the
// connection closes [MQTT-3.1.2-3] [MQTT-4.13.1-1].
func TestConnectMalformedV5(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	c := testutil.DialRaw(t, s.TCP(), packet.V5)
	b := connectBytes(t, packet.V5, &packet.Connect{ClientID: "m1", CleanStart: true})
	b[9] |= 0x01 // reserved connect flag [MQTT-3.1.2-3]
	c.SendBytes(b)
	expectRefused(t, c, packet.MalformedPacket)

	// Session Expiry Interval twice is a Protocol Error [MQTT-3.1.2.11.2].
	dup := []byte{0x10, 24, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x02, 0, 60,
		10, 0x11, 0, 0, 0, 60, 0x11, 0, 0, 0, 60, 0, 1, 'a'}
	c = testutil.DialRaw(t, s.TCP(), packet.V5)
	c.SendBytes(dup)
	expectRefused(t, c, packet.ProtocolError)

	// Will QoS 3 is malformed [MQTT-3.1.2-12].
	c = testutil.DialRaw(t, s.TCP(), packet.V5)
	b = connectBytes(t, packet.V5, &packet.Connect{ClientID: "m3", CleanStart: true, WillFlag: true, WillTopic: "w", WillQoS: 1})
	b[9] |= 0x18
	c.SendBytes(b)
	expectRefused(t, c, packet.MalformedPacket)
}

// TestConnectMalformedV3 sends broken 3.1.1 and 3.1 CONNECT packets: the
// server closes the connection without a CONNACK [MQTT-3.1.2-3]
// [MQTT-3.1.2-22] [MQTT-4.8.0-1].
func TestConnectMalformedV3(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	for _, v := range []byte{packet.V311, packet.V31} {
		c := testutil.DialRaw(t, s.TCP(), v)
		c.SendBytes(withReservedFlag(connectBytes(t, v, &packet.Connect{ClientID: "m", CleanStart: true}), v))
		expectSilentClose(t, c)
	}
	// Password without user name [MQTT-3.1.2-22]; 3.1 has the rule too
	// (mosquitto closes both).
	for _, v := range []byte{packet.V311, packet.V31} {
		off := 0
		if v == packet.V31 {
			off = 2 // "MQIsdp" is two bytes longer
		}
		c := testutil.DialRaw(t, s.TCP(), v)
		b := connectBytes(t, v, &packet.Connect{ClientID: "p", CleanStart: true, Username: "u", Password: []byte("p")})
		b[9+off] &^= 0x80                     // clear the User Name Flag
		b = append(b[:15+off], b[18+off:]...) // and drop the user name "u" after the client id "p"
		b[1] = byte(len(b) - 2)
		c.SendBytes(b)
		expectSilentClose(t, c)
	}
}

// withReservedFlag returns a copy of a CONNECT with the reserved flag set.
func withReservedFlag(b []byte, version byte) []byte {
	out := append([]byte(nil), b...)
	flags := 9
	if version == packet.V31 {
		flags = 11 // "MQIsdp" is two bytes longer
	}
	out[flags] |= 0x01
	return out
}

// TestConnectFirstPacketNotConnect sends another packet first: the server
// closes the connection without answering [MQTT-3.1.0-1].
func TestConnectFirstPacketNotConnect(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	first := []packet.Packet{
		&packet.Pingreq{},
		&packet.Publish{Topic: []byte("a"), Payload: []byte("x")},
		&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "a"}}},
		&packet.Disconnect{},
	}
	for _, v := range []byte{packet.V311, packet.V5} {
		for _, p := range first {
			c := testutil.DialRaw(t, s.TCP(), v)
			c.Send(p)
			expectSilentClose(t, c)
		}
	}
	c := testutil.DialRaw(t, s.TCP(), packet.V5)
	c.Send(&packet.Auth{ReasonCode: packet.ContinueAuthentication})
	expectSilentClose(t, c)
}

// TestConnectSecondConnect sends CONNECT twice: a Protocol Error, which a v5
// client learns from DISCONNECT 0x82, and a 3.1.1 client from the close
// [MQTT-3.1.0-2].
func TestConnectSecondConnect(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	c, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, &packet.Connect{ClientID: "twice5", CleanStart: true})
	c.Send(&packet.Connect{ProtocolVersion: packet.V5, ClientID: "twice5", CleanStart: true})
	got := c.ExpectClosed(testutil.Timeout)
	if len(got) != 1 || got[0].(*packet.Disconnect).ReasonCode != packet.ProtocolError {
		t.Fatalf("got %+v, want DISCONNECT 0x82", got)
	}
	c, _ = testutil.ConnectRaw(t, s.TCP(), packet.V311, &packet.Connect{ClientID: "twice3", CleanStart: true})
	c.Send(&packet.Connect{ProtocolVersion: packet.V311, ClientID: "twice3", CleanStart: true})
	expectSilentClose(t, c)
}

// TestConnectIdleTimeout leaves a connection without CONNECT: it is closed
// after mqtt.idle_timeout (EMQX idle_timeout; the spec leaves the CONNECT
// deadline to the server). A connected client with keep alive 0 is not
// affected: keep alive 0 means no timeout [MQTT-3.1.2-22].
func TestConnectIdleTimeout(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, func(c *config.Config) { c.MQTT.IdleTimeout = 700 * time.Millisecond })
	start := time.Now()
	c := testutil.DialRaw(t, s.TCP(), packet.V311)
	expectSilentClose(t, c)
	if d := time.Since(start); d < 600*time.Millisecond {
		t.Fatalf("closed after %v, before the idle timeout", d)
	}
	// Half a CONNECT does not extend the deadline.
	c = testutil.DialRaw(t, s.TCP(), packet.V311)
	c.SendBytes(connectBytes(t, packet.V311, &packet.Connect{ClientID: "slow", CleanStart: true})[:6])
	expectSilentClose(t, c)
	// A connected client is not subject to the idle timeout.
	ok, _ := testutil.ConnectRaw(t, s.TCP(), packet.V311, &packet.Connect{ClientID: "idle-ok", CleanStart: true})
	ok.ExpectNothing(time.Second)
	rawPingPong(t, ok)
}

// TestConnectAssignedClientID connects v5 clients with an empty id: each
// gets a unique Assigned Client Identifier [MQTT-3.1.3-6] [MQTT-3.2.2-16].
func TestConnectAssignedClientID(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	ids := map[string]bool{}
	for range 3 {
		_, ack := testutil.ConnectV5(t, s.TCP(), &paho.Connect{CleanStart: true})
		id := ack.Properties.AssignedClientID
		if id == "" || ids[id] {
			t.Fatalf("Assigned Client Identifier %q (seen %v)", id, ids)
		}
		ids[id] = true
	}
	// The assigned id names the session: a persistent one can be resumed.
	first, ack := testutil.ConnectV5(t, s.TCP(), &paho.Connect{CleanStart: true,
		Properties: &paho.ConnectProperties{SessionExpiryInterval: new(uint32(60))}})
	id := ack.Properties.AssignedClientID
	if err := first.Disconnect(&paho.Disconnect{}); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	_, ack2 := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: id, Properties: &paho.ConnectProperties{SessionExpiryInterval: new(uint32(60))}})
	if !ack2.SessionPresent || ack2.Properties.AssignedClientID != "" {
		t.Fatalf("resume of %q: present=%v assigned=%q", id, ack2.SessionPresent, ack2.Properties.AssignedClientID)
	}
}

// TestConnectEmptyClientIDV3 checks the 3.1.1 and 3.1 rules: an empty id is
// accepted with Clean Session 1 [MQTT-3.1.3-6] [MQTT-3.1.3-7], refused with
// 0x02 with Clean Session 0 [MQTT-3.1.3-8], and always refused in 3.1.
func TestConnectEmptyClientIDV3(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	c, _ := testutil.ConnectRaw(t, s.TCP(), packet.V311, &packet.Connect{CleanStart: true})
	rawPingPong(t, c)
	refuse(t, s.TCP(), packet.V311, &packet.Connect{CleanStart: false}, packet.V3IdentifierRejected)
	refuse(t, s.TCP(), packet.V31, &packet.Connect{CleanStart: true}, packet.V3IdentifierRejected)
	v3 := testutil.ConnectV3(t, s.TCP(), "")
	if !v3.IsConnected() {
		t.Fatalf("paho.mqtt.golang with an empty id not connected")
	}
}

// TestConnectClientIDTooLong sets mqtt.max_clientid_len: a longer id gets
// 0x85 (v5) or 0x02 (v3) [MQTT-3.1.3-5] [MQTT-3.1.3-8] (EMQX max_clientid_len).
func TestConnectClientIDTooLong(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, func(c *config.Config) { c.MQTT.MaxClientIDLen = 23 })
	long, ok := "abcdefghijklmnopqrstuvwx", "abcdefghijklmnopqrstuvw"
	refuse(t, s.TCP(), packet.V5, &packet.Connect{ClientID: long, CleanStart: true}, packet.ClientIdentifierNotValid)
	refuse(t, s.TCP(), packet.V311, &packet.Connect{ClientID: long, CleanStart: true}, packet.V3IdentifierRejected)
	refuse(t, s.TCP(), packet.V31, &packet.Connect{ClientID: long, CleanStart: true}, packet.V3IdentifierRejected)
	for _, v := range []byte{packet.V31, packet.V311, packet.V5} {
		testutil.ConnectRaw(t, s.TCP(), v, &packet.Connect{ClientID: ok, CleanStart: true})
	}
}

// TestConnectV3PahoRefused checks what paho.mqtt.golang sees for a refused
// 3.1.1 connect: the return code as its error.
func TestConnectV3PahoRefused(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	o := mqtt3.NewClientOptions().AddBroker("tcp://" + s.TCP()).SetClientID("").SetCleanSession(false).
		SetAutoReconnect(false).SetConnectRetry(false).SetProtocolVersion(4)
	cl := mqtt3.NewClient(o)
	tok := cl.Connect()
	if !tok.WaitTimeout(testutil.Timeout) {
		t.Fatalf("connect timed out")
	}
	if tok.Error() == nil {
		t.Fatalf("empty id with clean session 0 accepted")
	}
	if ct, ok := tok.(*mqtt3.ConnectToken); !ok || ct.ReturnCode() != byte(packet.V3IdentifierRejected) {
		t.Fatalf("token %T %v, want return code 2", tok, tok.Error())
	}
}
