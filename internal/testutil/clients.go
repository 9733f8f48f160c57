package testutil

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	mqtt3 "github.com/eclipse/paho.mqtt.golang"
)

// Timeout bounds every client operation and every wait for an event in
// tests. It is a failure bound, never the thing measured: a machine shared
// with other jobs may stall a test for seconds, so it is generous, and a
// passing test never waits for it.
const Timeout = 30 * time.Second

// V5 is a paho.golang (MQTT 5) client whose received PUBLISH packets arrive
// on Msgs and whose server DISCONNECT arrives on Disc.
type V5 struct {
	*paho.Client
	Conn net.Conn
	Msgs chan *paho.Publish
	Disc chan *paho.Disconnect
}

// DialV5 opens a TCP connection to addr and wraps it in a paho.golang
// client (not yet connected). It is closed in t.Cleanup.
func DialV5(t testing.TB, addr string) *V5 {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, Timeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	return WrapV5(t, conn)
}

// WrapV5 wraps an open connection (TCP, TLS, WebSocket) in a paho.golang client.
func WrapV5(t testing.TB, conn net.Conn) *V5 {
	t.Helper()
	c := &V5{Conn: conn, Msgs: make(chan *paho.Publish, 1024), Disc: make(chan *paho.Disconnect, 1)}
	var done atomic.Bool // the test has ended: paho may still route packets it had read
	c.Client = paho.NewClient(paho.ClientConfig{
		Conn: conn,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){
			func(pr paho.PublishReceived) (bool, error) {
				select {
				case c.Msgs <- pr.Packet:
				default:
					if !done.Load() {
						t.Errorf("V5 client: message buffer full")
					}
				}
				return true, nil
			},
		},
		OnServerDisconnect: func(d *paho.Disconnect) {
			select {
			case c.Disc <- d:
			default:
			}
		},
	})
	t.Cleanup(func() {
		done.Store(true)
		conn.Close()
	})
	return c
}

// ConnectV5 dials addr and connects with cp; it fails the test unless the
// CONNACK is a success.
func ConnectV5(t testing.TB, addr string, cp *paho.Connect) (*V5, *paho.Connack) {
	t.Helper()
	c := DialV5(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	ack, err := c.Connect(ctx, cp)
	if err != nil {
		t.Fatalf("connect %q: %v (connack %+v)", cp.ClientID, err, ack)
	}
	return c, ack
}

// Ctx returns a context bounded by Timeout, cancelled in t.Cleanup.
func Ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	return ctx
}

// Next waits for the next message or fails the test.
func (c *V5) Next(t testing.TB) *paho.Publish {
	t.Helper()
	select {
	case p := <-c.Msgs:
		return p
	case <-time.After(Timeout):
		t.Fatalf("no message within %v", Timeout)
		return nil
	}
}

// None asserts that no message arrives within d.
func (c *V5) None(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case p := <-c.Msgs:
		t.Fatalf("unexpected message on %q: %q", p.Topic, p.Payload)
	case <-time.After(d):
	}
}

// V3 is a paho.mqtt.golang (MQTT 3.1.1) client whose messages arrive on Msgs.
type V3 struct {
	mqtt3.Client
	Msgs chan mqtt3.Message
}

// ConnectV3 connects a 3.1.1 client to tcp://addr; mutate may change the
// options (clean session, will, credentials...). It disconnects in
// t.Cleanup.
func ConnectV3(t testing.TB, addr, clientID string, mutate ...func(*mqtt3.ClientOptions)) *V3 {
	t.Helper()
	return ConnectV3URL(t, "tcp://"+addr, clientID, mutate...)
}

// ConnectV3URL is ConnectV3 with a broker URL of any scheme paho.mqtt.golang
// supports (tcp://, ssl://, ws://host/mqtt, wss://host/mqtt).
func ConnectV3URL(t testing.TB, url, clientID string, mutate ...func(*mqtt3.ClientOptions)) *V3 {
	t.Helper()
	c := &V3{Msgs: make(chan mqtt3.Message, 1024)}
	o := mqtt3.NewClientOptions().AddBroker(url).SetClientID(clientID).
		SetAutoReconnect(false).SetConnectRetry(false).SetProtocolVersion(4).
		SetDefaultPublishHandler(func(_ mqtt3.Client, m mqtt3.Message) { c.Msgs <- m })
	for _, m := range mutate {
		m(o)
	}
	c.Client = mqtt3.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(Timeout) || tok.Error() != nil {
		t.Fatalf("connect %q: %v", clientID, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(50) })
	return c
}

// Wait waits for a token or fails the test.
func Wait(t testing.TB, tok mqtt3.Token) {
	t.Helper()
	if !tok.WaitTimeout(Timeout) {
		t.Fatalf("token timed out")
	}
	if err := tok.Error(); err != nil {
		t.Fatalf("token: %v", err)
	}
}

// Next waits for the next message or fails the test.
func (c *V3) Next(t testing.TB) mqtt3.Message {
	t.Helper()
	select {
	case m := <-c.Msgs:
		return m
	case <-time.After(Timeout):
		t.Fatalf("no message within %v", Timeout)
		return nil
	}
}

// None asserts that no message arrives within d.
func (c *V3) None(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case m := <-c.Msgs:
		t.Fatalf("unexpected message on %q: %q", m.Topic(), m.Payload())
	case <-time.After(d):
	}
}

// SubscribeOK subscribes to filter at qos and fails unless it is granted.
func (c *V5) SubscribeOK(t testing.TB, filter string, qos byte) {
	t.Helper()
	ack, err := c.Subscribe(Ctx(t), &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: qos}}})
	if err != nil {
		t.Fatalf("subscribe %q: %v", filter, err)
	}
	if len(ack.Reasons) != 1 || ack.Reasons[0] != qos {
		t.Fatalf("subscribe %q: reasons %v", filter, ack.Reasons)
	}
}

// PublishRC publishes at QoS 1 and returns the PUBACK reason code.
func (c *V5) PublishRC(t testing.TB, topic, payload string) byte {
	t.Helper()
	pr, err := c.Publish(Ctx(t), &paho.Publish{Topic: topic, QoS: 1, Payload: []byte(payload)})
	if pr == nil {
		t.Fatalf("publish %q: %v", topic, err)
	}
	return pr.ReasonCode
}

// Expect waits for the next message and checks its topic and payload.
func (c *V5) Expect(t testing.TB, topic, payload string) {
	t.Helper()
	m := c.Next(t)
	if m.Topic != topic || string(m.Payload) != payload {
		t.Fatalf("got %q %q, want %q %q", m.Topic, m.Payload, topic, payload)
	}
}
