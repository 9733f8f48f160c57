package server

import (
	"log/slog"
	"testing"

	"github.com/herald-mqtt/herald/internal/config"
)

func TestOverridesRoundTrip(t *testing.T) {
	base := config.Default()
	cfg := base.Clone()
	cfg.MQTT.MaxPacketSize = 2 << 20
	cfg.MQTT.KeepaliveMultiplier = 2.5
	cfg.SysTopics.SysMsgInterval = 0
	cfg.DeleteListener("ws", "default")
	if err := config.Set(&cfg, "listeners.tcp.extra.bind", "127.0.0.1:1999"); err != nil {
		t.Fatal(err)
	}
	if err := config.Set(&cfg, "listeners.tcp.default.bind", "off"); err != nil {
		t.Fatal(err)
	}
	if _, ok := base.Listener("tcp", "extra"); ok {
		t.Fatal("Clone shares the listener maps")
	}
	ov := diffOverrides(base, cfg)
	if ov.Set["mqtt.max_packet_size"] != "2MB" || ov.Set["sys_topics.sys_msg_interval"] != "disabled" ||
		ov.Set["listeners.tcp.default.bind"] != "off" || len(ov.DeletedListeners) != 1 {
		t.Fatalf("overrides: %+v", ov)
	}
	if _, ok := ov.Set["mqtt.max_inflight"]; ok {
		t.Fatal("an unchanged key is overridden")
	}
	got := ov.apply(base, slog.New(slog.DiscardHandler))
	if d := diffOverrides(cfg, got); !d.empty() {
		t.Fatalf("applied overrides differ: %+v", d)
	}
	// An override that no longer validates leaves the base alone.
	bad := overrides{Set: map[string]string{"mqtt.max_packet_size": "512MB"}}
	if got := bad.apply(base, slog.New(slog.DiscardHandler)); got.MQTT.MaxPacketSize != base.MQTT.MaxPacketSize {
		t.Fatal("an invalid override was applied")
	}
}
