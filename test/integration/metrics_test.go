package integration

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// psMeter counts the bytes raw clients send and receive, which the
// server's bytes.received and bytes.sent must match.
type psMeter struct {
	t        *testing.T
	sent     uint64 // by the clients: the server's bytes.received
	received uint64 // by the clients: the server's bytes.sent
}

func (m *psMeter) send(c *testutil.Raw, p packet.Packet) {
	m.t.Helper()
	m.sent += uint64(p.Size(c.Version))
	c.Send(p)
}

func (m *psMeter) expect(c *testutil.Raw, typ packet.Type) packet.Packet {
	m.t.Helper()
	p := c.Expect(typ)
	m.received += uint64(p.Size(c.Version))
	return p
}

func (m *psMeter) connect(addr string, version byte, id string) *testutil.Raw {
	m.t.Helper()
	c := testutil.DialRaw(m.t, addr, version)
	m.send(c, &packet.Connect{ProtocolVersion: version, ClientID: id, CleanStart: true, KeepAlive: 60})
	if ack := m.expect(c, packet.CONNACK).(*packet.Connack); ack.ReasonCode != 0 {
		m.t.Fatalf("CONNACK %v", ack.ReasonCode)
	}
	return c
}

// psWaitMetrics polls until every counter in want has its value.
func psWaitMetrics(t *testing.T, s *testutil.Server, want map[string]uint64) {
	t.Helper()
	testutil.Eventually(t, testutil.Timeout, func() error {
		got := s.Broker().Metrics().Snapshot()
		var bad []string
		for name, v := range want {
			if got[name] != v {
				bad = append(bad, fmt.Sprintf("%s = %d, want %d", name, got[name], v))
			}
		}
		sort.Strings(bad)
		if len(bad) > 0 {
			return fmt.Errorf("\n  %s", strings.Join(bad, "\n  "))
		}
		return nil
	})
}

// psWaitStats polls until the gauges have the given current values.
func psWaitStats(t *testing.T, s *testutil.Server, want map[string]int64) {
	t.Helper()
	testutil.Eventually(t, testutil.Timeout, func() error {
		got := s.Broker().Stats().Snapshot()
		for name, v := range want {
			if got[name] != v {
				return fmt.Errorf("%s = %d, want %d", name, got[name], v)
			}
		}
		return nil
	})
}

// TestMetricsScenario runs a scripted exchange of two v5 clients (QoS 0, 1
// and 2 both ways, a message nobody subscribed to, a retained message, ping,
// unsubscribe, disconnect) and checks every EMQX-named counter it touches
// (emqx_metrics) and the Stats gauges along the way.
func TestMetricsScenario(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	m := &psMeter{t: t}
	sub := m.connect(s.TCP(), packet.V5, "sub")
	m.send(sub, &packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "m/#", QoS: 2}, {Filter: "m/+", QoS: 1}}})
	m.expect(sub, packet.SUBACK)
	pub := m.connect(s.TCP(), packet.V5, "pub")
	psWaitStats(t, s, map[string]int64{"connections.count": 2, "sessions.count": 2, "subscriptions.count": 2, "topics.count": 2})

	m.send(pub, &packet.Publish{Topic: []byte("m/0"), Payload: []byte("zero")})
	if p := m.expect(sub, packet.PUBLISH).(*packet.Publish); p.QoS != 0 {
		t.Fatalf("QoS %d", p.QoS)
	}
	m.send(pub, &packet.Publish{Topic: []byte("m/1"), QoS: 1, PacketID: 1, Payload: []byte("one")})
	m.expect(pub, packet.PUBACK)
	p := m.expect(sub, packet.PUBLISH).(*packet.Publish)
	m.send(sub, &packet.Ack{PacketType: packet.PUBACK, PacketID: p.PacketID})
	m.send(pub, &packet.Publish{Topic: []byte("m/2"), QoS: 2, PacketID: 2, Payload: []byte("two")})
	m.expect(pub, packet.PUBREC)
	m.send(pub, &packet.Ack{PacketType: packet.PUBREL, PacketID: 2})
	m.expect(pub, packet.PUBCOMP)
	p = m.expect(sub, packet.PUBLISH).(*packet.Publish)
	m.send(sub, &packet.Ack{PacketType: packet.PUBREC, PacketID: p.PacketID})
	m.expect(sub, packet.PUBREL)
	m.send(sub, &packet.Ack{PacketType: packet.PUBCOMP, PacketID: p.PacketID})
	m.send(pub, &packet.Publish{Topic: []byte("nobody"), QoS: 1, PacketID: 3, Payload: []byte("lost")})
	if a := m.expect(pub, packet.PUBACK).(*packet.Ack); a.ReasonCode != packet.NoMatchingSubscribers {
		t.Fatalf("PUBACK %v, want 0x10", a.ReasonCode)
	}
	m.send(pub, &packet.Publish{Topic: []byte("kept"), Retain: true, Payload: []byte("r")})
	psWaitStats(t, s, map[string]int64{"retained.count": 1})
	m.send(sub, &packet.Pingreq{})
	m.expect(sub, packet.PINGRESP)
	m.send(sub, &packet.Unsubscribe{PacketID: 2, Filters: []string{"m/#", "m/+"}})
	m.expect(sub, packet.UNSUBACK)
	psWaitStats(t, s, map[string]int64{"subscriptions.count": 0, "topics.count": 0, "subscriptions.max": 2})
	m.send(pub, &packet.Disconnect{})
	m.send(sub, &packet.Disconnect{})
	pub.ExpectClosed(testutil.Timeout)
	sub.ExpectClosed(testutil.Timeout)

	psWaitStats(t, s, map[string]int64{"connections.count": 0, "sessions.count": 0, "connections.max": 2, "retained.count": 1})
	psWaitMetrics(t, s, map[string]uint64{
		"bytes.received": m.sent, "bytes.sent": m.received,
		"packets.received": 16, "packets.sent": 13,
		"packets.connect.received": 2, "packets.connack.sent": 2, "packets.connack.error": 0,
		"packets.publish.received": 5, "packets.publish.sent": 3, "packets.publish.dropped": 0,
		"packets.puback.received": 1, "packets.puback.sent": 2, "packets.puback.missed": 0,
		"packets.pubrec.received": 1, "packets.pubrec.sent": 1, "packets.pubrel.received": 1, "packets.pubrel.sent": 1,
		"packets.pubcomp.received": 1, "packets.pubcomp.sent": 1,
		"packets.subscribe.received": 1, "packets.suback.sent": 1, "packets.unsubscribe.received": 1, "packets.unsuback.sent": 1,
		"packets.pingreq.received": 1, "packets.pingresp.sent": 1, "packets.disconnect.received": 2, "packets.disconnect.sent": 0,
		"messages.received": 5, "messages.sent": 3, "messages.publish": 5, "messages.delivered": 3, "messages.acked": 2,
		"messages.qos0.received": 2, "messages.qos1.received": 2, "messages.qos2.received": 1,
		"messages.qos0.sent": 1, "messages.qos1.sent": 1, "messages.qos2.sent": 1,
		"messages.dropped": 2, "messages.dropped.no_subscribers": 2, "messages.retained": 1,
		"client.connect": 2, "client.connack": 2, "client.connected": 2, "client.disconnected": 2, "client.authenticate": 2,
		"client.subscribe": 2, "client.unsubscribe": 2, "client.auth.anonymous": 2,
		"authentication.success": 2, "authentication.success.anonymous": 2, "authentication.failure": 0,
		"session.created": 2, "session.terminated": 2, "session.resumed": 0, "session.takenover": 0, "session.discarded": 0,
		"delivery.dropped": 0,
	})
}

// TestMetricsDrops: delivery.dropped.* count the deliveries dropped for No
// Local, the client's Maximum Packet Size, a full queue and expiry;
// packets.*.missed the acknowledgements for unknown packet ids; and
// authorization, session and refusal counters move with their events.
func TestMetricsDrops(t *testing.T) {
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) {
		c.MQTT.MaxMqueueLen = 1
		c.Authorization.Rules = []config.Rule{{Permission: "deny", Who: "all", Action: "publish", Topics: []string{"deny/#"}}}
	})
	pub, _ := psRaw(t, s.TCP(), packet.V5, "pub", psMaxOut(64))
	psRawSub(t, pub, 1, 0, packet.Subscription{Filter: "d/own", NoLocal: true}, packet.Subscription{Filter: "d/big"})
	off, _ := psRaw(t, s.TCP(), packet.V5, "off", psSessionExpiry(60))
	psRawSub(t, off, 1, 0, packet.Subscription{Filter: "d/q/#", QoS: 1})
	off.Send(&packet.Disconnect{})
	off.ExpectClosed(testutil.Timeout)
	for i, tp := range []string{"d/own", "d/big", "d/q/1", "d/q/2", "deny/x"} {
		payload := "x"
		if tp == "d/big" {
			payload = strings.Repeat("b", 100)
		}
		psRawPub(pub, tp, 1, uint16(i+1), payload)
		psExpectAck(t, pub, packet.PUBACK, uint16(i+1))
	}
	pub.Send(&packet.Ack{PacketType: packet.PUBACK, PacketID: 99})
	pub.Send(&packet.Ack{PacketType: packet.PUBREC, PacketID: 98})
	psExpectAck(t, pub, packet.PUBREL, 98)
	pub.Send(&packet.Ack{PacketType: packet.PUBCOMP, PacketID: 97})
	pub.Send(&packet.Ack{PacketType: packet.PUBREL, PacketID: 96})
	psExpectAck(t, pub, packet.PUBCOMP, 96)
	psRaw(t, s.TCP(), packet.V5, "off", psSessionExpiry(60), func(p *packet.Connect) { p.CleanStart = false })
	psRaw(t, s.TCP(), packet.V5, "off") // takes over and discards
	psWaitMetrics(t, s, map[string]uint64{
		"delivery.dropped.no_local": 1, "delivery.dropped.too_large": 1, "delivery.dropped.queue_full": 1,
		"delivery.dropped": 3, "messages.dropped": 1, "packets.publish.dropped": 1, "packets.publish.auth_error": 1,
		"authorization.deny": 1, "authorization.allow": 7, "client.authorize": 8,
		"packets.puback.missed": 1, "packets.pubrec.missed": 1, "packets.pubcomp.missed": 1, "packets.pubrel.missed": 1,
		"session.created": 3, "session.resumed": 1, "session.takenover": 1, "session.discarded": 1,
		"packets.disconnect.sent": 1,
	})
	_ = broker.Version
}
