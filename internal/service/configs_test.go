package service

import (
	"reflect"
	"strings"
	"testing"

	"github.com/herald-mqtt/herald/internal/config"
)

func TestParseHOCON(t *testing.T) {
	in := `# comment
mqtt {
  max_packet_size = "2MB"   // trailing comment
  max_inflight: 64
  retain_available = false
}
mqtt.max_qos_allowed = 1
sys_topics { sys_msg_interval = 2m, sys_heartbeat_interval = disabled }
alarm { actions = [log, "publish"] }
"quoted.key" = null
`
	got, err := ParseHOCON(in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"mqtt": map[string]any{"max_packet_size": "2MB", "max_inflight": float64(64),
			"retain_available": false, "max_qos_allowed": float64(1)},
		"sys_topics": map[string]any{"sys_msg_interval": "2m", "sys_heartbeat_interval": "disabled"},
		"alarm":      map[string]any{"actions": []any{"log", "publish"}},
		"quoted.key": nil,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v\nwant %#v", got, want)
	}
}

func TestParseHOCONErrors(t *testing.T) {
	for _, in := range []string{"mqtt {", "a = ", "a b", `a = "open`, "a = [1, 2", "a = ${b}", `include "x.conf"`, `a = """x"""`} {
		if _, err := ParseHOCON(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestRenderHOCONRoundTrip(t *testing.T) {
	flat := config.Default().Flatten()
	tree := map[string]any{}
	for _, r := range configRoots {
		tree[r.name] = r.render(flat)
	}
	text := RenderHOCON(tree)
	if !strings.Contains(text, "mqtt {\n  await_rel_timeout = \"5m\"\n") {
		t.Fatalf("rendering:\n%s", text)
	}
	back, err := ParseHOCON(text)
	if err != nil {
		t.Fatalf("parse rendered: %v\n%s", err, text)
	}
	if !sameJSON(back, tree) {
		t.Fatalf("round trip differs:\n%v\n%v", back, tree)
	}
}

func TestRootMapping(t *testing.T) {
	c := config.Default()
	r := findRoot("global_zone")
	body := map[string]any{"mqtt": map[string]any{"max_packet_size": "2MB", "shared_subscription_strategy": "random",
		"use_username_as_clientid": false}}
	if err := r.apply(&c, body, "global_zone"); err != nil {
		t.Fatal(err)
	}
	if c.MQTT.MaxPacketSize != 2<<20 || c.Broker.SharedSubscriptionStrategy != "random" {
		t.Fatalf("applied: %d %s", c.MQTT.MaxPacketSize, c.Broker.SharedSubscriptionStrategy)
	}
	for _, bad := range []map[string]any{
		{"mqtt": map[string]any{"use_username_as_clientid": true}}, // read-only
		{"mqtt": map[string]any{"nope": 1}},                        // unknown
		{"zone": map[string]any{}},                                 // not a sub-root
		{"mqtt": map[string]any{"max_inflight": nil}},              // null
	} {
		if err := r.apply(&c, bad, "global_zone"); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
	lg := findRoot("log").render(c.Flatten())
	if lg["console"].(map[string]any)["level"] != "info" {
		t.Fatalf("log root: %v", lg)
	}
}
