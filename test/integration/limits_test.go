package integration

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// TestLimitMaxConnections checks listeners.tcp.default.max_connections: the
// N+1st connection is closed without a CONNACK, the N connected clients
// keep working, and a freed slot can be used again (EMQX max_connections).
func TestLimitMaxConnections(t *testing.T) {
	s := testutil.RunServer(t, func(c *config.Config) {
		l := c.Listeners.TCP["default"]
		l.MaxConnections = 3
		c.Listeners.TCP["default"] = l
	})
	sub, _ := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: "c1", CleanStart: true})
	pub, _ := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: "c2", CleanStart: true})
	third, _ := testutil.ConnectRawV5(t, s.TCP(), "c3")
	sub.SubscribeOK(t, "mc/#", 1)
	extra := testutil.DialRaw(t, s.TCP(), packet.V5)
	extra.Send(&packet.Connect{ProtocolVersion: packet.V5, ClientID: "c4", CleanStart: true})
	if got := extra.ExpectClosed(testutil.Timeout); len(got) != 0 {
		t.Fatalf("the connection over max_connections got %v", got)
	}
	pub.PublishRC(t, "mc/a", "still here")
	sub.Expect(t, "mc/a", "still here")
	third.Send(&packet.Disconnect{})
	third.ExpectClosed(testutil.Timeout)
	testutil.Eventually(t, testutil.Timeout, func() error {
		return tryConnect(s.TCP(), "c5", testutil.Timeout)
	})
}

// TestLimitMaxConnRate checks listeners.tcp.default.max_conn_rate: with
// 20/s (a bucket of 20), 50 connections take at least (50-20)/20 = 1.5 s
// (EMQX max_conn_rate pauses accepting). A lower bound only: a busy
// machine makes it longer, never shorter.
func TestLimitMaxConnRate(t *testing.T) {
	s := testutil.RunServer(t, func(c *config.Config) {
		l := c.Listeners.TCP["default"]
		l.MaxConnRate = config.Rate{Count: 20, Per: time.Second}
		c.Listeners.TCP["default"] = l
	})
	start := time.Now()
	for i := range 50 {
		if err := tryConnect(s.TCP(), fmt.Sprint("r", i), testutil.Timeout); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
	}
	if el := time.Since(start); el < 1300*time.Millisecond {
		t.Fatalf("50 connections at 20/s took %v, want at least 1.5s", el)
	}
}

// tryConnect makes one raw v5 connection attempt, waiting up to d for the
// CONNACK, without failing the test.
func tryConnect(addr, id string, d time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, d)
	if err != nil {
		return err
	}
	defer c.Close()
	b, _ := (&packet.Connect{ProtocolVersion: packet.V5, ClientID: id, CleanStart: true}).Append(nil, packet.V5)
	_ = c.SetDeadline(time.Now().Add(d))
	if _, err := c.Write(b); err != nil {
		return err
	}
	p, err := packet.ReadPacket(c, packet.V5, 0)
	if err != nil {
		return fmt.Errorf("no CONNACK: %w", err)
	}
	if ack, ok := p.(*packet.Connack); !ok || ack.ReasonCode != 0 {
		return fmt.Errorf("got %+v", p)
	}
	return nil
}

// TestLimitMaxPublishRate checks mqtt.max_publish_rate: a client publishing
// QoS 1 as fast as acknowledgements allow is held to 20/s after its burst
// of 20 (EMQX messages_rate limiter): the 60th publish cannot be handled
// before (60-20-1)/20 = 1.95 s. A lower bound only: a busy machine makes it
// longer, never shorter.
func TestLimitMaxPublishRate(t *testing.T) {
	s := testutil.RunServer(t, func(c *config.Config) {
		c.MQTT.MaxPublishRate = config.Rate{Count: 20, Per: time.Second}
	})
	fast, _ := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: "flood", CleanStart: true})
	start := time.Now()
	for i := range 60 {
		if _, err := fast.Publish(testutil.Ctx(t), &paho.Publish{Topic: "rate/a", QoS: 1, Payload: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	if el := time.Since(start); el < 1700*time.Millisecond {
		t.Fatalf("60 QoS 1 publishes at 20/s (burst 20) took %v, want at least 1.95s", el)
	}
}

// TestLimitMaxPublishRateOwnBucket: each client has its own bucket. With 5
// publishes an hour, a flooder gets its burst of 5 (and a 6th, whose token
// it then waits for, a quarter of an hour) and nothing more, while another
// client still gets its own 5 through: with a shared bucket they would wait
// too.
func TestLimitMaxPublishRateOwnBucket(t *testing.T) {
	s := testutil.RunServer(t, func(c *config.Config) {
		c.MQTT.MaxPublishRate = config.Rate{Count: 5, Per: time.Hour}
	})
	flood, _ := testutil.ConnectRawV5(t, s.TCP(), "flood")
	for pid := uint16(1); pid <= 7; pid++ {
		flood.Send(&packet.Publish{Topic: []byte("rate/a"), QoS: 1, PacketID: pid, Payload: []byte("f")})
	}
	for pid := uint16(1); pid <= 6; pid++ {
		if a := flood.Expect(packet.PUBACK).(*packet.Ack); a.PacketID != pid {
			t.Fatalf("PUBACK %d, want %d", a.PacketID, pid)
		}
	}
	other, _ := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: "other", CleanStart: true})
	for i := range 5 {
		other.PublishRC(t, "rate/b", fmt.Sprint(i)) // fails at testutil.Timeout if throttled
	}
	flood.ExpectNothing(200 * time.Millisecond) // the 7th waits for its token
}

// TestLimitMaxPublishRateFlood checks the bound holds for a client that
// pipelines small QoS 0 publishes without waiting, thousands per read: the
// broker handles the burst of 50 at once and then 50/s, not whole read
// batches, so it cannot have handled n publishes before (n-50-1)/50 s. The
// count is the broker's (packets.publish.received): nothing depends on
// QoS 0 deliveries, which may be dropped under load.
func TestLimitMaxPublishRateFlood(t *testing.T) {
	s := testutil.RunServer(t, func(c *config.Config) {
		c.MQTT.MaxPublishRate = config.Rate{Count: 50, Per: time.Second}
	})
	pub := testutil.DialRaw(t, s.TCP(), packet.V5)
	pub.Connect(&packet.Connect{ClientID: "flooder", CleanStart: true})
	payload := make([]byte, 10)
	start := time.Now()
	go func() {
		for {
			b, _ := (&packet.Publish{Topic: []byte("flood/x"), Payload: payload}).Append(nil, packet.V5)
			_ = pub.Conn.SetWriteDeadline(time.Now().Add(testutil.Timeout))
			if _, err := pub.Conn.Write(b); err != nil {
				return
			}
		}
	}()
	var n uint64
	testutil.Eventually(t, testutil.Timeout, func() error {
		if n = s.Metric(t, "packets.publish.received"); n < 150 {
			return fmt.Errorf("%d publishes handled", n)
		}
		return nil
	})
	el := time.Since(start)
	pub.Conn.Close()
	if limit := 50 + 1 + 50*el.Seconds(); float64(n) > limit {
		t.Fatalf("%d publishes of a QoS 0 flood handled in %v at 50/s (burst 50), want at most %.0f", n, el, limit)
	}
}

// TestLimitMaxTopicLevels checks mqtt.max_topic_levels: a PUBLISH to a
// deeper topic gets PUBACK 0x90 and is not routed, a SUBSCRIBE to a deeper
// filter gets 0x8F (v5) or 0x80 (v3) (EMQX max_topic_levels).
func TestLimitMaxTopicLevels(t *testing.T) {
	s := testutil.RunServer(t, func(c *config.Config) { c.MQTT.MaxTopicLevels = 3 })
	sub, _ := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: "sub", CleanStart: true})
	sub.SubscribeOK(t, "#", 1)
	ack, err := sub.Subscribe(testutil.Ctx(t), &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{
		{Topic: "a/b/c", QoS: 1}, {Topic: "a/b/c/d", QoS: 1}, {Topic: "a/+/+/#", QoS: 1},
	}})
	if ack == nil {
		t.Fatalf("subscribe: %v", err)
	}
	if want := []byte{1, 0x8F, 0x8F}; string(ack.Reasons) != string(want) {
		t.Fatalf("SUBACK %v, want %v", ack.Reasons, want)
	}
	if rc := sub.PublishRC(t, "a/b/c/d", "deep"); rc != byte(packet.TopicNameInvalid) {
		t.Fatalf("PUBACK %#x for a 4-level topic, want 0x90", rc)
	}
	sub.PublishRC(t, "a/b/c", "ok")
	sub.Expect(t, "a/b/c", "ok") // the deep one was not routed
	v3 := testutil.ConnectV3(t, s.TCP(), "v3")
	tok := v3.Subscribe("a/b/c/d", 1, nil)
	testutil.Wait(t, tok)
	if rc := tok.(interface{ Result() map[string]byte }).Result()["a/b/c/d"]; rc != 0x80 {
		t.Fatalf("v3 SUBACK %#x, want 0x80", rc)
	}
}

// TestLimitMaxSubscriptions checks mqtt.max_subscriptions: once a client has
// that many subscriptions, a new filter gets 0x97 Quota exceeded, while
// re-subscribing an existing filter still works (EMQX max_subscriptions).
func TestLimitMaxSubscriptions(t *testing.T) {
	s := testutil.RunServer(t, func(c *config.Config) { c.MQTT.MaxSubscriptions = 2 })
	c, _ := testutil.ConnectRawV5(t, s.TCP(), "subs")
	got := c.SubscribeCodes(1, 1, "s/1", "s/2", "s/3")
	if want := []packet.ReasonCode{1, 1, packet.QuotaExceeded}; !equalCodes(got, want) {
		t.Fatalf("SUBACK %v, want %v", got, want)
	}
	if got := c.SubscribeCodes(2, 0, "s/2"); !equalCodes(got, []packet.ReasonCode{0}) {
		t.Fatalf("re-subscribe: %v", got)
	}
	c.Send(&packet.Unsubscribe{PacketID: 3, Filters: []string{"s/1"}})
	c.Expect(packet.UNSUBACK)
	if got := c.SubscribeCodes(4, 1, "s/3"); !equalCodes(got, []packet.ReasonCode{1}) {
		t.Fatalf("after unsubscribe: %v", got)
	}
}

func equalCodes(a, b []packet.ReasonCode) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// TestLimitMaxInflight checks mqtt.max_inflight: CONNACK announces it as
// Receive Maximum, and a client never has more unacknowledged QoS 1
// messages than that, nor more than its own Receive Maximum
// [MQTT-3.3.4-9]; the rest wait and flow as acks come.
func TestLimitMaxInflight(t *testing.T) {
	s := testutil.RunServer(t, func(c *config.Config) { c.MQTT.MaxInflight = 4 })
	cases := []struct {
		name    string
		recvMax uint16
		window  int
	}{{"server-limit", 0, 4}, {"client-receive-maximum", 2, 2}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := testutil.DialRaw(t, s.TCP(), packet.V5)
			cp := &packet.Connect{ClientID: "inflight-" + tc.name, CleanStart: true}
			if tc.recvMax > 0 {
				cp.Props.ReceiveMaximum = tc.recvMax
				cp.Props.Set(packet.PropReceiveMaximum)
			}
			if ack := c.Connect(cp); ack.Props.ReceiveMaximum != 4 {
				t.Fatalf("CONNACK Receive Maximum %d, want 4", ack.Props.ReceiveMaximum)
			}
			c.SubscribeCodes(1, 1, "inf/"+tc.name)
			pub, _ := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: "pub-" + tc.name, CleanStart: true})
			for i := range 10 {
				pub.PublishRC(t, "inf/"+tc.name, fmt.Sprint(i))
			}
			checkWindow(t, c, tc.window, 10)
		})
	}
}

// checkWindow reads total QoS 1 messages from c, which must never have more
// than window unacknowledged, acknowledging one at a time once the window
// is full.
func checkWindow(t *testing.T, c *testutil.Raw, window, total int) {
	t.Helper()
	var unacked []uint16
	for got := 0; got < total; {
		if len(unacked) == window {
			c.None(100 * time.Millisecond)
			c.Send(&packet.Ack{PacketType: packet.PUBACK, PacketID: unacked[0]})
			unacked = unacked[1:]
		}
		p := c.Expect(packet.PUBLISH).(*packet.Publish)
		if string(p.Payload) != fmt.Sprint(got) {
			t.Fatalf("message %q, want %d", p.Payload, got)
		}
		unacked = append(unacked, p.PacketID)
		got++
	}
}

// TestLimitMaxMqueueLen checks mqtt.max_mqueue_len: an offline persistent
// session keeps only the newest 5 QoS 1 messages, dropping the oldest and
// counting them in delivery.dropped.queue_full (EMQX mqueue).
func TestLimitMaxMqueueLen(t *testing.T) {
	s := testutil.RunServer(t, func(c *config.Config) { c.MQTT.MaxMqueueLen = 5 })
	expiry := uint32(60)
	connect := func() *testutil.V5 {
		c, _ := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: "queued", Properties: &paho.ConnectProperties{SessionExpiryInterval: &expiry}})
		return c
	}
	sub := connect()
	sub.SubscribeOK(t, "q/#", 1)
	if err := sub.Disconnect(&paho.Disconnect{}); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	pub, _ := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: "qpub", CleanStart: true})
	testutil.WaitGauge(t, "connections", &s.Broker().Stats().Connections, 1)
	for i := range 8 {
		pub.PublishRC(t, "q/x", fmt.Sprint(i))
	}
	if n := s.Metric(t, "delivery.dropped.queue_full"); n != 3 {
		t.Fatalf("delivery.dropped.queue_full = %d, want 3", n)
	}
	again := connect()
	for i := 3; i < 8; i++ {
		again.Expect(t, "q/x", fmt.Sprint(i))
	}
	again.None(t, 200*time.Millisecond)
}

// TestLimitMaxPacketSize checks mqtt.max_packet_size: CONNACK announces it
// [MQTT-3.2.2-15]; a packet of exactly that size is accepted; a larger one
// gets DISCONNECT 0x95 (v5) and the connection closes, for v3 it just
// closes; and the broker does not send a subscriber a packet over the
// subscriber's own Maximum Packet Size [MQTT-3.1.2-24] [MQTT-3.1.2-25].
func TestLimitMaxPacketSize(t *testing.T) {
	s := testutil.RunServer(t, func(c *config.Config) { c.MQTT.MaxPacketSize = 1024 })
	c, ack := testutil.ConnectRawV5(t, s.TCP(), "big")
	if !ack.Props.Has(packet.PropMaximumPacketSize) || ack.Props.MaximumPacketSize != 1024 {
		t.Fatalf("CONNACK Maximum Packet Size %d", ack.Props.MaximumPacketSize)
	}
	exact := &packet.Publish{Topic: []byte("mp/x"), QoS: 1, PacketID: 1}
	exact.Payload = make([]byte, 1024-exact.Size(packet.V5)-1) // -1: the remaining length takes 2 bytes
	if exact.Size(packet.V5) != 1024 {
		t.Fatalf("test packet is %d bytes", exact.Size(packet.V5))
	}
	c.Send(exact)
	c.Expect(packet.PUBACK)
	over := &packet.Publish{Topic: []byte("mp/x"), QoS: 1, PacketID: 2, Payload: make([]byte, len(exact.Payload)+1)}
	c.Send(over)
	c.ExpectDisconnect(packet.PacketTooLarge)

	v3 := testutil.DialRaw(t, s.TCP(), packet.V311)
	v3.Connect(&packet.Connect{ClientID: "big3", CleanStart: true})
	v3.Send(&packet.Publish{Topic: []byte("mp/x"), Payload: make([]byte, 2000)})
	if got := v3.ExpectClosed(testutil.Timeout); len(got) != 0 {
		t.Fatalf("v3 client got %v", got)
	}
}

// TestLimitClientMaxPacketSize checks that a message larger than the
// subscriber's Maximum Packet Size is not sent to it, counted as
// delivery.dropped.too_large, while smaller ones are [MQTT-3.1.2-24]
// [MQTT-3.1.2-25].
func TestLimitClientMaxPacketSize(t *testing.T) {
	s := testutil.RunServer(t)
	c := testutil.DialRaw(t, s.TCP(), packet.V5)
	cp := &packet.Connect{ClientID: "small", CleanStart: true}
	cp.Props.MaximumPacketSize = 200
	cp.Props.Set(packet.PropMaximumPacketSize)
	c.Connect(cp)
	c.SubscribeCodes(1, 1, "cmp/#")
	pub, _ := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: "p", CleanStart: true})
	pub.PublishRC(t, "cmp/big", strings.Repeat("x", 300))
	pub.PublishRC(t, "cmp/small", "ok")
	p := c.Expect(packet.PUBLISH).(*packet.Publish)
	if string(p.Payload) != "ok" {
		t.Fatalf("got %q first; the 300-byte message should have been dropped", p.Payload)
	}
	if n := s.Metric(t, "delivery.dropped.too_large"); n != 1 {
		t.Fatalf("delivery.dropped.too_large = %d", n)
	}
}

// TestLimitIdleTimeout checks mqtt.idle_timeout: a connection that sends no
// CONNECT (or only part of one) is closed after it, while a connected
// client with keep alive 0 stays (EMQX idle_timeout).
func TestLimitIdleTimeout(t *testing.T) {
	s := testutil.RunServer(t, func(c *config.Config) { c.MQTT.IdleTimeout = 500 * time.Millisecond })
	connected, _ := testutil.ConnectRawV5(t, s.TCP(), "stays")
	start := time.Now()
	silent := testutil.DialRaw(t, s.TCP(), packet.V5)
	partial := testutil.DialRaw(t, s.TCP(), packet.V5)
	b, _ := (&packet.Connect{ProtocolVersion: packet.V5, ClientID: "partial", CleanStart: true}).Append(nil, packet.V5)
	partial.SendBytes(b[:len(b)-2])
	silent.ExpectClosed(testutil.Timeout)
	partial.ExpectClosed(testutil.Timeout)
	if el := time.Since(start); el < 400*time.Millisecond {
		t.Fatalf("closed after %v, before the idle timeout", el)
	}
	// The condition is the passing of time: past the idle timeout for the
	// connected client too.
	time.Sleep(time.Until(start.Add(800 * time.Millisecond)))
	connected.Send(&packet.Pingreq{})
	connected.Expect(packet.PINGRESP)
}
