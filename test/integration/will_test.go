package integration

import (
	"bytes"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	mqtt3 "github.com/eclipse/paho.mqtt.golang"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// willWatcher connects a v5 client subscribed to filter at QoS 2.
func willWatcher(t *testing.T, s *testutil.Server, id, filter string) *testutil.V5 {
	t.Helper()
	w, _ := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: id, CleanStart: true, KeepAlive: 30})
	if _, err := w.Subscribe(testutil.Ctx(t), &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 2}}}); err != nil {
		t.Fatalf("subscribe %q: %v", filter, err)
	}
	return w
}

// withWill returns a raw CONNECT carrying a will on topic with payload.
func withWill(p *packet.Connect, topic, payload string, qos byte, delay uint32) *packet.Connect {
	p.WillFlag, p.WillTopic, p.WillPayload, p.WillQoS = true, topic, []byte(payload), qos
	if delay > 0 {
		p.WillProps.WillDelay = delay
		p.WillProps.Set(packet.PropWillDelay)
	}
	return p
}

// expectWill waits for a will message with payload on the watcher.
func expectWill(t *testing.T, w *testutil.V5, topic, payload string) *paho.Publish {
	t.Helper()
	m := w.Next(t)
	if m.Topic != topic || string(m.Payload) != payload {
		t.Fatalf("got %q %q, want will %q %q", m.Topic, m.Payload, topic, payload)
	}
	return m
}

// TestWillProperties publishes a will with QoS 1, the retain flag and every
// will property, by closing the socket: subscribers get the message with
// its properties [MQTT-3.1.2-8] [MQTT-3.1.3-10] (the Will Delay Interval
// is not forwarded), the retained copy is stored [MQTT-3.1.2-17], and the
// Message Expiry Interval counts down [MQTT-3.3.2-6].
func TestWillProperties(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	w := willWatcher(t, s, "watcher", "will/#")
	// paho.golang v0.23 packs only the Will Delay Interval of the will
	// properties, so the raw client sends this CONNECT.
	cp := withWill(&packet.Connect{ClientID: "wp", CleanStart: true, KeepAlive: 30}, "will/wp", "gone", 1, 0)
	cp.WillRetain = true
	wp := &cp.WillProps
	wp.PayloadFormat, wp.MessageExpiry = 1, 60
	wp.ContentType, wp.ResponseTopic, wp.CorrelationData = []byte("text/plain"), []byte("resp/wp"), []byte("corr")
	wp.User = []packet.UserProperty{{Key: []byte("k"), Value: []byte("v")}, {Key: []byte("k"), Value: []byte("v2")}}
	for _, id := range []packet.PropID{packet.PropPayloadFormat, packet.PropMessageExpiry, packet.PropContentType,
		packet.PropResponseTopic, packet.PropCorrelationData} {
		wp.Set(id)
	}
	c, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, cp)
	c.Conn.Close()
	m := expectWill(t, w, "will/wp", "gone")
	checkWillProps(t, m)
	if m.QoS != 1 || m.Retain {
		t.Fatalf("live will qos %d retain %v, want qos 1 retain false [MQTT-3.3.1-12]", m.QoS, m.Retain)
	}
	late := willWatcher(t, s, "late", "will/wp")
	r := expectWill(t, late, "will/wp", "gone")
	if !r.Retain {
		t.Fatalf("retained will without the retain flag [MQTT-3.3.1-9]")
	}
	checkWillProps(t, r)
}

func checkWillProps(t *testing.T, m *paho.Publish) {
	t.Helper()
	p := m.Properties
	switch {
	case p == nil:
		t.Fatalf("will without properties")
	case p.ContentType != "text/plain" || p.ResponseTopic != "resp/wp" || !bytes.Equal(p.CorrelationData, []byte("corr")):
		t.Fatalf("content type %q response topic %q correlation %q", p.ContentType, p.ResponseTopic, p.CorrelationData)
	case p.PayloadFormat == nil || *p.PayloadFormat != 1:
		t.Fatalf("payload format %v, want 1", p.PayloadFormat)
	case p.MessageExpiry == nil || *p.MessageExpiry == 0 || *p.MessageExpiry > 60:
		t.Fatalf("message expiry %v, want 1..60", p.MessageExpiry)
	case len(p.User) != 2 || p.User[0] != (paho.UserProperty{Key: "k", Value: "v"}) || p.User[1] != (paho.UserProperty{Key: "k", Value: "v2"}):
		t.Fatalf("user properties %v, want k=v, k=v2 in order [MQTT-3.3.2-18]", p.User)
	}
}

// TestWillAbnormalDisconnect ends connections without a normal DISCONNECT
// and expects each will [MQTT-3.1.2-8]: socket closed, keep alive timeout
// [MQTT-3.1.2-22], protocol errors (a second CONNECT [MQTT-3.1.0-2], a
// non-zero Session Expiry Interval at DISCONNECT after 0 [MQTT-3.14.2-2]),
// a malformed packet [MQTT-4.13.1-1], and an administrative kick.
func TestWillAbnormalDisconnect(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	w := willWatcher(t, s, "watcher", "will/#")
	causes := []struct {
		name string
		v    byte
		ka   uint16
		end  func(c *testutil.Raw)
	}{
		{"kicked5", packet.V5, 0, func(*testutil.Raw) { kick(t, s, "kicked5") }},
		{"kicked3", packet.V311, 0, func(*testutil.Raw) { kick(t, s, "kicked3") }},
		{"close3", packet.V311, 0, func(c *testutil.Raw) { c.Conn.Close() }},
		{"close5", packet.V5, 0, func(c *testutil.Raw) { c.Conn.Close() }},
		{"keepalive3", packet.V311, 1, func(c *testutil.Raw) {}},
		{"keepalive5", packet.V5, 1, func(c *testutil.Raw) {}},
		{"connect3", packet.V311, 0, func(c *testutil.Raw) { c.Send(&packet.Connect{ClientID: "x", CleanStart: true}) }},
		{"connect5", packet.V5, 0, func(c *testutil.Raw) { c.Send(&packet.Connect{ClientID: "x", CleanStart: true}) }},
		{"expiry5", packet.V5, 0, func(c *testutil.Raw) {
			d := &packet.Disconnect{}
			d.Props.SessionExpiry = 30
			d.Props.Set(packet.PropSessionExpiry)
			c.Send(d)
		}},
		{"malformed3", packet.V311, 0, func(c *testutil.Raw) { c.SendBytes([]byte{0xC1, 0x00}) }}, // PINGREQ with flags
		{"malformed5", packet.V5, 0, func(c *testutil.Raw) { c.SendBytes([]byte{0xC1, 0x00}) }},
	}
	for _, tc := range causes {
		p := withWill(&packet.Connect{ClientID: tc.name, CleanStart: true, KeepAlive: tc.ka}, "will/"+tc.name, tc.name, 1, 0)
		c, _ := testutil.ConnectRaw(t, s.TCP(), tc.v, p)
		tc.end(c)
		expectWill(t, w, "will/"+tc.name, tc.name)
	}
}

// TestWillNormalDisconnect checks that a normal DISCONNECT deletes the will
// [MQTT-3.1.2-10], for v5, for 3.1.1 (paho.mqtt.golang) and for a v5 will
// with a delay, while DISCONNECT 0x04 publishes it [MQTT-3.14.4-3].
func TestWillNormalDisconnect(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	w := willWatcher(t, s, "watcher", "will/#")
	c, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, withWill(&packet.Connect{ClientID: "n5", CleanStart: true}, "will/n5", "x", 1, 0))
	rawDisconnect(t, c, &packet.Disconnect{})
	c, _ = testutil.ConnectRaw(t, s.TCP(), packet.V5, withWill(sessConnect("nd5", false, 2), "will/nd5", "x", 1, 1))
	rawDisconnect(t, c, &packet.Disconnect{})
	v3 := testutil.ConnectV3(t, s.TCP(), "n3", func(o *mqtt3.ClientOptions) { o.SetWill("will/n3", "x", 1, false) })
	v3.Disconnect(100)
	w.None(t, 1500*time.Millisecond) // past the 1 s will delay of nd5

	c, _ = testutil.ConnectRaw(t, s.TCP(), packet.V5, withWill(&packet.Connect{ClientID: "w5", CleanStart: true}, "will/w5", "with will", 1, 0))
	rawDisconnect(t, c, &packet.Disconnect{ReasonCode: packet.DisconnectWithWill})
	expectWill(t, w, "will/w5", "with will")
}

// TestWillDelay publishes a will once its Will Delay Interval has passed
// [MQTT-3.1.3-9].
func TestWillDelay(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	w := willWatcher(t, s, "watcher", "will/#")
	c, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, withWill(sessConnect("wd", false, 30), "will/wd", "late", 1, 1))
	closed := time.Now() // before the server can see the close
	c.Conn.Close()
	w.None(t, 600*time.Millisecond)
	expectWill(t, w, "will/wd", "late")
	if d := time.Since(closed); d < 900*time.Millisecond {
		t.Fatalf("will after %v, before its 1 s delay", d)
	}
}

// TestWillDelayReconnect reconnects before the Will Delay Interval: the will
// is not published [MQTT-3.1.3-9], and the new connection's own will
// replaces it. (Checked when the reconnect took less than the 1 s delay;
// on a busy machine it may take longer, and then the first will may be
// published: right too.)
func TestWillDelayReconnect(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	w := willWatcher(t, s, "watcher", "will/#")
	c, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, withWill(sessConnect("wr", false, 30), "will/wr", "first", 1, 1))
	closed := time.Now()
	c.Conn.Close()
	c, ack := testutil.ConnectRaw(t, s.TCP(), packet.V5, withWill(sessConnect("wr", false, 30), "will/wr", "second", 1, 0))
	if !ack.SessionPresent {
		t.Fatalf("session not present")
	}
	if testutil.InTime(t, closed, time.Second, "first will cancelled by the reconnect") {
		w.None(t, 1500*time.Millisecond) // past the first will's delay
		c.Conn.Close()
		expectWill(t, w, "will/wr", "second")
		w.None(t, 200*time.Millisecond)
		return
	}
	c.Conn.Close()
	if m := w.Next(t); string(m.Payload) == "first" {
		expectWill(t, w, "will/wr", "second")
	} else if string(m.Payload) != "second" {
		t.Fatalf("got %q %q, want will/wr second", m.Topic, m.Payload)
	}
}

// TestWillAtSessionEnd publishes the will when the session ends before the
// Will Delay Interval [MQTT-3.1.3-9]: at the session expiry, and at once
// for a session that ends with its connection.
func TestWillAtSessionEnd(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	w := willWatcher(t, s, "watcher", "will/#")
	c, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, withWill(sessConnect("se0", true, 0), "will/se0", "now", 1, 30))
	c.Conn.Close()
	expectWill(t, w, "will/se0", "now")

	c, _ = testutil.ConnectRaw(t, s.TCP(), packet.V5, withWill(sessConnect("se1", false, 1), "will/se1", "at expiry", 1, 30))
	closed := time.Now() // before the server can see the close
	c.Conn.Close()
	expectWill(t, w, "will/se1", "at expiry")
	if d := time.Since(closed); d < 900*time.Millisecond {
		t.Fatalf("will after %v, before the 1 s session expiry", d)
	}
}

func kick(t *testing.T, s *testutil.Server, id string) {
	t.Helper()
	if err := s.Broker().Kick(id); err != nil {
		t.Fatalf("kick %q: %v", id, err)
	}
}

// TestWillAfterRestart stops the node while a persistent client with a
// delayed will is connected: the session is kept, and the will fires after
// its delay once the node is back, since the client did not return
// [MQTT-3.1.3-9] (broker.Shutdown documents this).
func TestWillAfterRestart(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	testutil.ConnectRaw(t, s.TCP(), packet.V5, withWill(sessConnect("wrs", false, 600), "will/wrs", "after restart", 1, 1))
	s = s.Restart(t)
	w := willWatcher(t, s, "watcher", "will/#")
	expectWill(t, w, "will/wrs", "after restart")
}

// TestWillRetainedEmpty publishes a retained will with an empty payload: it
// removes the topic's retained message [MQTT-3.3.1-6] [MQTT-3.3.1-7].
func TestWillRetainedEmpty(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	pub, _ := testutil.ConnectRaw(t, s.TCP(), packet.V311, &packet.Connect{ClientID: "ret-pub", CleanStart: true})
	pub.Send(&packet.Publish{QoS: 1, PacketID: 1, Retain: true, Topic: []byte("will/ret"), Payload: []byte("old")})
	expectAck(t, pub, packet.PUBACK, 1)
	cp := withWill(&packet.Connect{ClientID: "ret", CleanStart: true}, "will/ret", "", 1, 0)
	cp.WillRetain = true
	c, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, cp)
	w := willWatcher(t, s, "watcher", "will/ret")
	expectWill(t, w, "will/ret", "old") // the retained message, before the will
	c.Conn.Close()
	expectWill(t, w, "will/ret", "")
	late, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, &packet.Connect{ClientID: "late", CleanStart: true})
	late.Subscribe(1, "will/#", 1)
	late.ExpectNothing(200 * time.Millisecond)
}
