package integration

import (
	"errors"
	"testing"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// TestUpdateConfigMaxPacketSize: mqtt.max_packet_size changed at run time
// through Broker.UpdateConfig applies at once, to new connections (the
// CONNACK advertises it) and to established ones (it is read per packet):
// a PUBLISH over a lowered limit ends the connection with DISCONNECT 0x95
// (v5) or a plain close (3.1.1); once raised, larger ones pass.
func TestUpdateConfigMaxPacketSize(t *testing.T) {
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) { c.MQTT.MaxPacketSize = 4096 })
	b := s.Broker()
	sub := psV5(t, s.TCP(), "sub")
	psSub(t, sub, paho.SubscribeOptions{Topic: "uc/#"})
	early, _ := psRaw(t, s.TCP(), packet.V5, "early") // connected before the change
	early3, _ := psRaw(t, s.TCP(), packet.V311, "early3")

	cfg := b.Config()
	cfg.MaxPacketSize = 1024
	if err := b.UpdateConfig(cfg); err != nil {
		t.Fatalf("UpdateConfig: %v", err)
	}
	if got := b.Config().MaxPacketSize; got != 1024 {
		t.Fatalf("Config().MaxPacketSize = %d after the update", got)
	}
	early.SendBytes(psPublishBytes(t, packet.V5, "uc/early", 0, 2000))
	psExpectTooLarge(t, early, packet.V5)
	early3.SendBytes(psPublishBytes(t, packet.V311, "uc/early3", 0, 2000))
	psExpectTooLarge(t, early3, packet.V311)

	c, ack := psRaw(t, s.TCP(), packet.V5, "late")
	if !ack.Props.Has(packet.PropMaximumPacketSize) || ack.Props.MaximumPacketSize != 1024 {
		t.Fatalf("CONNACK Maximum Packet Size %d, want 1024", ack.Props.MaximumPacketSize)
	}
	c.SendBytes(psPublishBytes(t, packet.V5, "uc/fits", 0, 1024))
	if m := sub.Next(t); m.Topic != "uc/fits" {
		t.Fatalf("got %q, want uc/fits", m.Topic)
	}
	c.SendBytes(psPublishBytes(t, packet.V5, "uc/late", 0, 1025))
	psExpectTooLarge(t, c, packet.V5)

	held, _ := psRaw(t, s.TCP(), packet.V5, "held") // connected under the low limit
	cfg.MaxPacketSize = 8192
	if err := b.UpdateConfig(cfg); err != nil {
		t.Fatalf("UpdateConfig: %v", err)
	}
	held.SendBytes(psPublishBytes(t, packet.V5, "uc/held", 0, 2000))
	if m := sub.Next(t); m.Topic != "uc/held" {
		t.Fatalf("got %q, want uc/held", m.Topic)
	}
	big, _ := psRaw(t, s.TCP(), packet.V5, "big")
	big.SendBytes(psPublishBytes(t, packet.V5, "uc/big", 0, 8000))
	if m := sub.Next(t); m.Topic != "uc/big" || len(m.Payload) < 7900 {
		t.Fatalf("got %q (%d bytes), want uc/big", m.Topic, len(m.Payload))
	}
}

// TestUpdateConfigRefused: an invalid configuration, or one that changes
// the node name, is refused and the configuration in use stays.
func TestUpdateConfigRefused(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	b := s.Broker()
	before := b.Config()
	bad := before
	bad.MaxPacketSize = 0
	if err := b.UpdateConfig(bad); err == nil {
		t.Fatal("UpdateConfig accepted max_packet_size 0")
	}
	renamed := before
	renamed.NodeName = "other@127.0.0.1"
	renamed.MaxPacketSize = 100
	if err := b.UpdateConfig(renamed); err == nil {
		t.Fatal("UpdateConfig accepted a node name change")
	} else if errors.Unwrap(err) == nil {
		t.Fatalf("error %v wraps nothing", err)
	}
	if got := b.Config().MaxPacketSize; got != before.MaxPacketSize {
		t.Fatalf("max_packet_size %d after refused updates, want %d", got, before.MaxPacketSize)
	}
}
