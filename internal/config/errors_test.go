package config

import (
	"errors"
	"strings"
	"testing"
)

func TestConfigUnknownKeyFile(t *testing.T) {
	cases := map[string]string{
		"h.toml": "[mqtt]\nmax_inflihgt = 3\n",
		"h.yaml": "mqtt:\n  max_inflihgt: 3\n",
	}
	for name, content := range cases {
		err := loadErr(t, []string{"--config", writeFile(t, name, content)}, nil)
		if !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("%s: want ErrUnknownKey, got %v", name, err)
		}
		wantErrText(t, err, "mqtt.max_inflihgt", "did you mean mqtt.max_inflight?", name)
	}
}

func TestConfigUnknownSectionFile(t *testing.T) {
	err := loadErr(t, []string{"--config", writeFile(t, "h.toml", "[mqqt]\nmax_inflight = 3\n[listeners.udp.x]\nbind = 1\n")}, nil)
	wantErrText(t, err, "config: listeners.udp: unknown key", "config: mqqt: unknown key")
}

func TestConfigUnknownKeyEnv(t *testing.T) {
	err := loadErr(t, nil, []string{"HERALD_MQTT__MAX_PACKETSIZE=1MB"})
	if !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("want ErrUnknownKey, got %v", err)
	}
	wantErrText(t, err, "mqtt.max_packetsize", "did you mean mqtt.max_packet_size?", "env HERALD_MQTT__MAX_PACKETSIZE")
	err = loadErr(t, nil, []string{"HERALD_LISTENERS__TCP__DEFAULT__BNID=1"})
	wantErrText(t, err, "did you mean listeners.tcp.default.bind?")
	// ssl_options exists on ssl listeners only.
	err = loadErr(t, nil, []string{"HERALD_LISTENERS__TCP__DEFAULT__SSL_OPTIONS__CERTFILE=x"})
	wantErrText(t, err, "listeners.tcp.default.ssl_options.certfile: unknown key (did you mean listeners.ssl.default.ssl_options.certfile?)")
}

func TestConfigUnknownKeyFlag(t *testing.T) {
	err := loadErr(t, []string{"--set", "retainer.enabled=true"}, nil)
	if !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("want ErrUnknownKey, got %v", err)
	}
	wantErrText(t, err, "retainer.enabled", "did you mean retainer.enable?", "flag --set")
	err = loadErr(t, []string{"--nod.name", "x@y"}, nil)
	if !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unknown flag: want ErrUnknownKey, got %v", err)
	}
	wantErrText(t, err, "--nod.name")
}

func TestConfigSectionIsNotAKey(t *testing.T) {
	err := Set(&Config{}, "mqtt", "1")
	wantErrText(t, err, "config: mqtt: is a section")
	err = loadErr(t, []string{"--config", writeFile(t, "h.toml", "mqtt = 1\n")}, nil)
	wantErrText(t, err, "config: mqtt: is a section")
	err = loadErr(t, []string{"--config", writeFile(t, "h.toml", "[mqtt.max_inflight]\nx = 1\n")}, nil)
	wantErrText(t, err, "config: mqtt.max_inflight: want a single value")
}

func TestConfigInvalidValueNamesKeyAndReason(t *testing.T) {
	c := Default()
	err := Set(&c, "mqtt.max_packet_size", "12XB")
	if !errors.Is(err, ErrInvalidValue) {
		t.Fatalf("want ErrInvalidValue, got %v", err)
	}
	want := `config: mqtt.max_packet_size: "12XB" is not a byte size (e.g. 1MB, 512KB)`
	if !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %q, want prefix %q", err, want)
	}
	var ke *KeyError
	if !errors.As(err, &ke) || ke.Key != "mqtt.max_packet_size" {
		t.Fatalf("not a KeyError for the key: %#v", err)
	}
	if c.MQTT.MaxPacketSize != 1<<20 {
		t.Fatalf("failed Set changed the value to %d", c.MQTT.MaxPacketSize)
	}
}

func TestConfigInvalidValues(t *testing.T) {
	cases := []struct{ key, value, reason string }{
		{"mqtt.max_clientid_len", "10", "out of range (23..65535)"},
		{"mqtt.max_qos_allowed", "3", "out of range (0..2)"},
		{"mqtt.max_inflight", "many", "not an integer"},
		{"mqtt.idle_timeout", "15", "missing unit"},
		{"mqtt.retry_interval", "0s", "below the minimum"},
		{"mqtt.max_publish_rate", "100", "not a rate"},
		{"mqtt.max_subscriptions", "-1", `not a non-negative integer or "infinity"`},
		{"mqtt.retain_available", "yes", "not a boolean"},
		{"mqtt.keepalive_multiplier", "0.5", "out of range (1..65535)"},
		{"mqtt.server_keepalive", "70000", "out of range"},
		{"mqtt.max_keepalive", "70000", "out of range"},
		{"mqtt.max_packet_size", "257MB", "out of range (1B..256MB)"},
		{"durability", "fast", `"fast" is not one of: sync, async, off`},
		{"log.level", "warn", "not one of"},
		{"node.data_dir", "", "must not be empty"},
		{"node.name", "herald", "exactly one @"},
		{"node.name", "a@b@c", "exactly one @"},
		{"listeners.tcp.default.bind", "host", "not a listen address"},
		{"listeners.tcp.default.bind", "h:99999", "port must be"},
		{"listeners.ws.default.websocket.mqtt_path", "mqtt", "must start with /"},
		{"listeners.ssl.default.ssl_options.verify", "yes", "not one of"},
		{"sys_topics.sys_msg_interval", "10ms", "below the minimum 1s"},
		{"authorization.rules", "{}", "want a list"},
		{"authorization.rules", "[", "not a JSON array"},
	}
	for _, tc := range cases {
		c := Default()
		err := Set(&c, tc.key, tc.value)
		if err == nil {
			t.Fatalf("Set(%s, %q): want error", tc.key, tc.value)
		}
		if !errors.Is(err, ErrInvalidValue) {
			t.Fatalf("Set(%s, %q): want ErrInvalidValue, got %v", tc.key, tc.value, err)
		}
		wantErrText(t, err, "config: "+tc.key+": ", tc.reason)
	}
}

func TestConfigListErrors(t *testing.T) {
	c := Default()
	err := Set(&c, "authorization.rules", `[{"permission":"maybe","who":"ipaddr:300.1.1.1","topics":[]},{"toppics":["a"]}]`)
	wantErrText(t, err,
		`authorization.rules[0].permission: "maybe" is not one of: allow, deny`,
		"authorization.rules[0].who:",
		"authorization.rules[0].topics: must list at least one",
		"authorization.rules[1].toppics: unknown key")
	if c.Authorization.Rules != nil {
		t.Fatalf("failed Set changed rules: %+v", c.Authorization.Rules)
	}
	err = Set(&c, "authentication.users",
		`[{"username":"a","password_hash":"h"},{"username":"a","password_hash":"h","algorithm":"bcrypt","salt":"s"},{"password_hash":"x"}]`)
	wantErrText(t, err,
		`authentication.users[1].username: duplicate username "a"`,
		"authentication.users[1].salt: must be empty for bcrypt",
		"authentication.users[2].username: must not be empty")
}

func TestConfigListFromEnvJSON(t *testing.T) {
	env := []string{
		`HERALD_AUTHORIZATION__RULES=[{"permission":"deny","who":"clientid:c1","action":"subscribe","topics":["#"]}]`,
		`HERALD_AUTHENTICATION__USERS=[{"username":"u","password_hash":"p","algorithm":"plain"}]`,
	}
	c := mustLoad(t, nil, env)
	want := Rule{Permission: "deny", Who: "clientid:c1", Action: "subscribe", Topics: []string{"#"}}
	if len(c.Authorization.Rules) != 1 || c.Authorization.Rules[0].Who != want.Who || c.Authorization.Rules[0].Topics[0] != "#" {
		t.Fatalf("rules = %+v", c.Authorization.Rules)
	}
	if u := c.Authentication.Users; len(u) != 1 || u[0].Algorithm != "plain" || u[0].SaltPosition != "prefix" {
		t.Fatalf("users = %+v", u)
	}
}

func TestConfigMultipleErrorsReported(t *testing.T) {
	file := writeFile(t, "h.toml", "[mqtt]\nmax_inflight = 0\nbogus = 1\n")
	env := []string{"HERALD_LOG__LEVEL=loud", "HERALD_NOPE=1"}
	args := []string{"--config", file, "--set", "mqtt.max_packet_size=12XB"}
	err := loadErr(t, args, env)
	wantErrText(t, err, "mqtt.max_inflight", "mqtt.bogus", "log.level", "nope", "mqtt.max_packet_size")
	if n := strings.Count(err.Error(), "\n") + 1; n != 5 {
		t.Fatalf("want 5 errors, got %d:\n%v", n, err)
	}
}

func TestConfigValidateCrossField(t *testing.T) {
	c := Default()
	c.MQTT.MaxOutboundBytes = 1024
	c.MQTT.MaxInflight = 0
	c.Listeners.TCP["second"] = newListener("127.0.0.1:1883")
	ssl := c.Listeners.SSL["default"]
	ssl.SSLOptions = SSLOptions{CertFile: "c", KeyFile: "k", Verify: "verify_peer"}
	c.Listeners.SSL["default"] = ssl
	wss := c.Listeners.WSS["default"]
	wss.SSLOptions = SSLOptions{CertFile: "c", Verify: "verify_none", FailIfNoPeerCert: true}
	c.Listeners.WSS["default"] = wss
	c.Dashboard.Listeners.HTTPS.Bind = "127.0.0.1:18084"
	c.Dashboard.Listeners.HTTPS.SSLOptions.KeyFile = "k"
	err := c.Validate()
	wantErrText(t, err,
		"mqtt.max_outbound_bytes: 1KB is smaller than mqtt.max_packet_size (1MB)",
		"mqtt.max_inflight: 0 is out of range",
		`listeners.tcp.second.bind: "127.0.0.1:1883" conflicts with listeners.tcp.default.bind`,
		"listeners.ssl.default.ssl_options.cacertfile: required with verify = verify_peer",
		"listeners.wss.default.ssl_options.keyfile: required",
		"listeners.wss.default.ssl_options.fail_if_no_peer_cert: needs verify = verify_peer",
		"dashboard.listeners.https.ssl_options.certfile: required when dashboard.listeners.https.bind is set")
	if n := strings.Count(err.Error(), "\n") + 1; n != 7 {
		t.Fatalf("want 7 errors, got %d:\n%v", n, err)
	}
}

func TestConfigBindConflictRules(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"0.0.0.0:1883", "127.0.0.1:1883", true},
		{"127.0.0.1:1883", "127.0.0.2:1883", false},
		{"[::]:1883", "10.0.0.1:1883", true},
		{":1883", "10.0.0.1:1883", true},
		{"0.0.0.0:0", "0.0.0.0:0", false},
		{"0.0.0.0:1883", "0.0.0.0:1884", false},
	}
	for _, tc := range cases {
		if got := bindsOverlap(tc.a, tc.b); got != tc.want {
			t.Fatalf("bindsOverlap(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
