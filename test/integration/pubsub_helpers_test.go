package integration

import (
	"fmt"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// Helpers of the publish/subscribe area. Their names start with "ps" so they
// do not collide with the helpers of other areas in this package.

// psRaw dials addr and connects a raw client of the given version with a
// clean start; mutate may change the CONNECT first.
func psRaw(t *testing.T, addr string, version byte, id string, mutate ...func(*packet.Connect)) (*testutil.Raw, *packet.Connack) {
	t.Helper()
	c := testutil.DialRaw(t, addr, version)
	p := &packet.Connect{ClientID: id, CleanStart: true, KeepAlive: 60}
	for _, m := range mutate {
		m(p)
	}
	ack := c.Connect(p)
	if ack.ReasonCode != packet.Success {
		t.Fatalf("connect %q: CONNACK %v", id, ack.ReasonCode)
	}
	return c, ack
}

// psRawSub subscribes a raw client and returns the SUBACK.
func psRawSub(t *testing.T, c *testutil.Raw, pid uint16, subID uint32, subs ...packet.Subscription) *packet.Suback {
	t.Helper()
	p := &packet.Subscribe{PacketID: pid, Subscriptions: subs}
	if subID != 0 {
		p.Props.SubscriptionIDs = []uint32{subID}
	}
	c.Send(p)
	ack := c.Expect(packet.SUBACK).(*packet.Suback)
	if ack.PacketID != pid || len(ack.ReasonCodes) != len(subs) {
		t.Fatalf("SUBACK %+v for SUBSCRIBE %d with %d filters", ack, pid, len(subs))
	}
	return ack
}

// psRawPub sends a PUBLISH from a raw client.
func psRawPub(c *testutil.Raw, topic string, qos byte, pid uint16, payload string, mutate ...func(*packet.Publish)) {
	p := &packet.Publish{Topic: []byte(topic), QoS: qos, PacketID: pid, Payload: []byte(payload)}
	for _, m := range mutate {
		m(p)
	}
	c.Send(p)
}

// psExpectPub reads the next packet and fails unless it is a PUBLISH.
func psExpectPub(t *testing.T, c *testutil.Raw) *packet.Publish {
	t.Helper()
	return c.Expect(packet.PUBLISH).(*packet.Publish)
}

// psExpectAck reads the next packet and fails unless it is an ack of type typ
// for packet id pid.
func psExpectAck(t *testing.T, c *testutil.Raw, typ packet.Type, pid uint16) *packet.Ack {
	t.Helper()
	a := c.Expect(typ).(*packet.Ack)
	if a.PacketID != pid {
		t.Fatalf("%v for packet id %d, want %d", typ, a.PacketID, pid)
	}
	return a
}

// psRawNone asserts that nothing arrives on a raw client within d.
func psRawNone(t *testing.T, c *testutil.Raw, d time.Duration) {
	t.Helper()
	if p, err := c.Read(d); err == nil {
		t.Fatalf("unexpected %v: %+v", p.Type(), p)
	}
}

// psExpectDisconnect waits for the server to close the connection and
// fails unless a DISCONNECT with rc came first (v5).
func psExpectDisconnect(t *testing.T, c *testutil.Raw, rc packet.ReasonCode) *packet.Disconnect {
	t.Helper()
	got := c.ExpectClosed(testutil.Timeout)
	for _, p := range got {
		if d, ok := p.(*packet.Disconnect); ok {
			if d.ReasonCode != rc {
				t.Fatalf("DISCONNECT %v, want %v", d.ReasonCode, rc)
			}
			return d
		}
	}
	t.Fatalf("connection closed without DISCONNECT %v (got %d packets)", rc, len(got))
	return nil
}

// psV5 connects a paho.golang client with a clean start.
func psV5(t *testing.T, addr, id string, mutate ...func(*paho.Connect)) *testutil.V5 {
	t.Helper()
	cp := &paho.Connect{ClientID: id, CleanStart: true, KeepAlive: 60}
	for _, m := range mutate {
		m(cp)
	}
	c, _ := testutil.ConnectV5(t, addr, cp)
	return c
}

// psSub subscribes a paho.golang client and fails on an error reason code.
func psSub(t *testing.T, c *testutil.V5, subs ...paho.SubscribeOptions) *paho.Suback {
	t.Helper()
	ack, err := c.Subscribe(testutil.Ctx(t), &paho.Subscribe{Subscriptions: subs})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	for i, rc := range ack.Reasons {
		if rc >= 0x80 {
			t.Fatalf("subscription %d (%s) refused: 0x%02x", i, subs[i].Topic, rc)
		}
	}
	return ack
}

// psPub publishes from a paho.golang client and returns the response.
func psPub(t *testing.T, c *testutil.V5, topic string, qos byte, payload string, mutate ...func(*paho.Publish)) *paho.PublishResponse {
	t.Helper()
	p := &paho.Publish{Topic: topic, QoS: qos, Payload: []byte(payload)}
	for _, m := range mutate {
		m(p)
	}
	r, err := c.Publish(testutil.Ctx(t), p)
	if err != nil {
		t.Fatalf("publish %s: %v", topic, err)
	}
	return r
}

// psExpectMsg waits for the next message and checks its topic and payload.
func psExpectMsg(t *testing.T, c *testutil.V5, topic, payload string) *paho.Publish {
	t.Helper()
	m := c.Next(t)
	if m.Topic != topic || string(m.Payload) != payload {
		t.Fatalf("got %q %q, want %q %q", m.Topic, m.Payload, topic, payload)
	}
	return m
}

// psMetric returns one counter of the node by its EMQX name.
func psMetric(s *testutil.Server, name string) uint64 {
	return s.Broker().Metrics().Snapshot()[name]
}

// psWaitMetric polls until counter name reaches want.
func psWaitMetric(t *testing.T, s *testutil.Server, name string, want uint64) {
	t.Helper()
	testutil.Eventually(t, testutil.Timeout, func() error {
		if got := psMetric(s, name); got != want {
			return fmt.Errorf("%s = %d, want %d", name, got, want)
		}
		return nil
	})
}

// psNoStore runs the node without a store (durability off), for tests
// that do not exercise persistence.
func psNoStore(c *config.Config) { c.Durability = "off" }

// psMsg is a received message, whatever the client library.
type psMsg struct {
	topic, payload string
	qos            byte
	retain         bool
}

// psClient drives a 3.1.1 (paho.mqtt.golang) or 5 (paho.golang) client
// through one interface, for tests that run against both versions.
type psClient struct {
	version byte
	sub     func(t *testing.T, filter string, qos byte)
	pub     func(t *testing.T, topic string, qos byte, retain bool, payload string)
	next    func(t *testing.T) psMsg
	none    func(t *testing.T, d time.Duration)
}

// psConnect connects a client of the given version (4 or 5).
func psConnect(t *testing.T, addr string, version byte, id string) *psClient {
	t.Helper()
	if version == packet.V5 {
		return psClientV5(psV5(t, addr, id))
	}
	return psClientV3(testutil.ConnectV3(t, addr, id))
}

func psClientV5(c *testutil.V5) *psClient {
	return &psClient{
		version: packet.V5,
		sub: func(t *testing.T, filter string, qos byte) {
			t.Helper()
			ack := psSub(t, c, paho.SubscribeOptions{Topic: filter, QoS: qos})
			if ack.Reasons[0] != qos {
				t.Fatalf("subscribe %s QoS %d: granted %d", filter, qos, ack.Reasons[0])
			}
		},
		pub: func(t *testing.T, topic string, qos byte, retain bool, payload string) {
			t.Helper()
			psPub(t, c, topic, qos, payload, func(p *paho.Publish) { p.Retain = retain })
		},
		next: func(t *testing.T) psMsg {
			t.Helper()
			m := c.Next(t)
			return psMsg{m.Topic, string(m.Payload), m.QoS, m.Retain}
		},
		none: func(t *testing.T, d time.Duration) { t.Helper(); c.None(t, d) },
	}
}

func psClientV3(c *testutil.V3) *psClient {
	return &psClient{
		version: packet.V311,
		sub: func(t *testing.T, filter string, qos byte) {
			t.Helper()
			tok := c.Subscribe(filter, qos, nil)
			testutil.Wait(t, tok)
			if g := tok.(interface{ Result() map[string]byte }).Result()[filter]; g != qos {
				t.Fatalf("subscribe %s QoS %d: granted %d", filter, qos, g)
			}
		},
		pub: func(t *testing.T, topic string, qos byte, retain bool, payload string) {
			t.Helper()
			testutil.Wait(t, c.Publish(topic, qos, retain, payload))
		},
		next: func(t *testing.T) psMsg {
			t.Helper()
			m := c.Next(t)
			return psMsg{m.Topic(), string(m.Payload()), m.Qos(), m.Retained()}
		},
		none: func(t *testing.T, d time.Duration) { t.Helper(); c.None(t, d) },
	}
}

// psVersions are the protocol versions tests run against.
var psVersions = []byte{packet.V311, packet.V5}

func psVer(v byte) string {
	if v == packet.V5 {
		return "v5"
	}
	return "v3"
}
