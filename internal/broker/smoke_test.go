package broker

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	mqtt3 "github.com/eclipse/paho.mqtt.golang"
)

func TestBrokerSmokeV311(t *testing.T) {
	tb := startBroker(t, testConfig(), Options{})
	got := make(chan mqtt3.Message, 10)
	sub := mqtt3.NewClient(mqtt3.NewClientOptions().AddBroker("tcp://" + tb.addr).SetClientID("sub"))
	if tok := sub.Connect(); !tok.WaitTimeout(testWait) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer sub.Disconnect(100)
	if tok := sub.Subscribe("a/+", 2, func(_ mqtt3.Client, m mqtt3.Message) { got <- m }); !tok.WaitTimeout(testWait) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	pub := mqtt3.NewClient(mqtt3.NewClientOptions().AddBroker("tcp://" + tb.addr).SetClientID("pub"))
	if tok := pub.Connect(); !tok.WaitTimeout(testWait) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer pub.Disconnect(100)
	for q := byte(0); q <= 2; q++ {
		if tok := pub.Publish("a/b", q, false, []byte{'x', '0' + q}); !tok.WaitTimeout(testWait) || tok.Error() != nil {
			t.Fatalf("publish qos %d: %v", q, tok.Error())
		}
		select {
		case m := <-got:
			if m.Topic() != "a/b" || string(m.Payload()) != string([]byte{'x', '0' + q}) || m.Qos() != q {
				t.Fatalf("got %q %q qos %d", m.Topic(), m.Payload(), m.Qos())
			}
		case <-time.After(testWait):
			t.Fatalf("qos %d: no message", q)
		}
	}
}

func TestBrokerSmokeV5(t *testing.T) {
	tb := startBroker(t, testConfig(), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	got := make(chan *paho.Publish, 10)
	sub := v5Client(t, tb.addr, func(p *paho.Publish) { got <- p })
	if _, err := sub.Connect(ctx, &paho.Connect{ClientID: "sub5", CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatalf("connect: %v", err)
	}
	if _, err := sub.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "x/#", QoS: 2}}}); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	pub := v5Client(t, tb.addr, nil)
	if _, err := pub.Connect(ctx, &paho.Connect{ClientID: "pub5", CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatalf("connect: %v", err)
	}
	for q := byte(0); q <= 2; q++ {
		_, err := pub.Publish(ctx, &paho.Publish{Topic: "x/y", QoS: q, Payload: []byte("hi"),
			Properties: &paho.PublishProperties{ContentType: "text/plain", User: paho.UserProperties{{Key: "k", Value: "v"}}}})
		if err != nil {
			t.Fatalf("publish qos %d: %v", q, err)
		}
		select {
		case p := <-got:
			if p.Topic != "x/y" || p.QoS != q || p.Properties.ContentType != "text/plain" || p.Properties.User.Get("k") != "v" {
				t.Fatalf("got %+v props %+v", p, p.Properties)
			}
		case <-time.After(testWait):
			t.Fatalf("qos %d: no message", q)
		}
	}
	_ = pub.Disconnect(&paho.Disconnect{})
	_ = sub.Disconnect(&paho.Disconnect{})
}

func v5Client(t *testing.T, addr string, onPub func(*paho.Publish)) *paho.Client {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	cfg := paho.ClientConfig{Conn: conn}
	if onPub != nil {
		cfg.OnPublishReceived = []func(paho.PublishReceived) (bool, error){
			func(pr paho.PublishReceived) (bool, error) { onPub(pr.Packet); return true, nil },
		}
	}
	c := paho.NewClient(cfg)
	t.Cleanup(func() { conn.Close() })
	return c
}
