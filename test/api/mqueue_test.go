package api

import (
	"fmt"
	"testing"

	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/herald-mqtt/herald/pkg/client"
)

// mqPublish publishes n QoS 1 messages on topic and waits for each PUBACK.
func mqPublish(t *testing.T, pub *testutil.Raw, topic string, n int) {
	t.Helper()
	for i := range n {
		pid := uint16(i + 1)
		pub.Send(&packet.Publish{Topic: []byte(topic), QoS: 1, PacketID: pid, Payload: fmt.Appendf(nil, "m%d", i)})
		if ack := pub.Expect(packet.PUBACK).(*packet.Ack); ack.PacketID != pid || ack.ReasonCode.IsError() {
			t.Fatalf("PUBACK %+v for packet id %d", ack, pid)
		}
	}
}

// mqSubscriber connects a raw v5 subscriber of topic at QoS 1 that never
// acknowledges; expiry > 0 makes its session persistent.
func mqSubscriber(t *testing.T, addr, id, topic string, expiry uint32, recvMax uint16) *testutil.Raw {
	t.Helper()
	c := testutil.DialRaw(t, addr, packet.V5)
	p := &packet.Connect{ClientID: id, CleanStart: true, KeepAlive: 60}
	if expiry > 0 {
		p.Props.SessionExpiry = expiry
		p.Props.Set(packet.PropSessionExpiry)
	}
	if recvMax > 0 {
		p.Props.ReceiveMaximum = recvMax
		p.Props.Set(packet.PropReceiveMaximum)
	}
	if ack := c.Connect(p); ack.ReasonCode != 0 {
		t.Fatalf("CONNACK %#x for %s", byte(ack.ReasonCode), id)
	}
	if rc := c.SubscribeCodes(1, 1, topic); rc[0] != 1 {
		t.Fatalf("SUBACK %v", rc)
	}
	return c
}

// TestMqueueDroppedCountedAndLogged: mqtt.max_mqueue_len bounds what a
// session keeps for its client. The drops are counted per session in
// /clients/{clientid} (and the list) as mqueue_dropped, for an offline
// persistent session and for an online one whose window is full, and the
// first drop of each session is a warning line (one, not one per drop).
func TestMqueueDroppedCountedAndLogged(t *testing.T) {
	t.Parallel()
	s, logs := testutil.RunServerLogged(t, func(c *config.Config) { c.MQTT.MaxMqueueLen = 10 })
	api := s.API(t)
	ctx := testutil.Ctx(t)

	off := mqSubscriber(t, s.TCP(), "mq-off", "mq/off", 300, 0)
	off.Send(&packet.Disconnect{})
	testutil.Eventually(t, testutil.Timeout, func() error {
		if ci, err := api.GetClient(ctx, "mq-off"); err != nil || ci.Connected {
			return fmt.Errorf("mq-off still connected (%v)", err)
		}
		return nil
	})
	// Receive Maximum 1: one message in flight, 10 queued, the rest dropped.
	on := mqSubscriber(t, s.TCP(), "mq-on", "mq/on", 0, 1)
	pub, _ := testutil.ConnectRawV5(t, s.TCP(), "mq-pub")
	mqPublish(t, pub, "mq/off", 25)
	mqPublish(t, pub, "mq/on", 16)
	on.Expect(packet.PUBLISH)

	for id, want := range map[string]uint64{"mq-off": 15, "mq-on": 5} {
		ci, err := api.GetClient(ctx, id)
		if err != nil {
			t.Fatalf("get %s: %v", id, err)
		}
		if ci.MqueueDropped != want || ci.MqueueLen != 10 {
			t.Fatalf("%s: mqueue_dropped %d mqueue_len %d, want %d and 10", id, ci.MqueueDropped, ci.MqueueLen, want)
		}
	}
	list, err := api.ListClients(ctx, client.ClientsQuery{})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	for _, ci := range list.Data {
		if ci.ClientID == "mq-on" && ci.MqueueDropped != 5 {
			t.Fatalf("list: mq-on mqueue_dropped %d, want 5", ci.MqueueDropped)
		}
	}
	for id, connected := range map[string]bool{"mq-off": false, "mq-on": true} {
		recs := logs.Find(t, "session message queue full: dropping messages", "level", "WARN", "clientid", id,
			"connected", connected, "max_mqueue_len", 10)
		if len(recs) != 1 {
			t.Fatalf("%s: %d queue-full warnings, want 1 (the first drop); log:\n%s", id, len(recs), logs.String())
		}
	}
}
