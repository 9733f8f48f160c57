package api

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/herald-mqtt/herald/pkg/client"
)

// configRoots are the roots with their own GET/PUT /configs/{root}.
var configRoots = []string{"sys_topics", "sysmon", "global_zone", "alarm", "file_transfer", "dashboard", "broker", "log"}

func TestConfigRootsGet(t *testing.T) {
	s := testutil.RunServer(t)
	c := s.API(t)
	ctx := context.Background()
	for _, root := range configRoots {
		testutil.GoldenShape(t, "config_"+root+".json", lnGetRaw(t, c, "/configs/"+root))
	}
	testutil.GoldenShape(t, "configs_all.json", lnGetRaw(t, c, "/configs"))
	gz, err := c.ConfigRoot(ctx, "global_zone")
	if err != nil {
		t.Fatal(err)
	}
	mqtt := gz["mqtt"].(map[string]any)
	if mqtt["max_packet_size"] != "1MB" || mqtt["max_inflight"] != float64(32) || mqtt["max_subscriptions"] != "infinity" {
		t.Fatalf("global_zone.mqtt: %v", mqtt)
	}
	st, _ := c.ConfigRoot(ctx, "sys_topics")
	if st["sys_msg_interval"] != "disabled" { // the test config turns $SYS off
		t.Fatalf("sys_topics: %v", st)
	}
	one, err := c.Configs(ctx, "mqtt")
	if err != nil || len(one) != 1 || one["mqtt"].(map[string]any)["max_packet_size"] != "1MB" {
		t.Fatalf("configs?key=mqtt: %v %v", err, one)
	}
	text, err := c.ConfigsHOCON(ctx, "")
	if err != nil || !strings.Contains(text, "mqtt {\n") || !strings.Contains(text, `max_packet_size = "1MB"`) {
		t.Fatalf("HOCON: %v\n%s", err, text)
	}
	_, err = c.Configs(ctx, "nonsense")
	lnWantErr(t, err, 404, "NOT_FOUND", "config_not_found.json")
}

// cfgPublishTooLarge connects a v5 client to addr, publishes size bytes and
// reports whether the broker refused it with DISCONNECT 0x95.
func cfgPublishTooLarge(t *testing.T, addr, id string, size int) bool {
	t.Helper()
	c, _ := testutil.ConnectRawV5(t, addr, id)
	c.Send(&packet.Publish{QoS: 1, PacketID: 1, Topic: []byte("big"), Payload: bytes.Repeat([]byte("x"), size)})
	p, err := c.Read(testutil.Timeout)
	if err != nil {
		t.Fatalf("publish %d bytes: %v", size, err)
	}
	if d, ok := p.(*packet.Disconnect); ok {
		if d.ReasonCode != packet.PacketTooLarge {
			t.Fatalf("DISCONNECT %#x, want 0x95", byte(d.ReasonCode))
		}
		return true
	}
	if p.Type() != packet.PUBACK {
		t.Fatalf("got %v, want PUBACK", p.Type())
	}
	return false
}

func TestConfigMaxPacketSizeHotAndPersisted(t *testing.T) {
	s := testutil.RunServer(t)
	c := s.API(t)
	ctx := context.Background()
	if cfgPublishTooLarge(t, s.TCP(), "before", 2048) {
		t.Fatal("2KB refused under the 1MB default")
	}
	res, err := c.Do(ctx, http.MethodPut, "/configs/global_zone", nil,
		map[string]any{"mqtt": map[string]any{"max_packet_size": "1KB"}}, nil)
	if err != nil {
		t.Fatalf("put global_zone: %v", err)
	}
	testutil.GoldenShape(t, "config_global_zone_put.json", res.Body)
	if !cfgPublishTooLarge(t, s.TCP(), "after", 2048) {
		t.Fatal("2KB accepted after max_packet_size = 1KB")
	}

	// An invalid value, an unknown key, a mixed change: 400, nothing changed.
	_, err = c.UpdateConfigRoot(ctx, "global_zone", map[string]any{"mqtt": map[string]any{"max_packet_size": "lots"}})
	lnWantErr(t, err, 400, "UPDATE_FAILED", "config_update_failed.json")
	_, err = c.UpdateConfigRoot(ctx, "global_zone", map[string]any{"mqtt": map[string]any{"bogus_key": 1}})
	lnWantErr(t, err, 400, "UPDATE_FAILED", "")
	if !strings.Contains(err.Error(), "bogus_key") {
		t.Fatalf("error does not name the key: %v", err)
	}
	_, err = c.UpdateConfigRoot(ctx, "global_zone", map[string]any{"mqtt": map[string]any{"max_packet_size": "4KB", "max_inflight": 0}})
	lnWantErr(t, err, 400, "UPDATE_FAILED", "")
	gz, _ := c.ConfigRoot(ctx, "global_zone")
	if got := gz["mqtt"].(map[string]any)["max_packet_size"]; got != "1KB" {
		t.Fatalf("max_packet_size = %v after failed updates, want 1KB", got)
	}

	// The change survives a restart and is enforced there.
	s = s.Restart(t)
	c = s.API(t)
	gz, err = c.ConfigRoot(ctx, "global_zone")
	if err != nil || gz["mqtt"].(map[string]any)["max_packet_size"] != "1KB" {
		t.Fatalf("after restart: %v %v", err, gz["mqtt"])
	}
	if !cfgPublishTooLarge(t, s.TCP(), "restarted", 2048) {
		t.Fatal("2KB accepted after restart")
	}

	// PUT /configs with HOCON raises it again.
	hocon := "# raise the limit\nmqtt {\n  max_packet_size = 4KB\n}\nalarm.size_limit = 1000\n"
	if err := c.UpdateConfigsHOCON(ctx, hocon, "merge"); err != nil {
		t.Fatalf("PUT /configs: %v", err)
	}
	if cfgPublishTooLarge(t, s.TCP(), "raised", 2048) {
		t.Fatal("2KB refused after max_packet_size = 4KB")
	}
	err = c.UpdateConfigsHOCON(ctx, "mqtt { max_packet_size = ", "")
	lnWantErr(t, err, 400, "UPDATE_FAILED", "")
	err = c.UpdateConfigsHOCON(ctx, "nonsense { a = 1 }", "")
	lnWantErr(t, err, 400, "UPDATE_FAILED", "")
}

func TestConfigRootsUpdate(t *testing.T) {
	s := testutil.RunServer(t)
	c := s.API(t)
	ctx := context.Background()

	// sys_topics, log, broker: real keys.
	st, err := c.UpdateConfigRoot(ctx, "sys_topics", map[string]any{"sys_msg_interval": "2m", "sys_heartbeat_interval": "disabled"})
	if err != nil || st["sys_msg_interval"] != "2m" {
		t.Fatalf("sys_topics: %v %v", err, st)
	}
	lg, err := c.UpdateConfigRoot(ctx, "log", map[string]any{"console": map[string]any{"level": "debug"}})
	if err != nil || lg["console"].(map[string]any)["level"] != "debug" {
		t.Fatalf("log: %v %v", err, lg)
	}
	_, err = c.UpdateConfigRoot(ctx, "log", map[string]any{"console": map[string]any{"level": "loud"}})
	lnWantErr(t, err, 400, "UPDATE_FAILED", "")
	br, err := c.UpdateConfigRoot(ctx, "broker", map[string]any{"shared_subscription_strategy": "random"})
	if err != nil || br["shared_subscription_strategy"] != "random" {
		t.Fatalf("broker: %v %v", err, br)
	}

	// Read-only EMQX values: sent back unchanged is fine, changed is refused.
	sm, err := c.ConfigRoot(ctx, "sysmon")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateConfigRoot(ctx, "sysmon", sm); err != nil {
		t.Fatalf("sysmon unchanged: %v", err)
	}
	_, err = c.UpdateConfigRoot(ctx, "file_transfer", map[string]any{"enable": true})
	lnWantErr(t, err, 400, "UPDATE_FAILED", "")
	if !strings.Contains(err.Error(), "file_transfer.enable") {
		t.Fatalf("error does not name the key: %v", err)
	}
	// A key that needs a restart.
	_, err = c.UpdateConfigRoot(ctx, "dashboard", map[string]any{"listeners": map[string]any{"http": map[string]any{"bind": "127.0.0.1:1"}}})
	lnWantErr(t, err, 400, "UPDATE_FAILED", "")
	db, _ := c.ConfigRoot(ctx, "dashboard")
	if _, err := c.UpdateConfigRoot(ctx, "dashboard", db); err != nil {
		t.Fatalf("dashboard unchanged: %v", err)
	}

	// Reset.
	if err := c.ResetConfigRoot(ctx, "sys_topics", "sys_msg_interval"); err != nil {
		t.Fatalf("reset: %v", err)
	}
	st, _ = c.ConfigRoot(ctx, "sys_topics")
	if st["sys_msg_interval"] != "1m" || st["sys_heartbeat_interval"] != "disabled" {
		t.Fatalf("after reset of sys_msg_interval: %v", st)
	}
	if err := c.ResetConfigRoot(ctx, "log", ""); err != nil {
		t.Fatalf("reset log: %v", err)
	}
	lg, _ = c.ConfigRoot(ctx, "log")
	if lg["console"].(map[string]any)["level"] != "info" {
		t.Fatalf("after reset of log: %v", lg)
	}
	lnWantErr(t, c.ResetConfigRoot(ctx, "sys_topics", "nope"), 400, "NO_DEFAULT_VALUE", "")
	lnWantErr(t, c.ResetConfigRoot(ctx, "nope", ""), 404, "NOT_FOUND", "")
}

func TestConfigsAccept(t *testing.T) {
	s := testutil.RunServer(t)
	tok, err := client.New(s.APIURL()).Login(context.Background(), "admin", "public")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, s.APIURL()+"/api/v5/configs", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Accept", "image/png")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 400 {
		t.Fatalf("Accept image/png: %d", res.StatusCode)
	}
}
