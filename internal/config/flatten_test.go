package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// roundTrip sets every Flatten key of c on a fresh Default() and returns it.
func roundTrip(t *testing.T, c Config) Config {
	t.Helper()
	got := Default()
	for k, v := range c.Flatten() {
		s := fmt.Sprint(v)
		if k == usersKey || k == rulesKey {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("marshal %s: %v", k, err)
			}
			s = string(b)
		}
		if err := Set(&got, k, s); err != nil {
			t.Fatalf("Set(%s, %q) of a Flatten value: %v", k, s, err)
		}
	}
	return got
}

func TestConfigFlattenRoundTripDefault(t *testing.T) {
	if got := roundTrip(t, Default()); !reflect.DeepEqual(got, Default()) {
		t.Fatalf("round trip of Default() differs in %v", diffFlat(got.Flatten(), Default().Flatten()))
	}
}

func TestConfigFlattenRoundTripFull(t *testing.T) {
	c := mustLoad(t, []string{"--config", "testdata/full.toml"}, nil)
	if got := roundTrip(t, c); !reflect.DeepEqual(got, c) {
		t.Fatalf("round trip differs in %v", diffFlat(got.Flatten(), c.Flatten()))
	}
}

func TestConfigFlattenRoundTripEveryKey(t *testing.T) {
	// Change every scalar key to a non-default value, then round-trip.
	c := Default()
	for k, v := range nonDefaults() {
		if err := Set(&c, k, v); err != nil {
			t.Fatalf("Set(%s, %q): %v", k, v, err)
		}
	}
	flat, def := c.Flatten(), Default().Flatten()
	for _, k := range Default().Keys() {
		if k != usersKey && k != rulesKey && reflect.DeepEqual(flat[k], def[k]) {
			t.Fatalf("nonDefaults does not change %s", k)
		}
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("non-default config invalid: %v", err)
	}
	if got := roundTrip(t, c); !reflect.DeepEqual(got, c) {
		t.Fatalf("round trip differs in %v", diffFlat(got.Flatten(), c.Flatten()))
	}
}

// nonDefaults gives every scalar key (of the default listeners) a value
// other than its default.
func nonDefaults() map[string]string {
	m := map[string]string{
		"node.name": "n@h", "node.data_dir": "/d", "node.pprof_bind": "127.0.0.1:6060", "node.gc_heap_floor": "0", "durability": "off", "log.level": "debug", "log.format": "json",
		"mqtt.max_packet_size": "1000", "mqtt.max_clientid_len": "23", "mqtt.max_topic_levels": "8",
		"mqtt.max_topic_alias": "0", "mqtt.max_qos_allowed": "1", "mqtt.retain_available": "false",
		"mqtt.wildcard_subscription": "false", "mqtt.shared_subscription": "false", "mqtt.ignore_loop_deliver": "true",
		"mqtt.strict_mode": "true", "mqtt.idle_timeout": "infinity", "mqtt.max_subscriptions": "7",
		"mqtt.upgrade_qos": "true", "mqtt.max_inflight": "1", "mqtt.retry_interval": "1500ms",
		"mqtt.max_awaiting_rel": "infinity", "mqtt.await_rel_timeout": "1d", "mqtt.session_expiry_interval": "0",
		"mqtt.max_mqueue_len": "infinity", "mqtt.mqueue_store_qos0": "false", "mqtt.server_keepalive": "30", "mqtt.max_keepalive": "120",
		"mqtt.keepalive_multiplier": "1.25", "mqtt.response_information": "resp/", "mqtt.server_reference": "other:1883", "mqtt.peer_cert_as_username": "cn",
		"mqtt.peer_cert_as_clientid": "md5", "mqtt.max_outbound_bytes": "3KB", "mqtt.slow_consumer_policy": "disconnect",
		"mqtt.slow_consumer_max_drops": "7", "mqtt.send_timeout": "20s", "mqtt.max_publish_rate": "10/100ms", "mqtt.publish_rate_burst": "5",
		"broker.shared_subscription_strategy": "hash_topic", "retainer.enable": "false",
		"retainer.max_retained_messages": "9", "retainer.max_payload_size": "0", "retainer.msg_expiry_interval": "1w", "retainer.msg_clear_interval": "10s",
		"sysmon.os.cpu_check_interval": "disabled", "sysmon.os.cpu_high_watermark": "90%", "sysmon.os.cpu_low_watermark": "50.5%",
		"sysmon.os.mem_check_interval": "5s", "sysmon.os.sysmem_high_watermark": "75%", "sysmon.os.procmem_high_watermark": "10",
		"sysmon.connections.high_watermark": "1000", "alarm.size_limit": "10", "alarm.validity_period": "1h",
		"sys_topics.sys_msg_interval": "disabled", "sys_topics.sys_heartbeat_interval": "disabled",
		"authentication.allow_anonymous": "false", "authorization.no_match": "deny", "authorization.deny_action": "disconnect",
		"dashboard.listeners.http.bind": "off", "dashboard.default_username": "root", "dashboard.default_password": "pw",
		"prometheus.enable_basic_auth": "true",
		"dashboard.token_expired_time": "90s", "dashboard.unsuccessful_login_max_attempts": "3",
		"dashboard.unsuccessful_login_interval": "1m", "dashboard.unsuccessful_login_lock_duration": "2m",
		"api_key.bootstrap_file":                   "/etc/keys",
		"dashboard.listeners.http.max_connections": "10", "dashboard.listeners.http.idle_timeout": "5s",
		"dashboard.listeners.http.read_timeout": "20s", "dashboard.listeners.http.send_timeout": "3s",
		"dashboard.listeners.https.bind": "127.0.0.1:18084", "dashboard.listeners.https.max_connections": "20",
		"dashboard.listeners.https.idle_timeout": "6s", "dashboard.listeners.https.read_timeout": "21s",
		"dashboard.listeners.https.send_timeout":         "4s",
		"dashboard.listeners.https.ssl_options.certfile": "/etc/herald/cert.pem",
		"dashboard.listeners.https.ssl_options.keyfile":  "/etc/herald/key.pem",
	}
	for _, typ := range ListenerTypes {
		p := "listeners." + typ + ".default."
		for k, v := range map[string]string{"enable": "false", "bind": "127.0.0.9:1", "max_connections": "5",
			"max_conn_rate": "5/s", "proxy_protocol": "true", "proxy_protocol_timeout": "10s", "mountpoint": "m/"} {
			m[p+k] = v
		}
	}
	for _, p := range []string{"listeners.ssl.default.", "listeners.wss.default."} {
		for k, v := range map[string]string{"certfile": "c", "keyfile": "k", "cacertfile": "ca",
			"verify": "verify_peer", "fail_if_no_peer_cert": "true"} {
			m[p+"ssl_options."+k] = v
		}
	}
	m["listeners.ws.default.websocket.mqtt_path"] = "/w"
	m["listeners.wss.default.websocket.mqtt_path"] = "/w"
	return m
}

func TestConfigFlattenListsAndSecrets(t *testing.T) {
	c := mustLoad(t, []string{"--config", "testdata/full.toml"}, nil)
	flat := c.Flatten()
	users, ok := flat[usersKey].([]User)
	if !ok || len(users) != 2 {
		t.Fatalf("Flatten users = %#v", flat[usersKey])
	}
	users[0].Username = "mutated"
	if c.Authentication.Users[0].Username == "mutated" {
		t.Fatalf("Flatten shares the users slice")
	}
	if _, err := json.Marshal(flat); err != nil {
		t.Fatalf("Flatten is not JSON-encodable: %v", err)
	}
	if !Secret(usersKey) || !Secret("dashboard.default_password") || Secret("node.name") {
		t.Fatalf("Secret misclassifies keys")
	}
	if got := Default().Flatten()[rulesKey]; !reflect.DeepEqual(got, []Rule{}) {
		t.Fatalf("empty rules flatten to %#v, want []Rule{}", got)
	}
}

func TestConfigEnvNames(t *testing.T) {
	for _, k := range Default().Keys() {
		if got := EnvKey(EnvName(k)[len(EnvPrefix):]); got != k {
			t.Fatalf("EnvKey(EnvName(%s)) = %s", k, got)
		}
	}
	if n := EnvName("listeners.tcp.default.bind"); n != "HERALD_LISTENERS__TCP__DEFAULT__BIND" {
		t.Fatalf("EnvName = %s", n)
	}
}
