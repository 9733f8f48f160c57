package integration

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/coder/websocket"
	"github.com/eclipse/paho.golang/paho"
	mqtt3 "github.com/eclipse/paho.mqtt.golang"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// dialWS opens a WebSocket to url offering protos and returns it as a
// net.Conn of binary messages, with the subprotocol the server chose.
func dialWS(t *testing.T, url string, tlsCfg *tls.Config, protos ...string) (net.Conn, string) {
	t.Helper()
	ws := dialWSRaw(t, url, tlsCfg, protos...)
	nc := websocket.NetConn(t.Context(), ws, websocket.MessageBinary)
	t.Cleanup(func() { nc.Close() })
	return nc, ws.Subprotocol()
}

func dialWSRaw(t *testing.T, url string, tlsCfg *tls.Config, protos ...string) *websocket.Conn {
	t.Helper()
	opts := &websocket.DialOptions{Subprotocols: protos}
	if tlsCfg != nil {
		opts.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}, Timeout: testutil.Timeout}
	}
	ws, resp, err := websocket.Dial(testutil.Ctx(t), url, opts)
	if err != nil {
		t.Fatalf("websocket dial %s: %v (response %v)", url, err, resp)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return ws
}

// roundTripV5 subscribes sub to topic, publishes n QoS 1 messages from pub
// and checks they all arrive in order.
func roundTripV5(t *testing.T, sub, pub *testutil.V5, topic string, n int) {
	t.Helper()
	sub.SubscribeOK(t, topic, 1)
	for i := range n {
		if rc := pub.PublishRC(t, topic, fmt.Sprint(i)); rc >= 0x80 {
			t.Fatalf("PUBACK %#x", rc)
		}
	}
	for i := range n {
		sub.Expect(t, topic, fmt.Sprint(i))
	}
}

func connectV5Over(t *testing.T, conn net.Conn, id string) *testutil.V5 {
	t.Helper()
	c := testutil.WrapV5(t, conn)
	if _, err := c.Connect(testutil.Ctx(t), &paho.Connect{ClientID: id, CleanStart: true}); err != nil {
		t.Fatalf("connect %q: %v", id, err)
	}
	return c
}

// TestTransportWSPahoV5 runs MQTT 5 over WebSocket on /mqtt with the "mqtt"
// subprotocol [MQTT-6.0.0-3] [MQTT-6.0.0-4], with both directions crossing
// transports.
func TestTransportWSPahoV5(t *testing.T) {
	s := testutil.RunServer(t)
	conn, proto := dialWS(t, "ws://"+s.Addr("ws:default")+"/mqtt", nil, "mqtt")
	if proto != "mqtt" {
		t.Fatalf("server chose subprotocol %q, want mqtt [MQTT-6.0.0-4]", proto)
	}
	ws := connectV5Over(t, conn, "ws-v5")
	tcp, _ := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: "tcp-v5", CleanStart: true})
	roundTripV5(t, ws, tcp, "ws/in", 20)
	roundTripV5(t, tcp, ws, "ws/out", 20)
}

// TestTransportWSPahoV3 runs MQTT 3.1.1 over ws:// with paho.mqtt.golang.
func TestTransportWSPahoV3(t *testing.T) {
	s := testutil.RunServer(t)
	url := "ws://" + s.Addr("ws:default") + "/mqtt"
	sub := testutil.ConnectV3URL(t, url, "ws3-sub")
	testutil.Wait(t, sub.Subscribe("ws3/#", 2, nil))
	pub := testutil.ConnectV3(t, s.TCP(), "tcp3-pub")
	for qos := range byte(3) {
		testutil.Wait(t, pub.Publish("ws3/q", qos, false, fmt.Sprint(qos)))
		if m := sub.Next(t); m.Topic() != "ws3/q" || string(m.Payload()) != fmt.Sprint(qos) {
			t.Fatalf("got %q %q", m.Topic(), m.Payload())
		}
	}
}

// TestTransportWSSubprotocolMQTTv31 connects an MQTT 3.1 client (protocol
// name MQIsdp) offering only the legacy "mqttv3.1" subprotocol, which the
// server echoes (EMQX's supported_subprotocols), and sends its CONNECT split
// over two WebSocket messages [MQTT-6.0.0-2].
func TestTransportWSSubprotocolMQTTv31(t *testing.T) {
	s := testutil.RunServer(t)
	conn, proto := dialWS(t, "ws://"+s.Addr("ws:default")+"/mqtt", nil, "mqttv3.1")
	if proto != "mqttv3.1" {
		t.Fatalf("server chose subprotocol %q, want mqttv3.1", proto)
	}
	raw := testutil.WrapRaw(t, conn, packet.V31)
	b, err := (&packet.Connect{ProtocolName: "MQIsdp", ProtocolVersion: packet.V31, ClientID: "legacy", CleanStart: true}).Append(nil, packet.V31)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	raw.SendBytes(b[:5])
	raw.SendBytes(b[5:])
	if ack := raw.Expect(packet.CONNACK).(*packet.Connack); ack.ReasonCode != 0 {
		t.Fatalf("CONNACK %#x", ack.ReasonCode)
	}
	raw.Send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "legacy/#", QoS: 1}}})
	raw.Expect(packet.SUBACK)
	pub := testutil.ConnectV3(t, s.TCP(), "tcp3")
	testutil.Wait(t, pub.Publish("legacy/x", 1, false, "hi"))
	p := raw.Expect(packet.PUBLISH).(*packet.Publish)
	if string(p.Topic) != "legacy/x" || string(p.Payload) != "hi" {
		t.Fatalf("got %q %q", p.Topic, p.Payload)
	}
}

// TestTransportWSS runs MQTT over WebSocket over TLS with both clients.
func TestTransportWSS(t *testing.T) {
	pki := testutil.NewPKI(t)
	s := testutil.RunServer(t, pki.UseTLS("verify_none", false))
	addr := s.Addr("wss:default")
	conn, proto := dialWS(t, "wss://"+addr+"/mqtt", pki.ClientConfig(), "mqtt")
	if proto != "mqtt" {
		t.Fatalf("subprotocol %q", proto)
	}
	v5 := connectV5Over(t, conn, "wss-v5")
	v5.SubscribeOK(t, "wss/#", 1)
	v3 := testutil.ConnectV3URL(t, "wss://"+addr+"/mqtt", "wss-v3", func(o *mqtt3.ClientOptions) { o.SetTLSConfig(pki.ClientConfig()) })
	testutil.Wait(t, v3.Subscribe("wss/#", 1, nil))
	testutil.Wait(t, v3.Publish("wss/a", 1, false, "from-v3"))
	v5.Expect(t, "wss/a", "from-v3")
	if m := v3.Next(t); string(m.Payload()) != "from-v3" {
		t.Fatalf("v3 got %q", m.Payload())
	}
	v5.PublishRC(t, "wss/b", "from-v5")
	if m := v3.Next(t); string(m.Payload()) != "from-v5" {
		t.Fatalf("v3 got %q", m.Payload())
	}
}

// TestTransportWSWrongPath checks that only websocket.mqtt_path is upgraded:
// other paths get 404 (EMQX behaviour), and the listener keeps serving.
func TestTransportWSWrongPath(t *testing.T) {
	s := testutil.RunServer(t)
	base := "ws://" + s.Addr("ws:default")
	for _, path := range []string{"/", "/other", "/mqtt/x"} {
		ws, resp, err := websocket.Dial(testutil.Ctx(t), base+path, &websocket.DialOptions{Subprotocols: []string{"mqtt"}})
		if err == nil {
			ws.CloseNow()
			t.Fatalf("%s: upgraded", path)
		}
		if resp == nil || resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s: response %v, want 404 (%v)", path, resp, err)
		}
	}
	conn, _ := dialWS(t, base+"/mqtt", nil, "mqtt")
	connectV5Over(t, conn, "after-404")
}

// TestTransportWSTextFrame checks that a text message closes the connection
// [MQTT-6.0.0-1].
func TestTransportWSTextFrame(t *testing.T) {
	s := testutil.RunServer(t)
	ws := dialWSRaw(t, "ws://"+s.Addr("ws:default")+"/mqtt", nil, "mqtt")
	b, _ := (&packet.Connect{ProtocolVersion: packet.V5, ClientID: "text", CleanStart: true}).Append(nil, packet.V5)
	if err := ws.Write(testutil.Ctx(t), websocket.MessageText, b); err != nil {
		t.Fatalf("write: %v", err)
	}
	ctx := testutil.Ctx(t)
	for {
		_, _, err := ws.Read(ctx)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			t.Fatalf("connection still open after %v", testutil.Timeout)
		}
		if st := websocket.CloseStatus(err); st != websocket.StatusUnsupportedData {
			t.Fatalf("closed with %v (%v), want 1003", st, err)
		}
		return
	}
}
