package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// mustLoad loads and fails the test on error.
func mustLoad(t *testing.T, args, env []string) Config {
	t.Helper()
	c, err := load(args, env, &bytes.Buffer{})
	if err != nil {
		t.Fatalf("load(%q, %q): %v", args, env, err)
	}
	return c
}

// loadErr loads, expects an error, and returns its text.
func loadErr(t *testing.T, args, env []string) error {
	t.Helper()
	_, err := load(args, env, &bytes.Buffer{})
	if err == nil {
		t.Fatalf("load(%q, %q): want an error, got nil", args, env)
	}
	return err
}

// writeFile writes content to name in a temp dir and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatalf("write %s: %v", p, err)
	}
	return p
}

// wantErrText checks err's text holds every part.
func wantErrText(t *testing.T, err error, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not contain %q", err, p)
		}
	}
}

func TestConfigDefaultsValidate(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	got := mustLoad(t, nil, nil)
	if !reflect.DeepEqual(got, Default()) {
		t.Fatalf("Load with no sources differs from Default()")
	}
}

func TestConfigDefaultActiveListeners(t *testing.T) {
	c := Default()
	var ids []string
	for _, l := range c.ActiveListeners() {
		ids = append(ids, l.ID())
	}
	// The default ssl/wss listeners stay inactive without a certificate.
	if want := []string{"tcp:default", "ws:default"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("ActiveListeners = %v, want %v", ids, want)
	}
}

func TestConfigTOMLAndYAMLEqual(t *testing.T) {
	ct := mustLoad(t, []string{"--config", "testdata/full.toml"}, nil)
	cy := mustLoad(t, []string{"--config", "testdata/full.yaml"}, nil)
	if !reflect.DeepEqual(ct, cy) {
		t.Fatalf("TOML and YAML differ:\n%v\n%v", ct, cy)
	}
	checkFull(t, ct)
}

// checkFull checks the values testdata/full.* set.
func checkFull(t *testing.T, c Config) {
	t.Helper()
	m := c.MQTT
	if c.Durability != "async" || c.Node.Name != "h1@10.0.0.1" || c.Log.Format != "json" {
		t.Fatalf("top-level keys not loaded: %+v %+v %+v", c.Durability, c.Node, c.Log)
	}
	if m.MaxPacketSize != 2<<20 || m.IdleTimeout != 0 || m.RetryInterval != 90*time.Second {
		t.Fatalf("mqtt keys not loaded: %+v", m)
	}
	if m.MaxPublishRate != (Rate{Count: 100, Per: 10 * time.Second}) || m.KeepaliveMultiplier != 2 || m.ServerKeepalive != 60 {
		t.Fatalf("mqtt rate/keepalive not loaded: %+v", m)
	}
	if c.Retainer.MaxPayloadSize != 64<<10 || c.SysTopics.SysMsgInterval != 0 {
		t.Fatalf("retainer/sys_topics not loaded: %+v %+v", c.Retainer, c.SysTopics)
	}
	checkFullListeners(t, c)
	checkFullAuth(t, c)
}

// checkFullListeners checks testdata/full.* listeners.
func checkFullListeners(t *testing.T, c Config) {
	t.Helper()
	var ids []string
	for _, l := range c.ActiveListeners() {
		ids = append(ids, l.ID()+"="+l.Bind)
	}
	want := []string{"tcp:internal=127.0.0.1:11883", "ssl:default=0.0.0.0:8883"}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("ActiveListeners = %v, want %v", ids, want)
	}
	if r := c.Listeners.TCP["internal"].MaxConnRate; r != (Rate{Count: 1000, Per: time.Second}) {
		t.Fatalf("tcp:internal max_conn_rate = %v", r)
	}
}

// checkFullAuth checks testdata/full.* users and rules.
func checkFullAuth(t *testing.T, c Config) {
	t.Helper()
	u := c.Authentication.Users
	if len(u) != 2 || u[0].Algorithm != "sha256" || u[0].SaltPosition != "suffix" || !u[1].IsSuperuser {
		t.Fatalf("users = %+v", u)
	}
	r := c.Authorization.Rules
	if len(r) != 2 || r[0].Who != "username:alice" || r[1].Who != "all" || r[1].Action != "all" {
		t.Fatalf("rules = %+v", r)
	}
	if !reflect.DeepEqual(r[0].Topics, []string{"%u/#", "eq a/+"}) {
		t.Fatalf("rule topics = %q", r[0].Topics)
	}
}

func TestConfigPrecedence(t *testing.T) {
	file := writeFile(t, "h.toml", "[mqtt]\nmax_inflight = 10\nmax_topic_levels = 10\nmax_topic_alias = 10\n")
	env := []string{"HERALD_MQTT__MAX_INFLIGHT=20", "HERALD_MQTT__MAX_TOPIC_LEVELS=20", "PATH=/bin"}
	args := []string{"--config", file, "--set", "mqtt.max_inflight=30"}
	c := mustLoad(t, args, env)
	if c.MQTT.MaxInflight != 30 {
		t.Fatalf("flag did not override env: max_inflight = %d", c.MQTT.MaxInflight)
	}
	if c.MQTT.MaxTopicLevels != 20 {
		t.Fatalf("env did not override file: max_topic_levels = %d", c.MQTT.MaxTopicLevels)
	}
	if c.MQTT.MaxTopicAlias != 10 {
		t.Fatalf("file not applied: max_topic_alias = %d", c.MQTT.MaxTopicAlias)
	}
}

func TestConfigShortcutFlags(t *testing.T) {
	args := []string{"--node.name=n2@host", "--node.data_dir", "/d", "-durability", "off",
		"--log.level", "warning", "--set", "log.level=error", "--set", "mqtt.max_qos_allowed=1"}
	c := mustLoad(t, args, []string{"HERALD_NODE__NAME=env@host"})
	if c.Node.Name != "n2@host" || c.Node.DataDir != "/d" || c.Durability != "off" {
		t.Fatalf("shortcuts not applied: %+v %q", c.Node, c.Durability)
	}
	if c.Log.Level != "error" || c.MQTT.MaxQoSAllowed != 1 {
		t.Fatalf("later flag should win: level %q qos %d", c.Log.Level, c.MQTT.MaxQoSAllowed)
	}
}

func TestConfigDisableListenerByBind(t *testing.T) {
	for _, v := range []string{"0", "off", "false", "OFF"} {
		c := mustLoad(t, []string{"--set", "listeners.tcp.default.bind=" + v}, nil)
		if l := c.Listeners.TCP["default"]; l.Enable || l.Bind != "" {
			t.Fatalf("bind=%s: listener still enabled: %+v", v, l)
		}
	}
	file := writeFile(t, "h.toml", "[listeners.ws.default]\nbind = 0\n[listeners.tcp.default]\nbind = false\n")
	c := mustLoad(t, []string{"--config", file}, nil)
	if len(c.ActiveListeners()) != 0 {
		t.Fatalf("active listeners left: %+v", c.ActiveListeners())
	}
	c = mustLoad(t, nil, []string{"HERALD_LISTENERS__WS__DEFAULT__ENABLE=false"})
	if c.Listeners.WS["default"].Enable {
		t.Fatalf("enable=false did not disable ws:default")
	}
}

func TestConfigDynamicListeners(t *testing.T) {
	env := []string{
		"HERALD_LISTENERS__TCP__INTERNAL__BIND=127.0.0.1:11883",
		"HERALD_LISTENERS__WS__EDGE_1__BIND=9000",
		"HERALD_LISTENERS__WS__EDGE_1__WEBSOCKET__MQTT_PATH=/ws",
	}
	c := mustLoad(t, nil, env)
	in, ok := c.Listeners.TCP["internal"]
	if !ok || !in.Enable || in.Bind != "127.0.0.1:11883" || in.ProxyProtocolTimeout != 3*time.Second {
		t.Fatalf("tcp:internal = %+v, %v", in, ok)
	}
	edge := c.Listeners.WS["edge_1"]
	if edge.Bind != "0.0.0.0:9000" || edge.WebSocket.MQTTPath != "/ws" {
		t.Fatalf("ws:edge_1 = %+v", edge)
	}
}

func TestConfigDynamicListenerNeedsBind(t *testing.T) {
	err := loadErr(t, []string{"--set", "listeners.tcp.x.max_connections=10"}, nil)
	wantErrText(t, err, "listeners.tcp.x.bind", "required")
	err = loadErr(t, []string{"--set", "listeners.ssl.mine.bind=8885"}, nil)
	wantErrText(t, err, "listeners.ssl.mine.ssl_options.certfile", "listeners.ssl.mine.ssl_options.keyfile")
}

func TestConfigBadListenerName(t *testing.T) {
	err := loadErr(t, []string{"--set", "listeners.tcp.bad name.bind=1"}, nil)
	if !errors.Is(err, ErrInvalidValue) {
		t.Fatalf("want ErrInvalidValue, got %v", err)
	}
	wantErrText(t, err, "listeners.tcp.bad name.bind", "invalid listener name")
}

func TestConfigHelp(t *testing.T) {
	var out bytes.Buffer
	for _, arg := range []string{"-h", "--help"} {
		out.Reset()
		_, err := load([]string{arg}, nil, &out)
		if !errors.Is(err, ErrHelp) {
			t.Fatalf("%s: err = %v, want ErrHelp", arg, err)
		}
		for _, f := range []string{"--config", "--set", "--node.name", "--node.data_dir", "--durability", "--log.level", "HERALD_"} {
			if !strings.Contains(out.String(), f) {
				t.Fatalf("usage lacks %s:\n%s", f, out.String())
			}
		}
	}
}

func TestConfigUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"--config"}, {"stray"}, {"--set", "novalue"}} {
		err := loadErr(t, args, nil)
		if !errors.Is(err, ErrUsage) {
			t.Fatalf("%q: want ErrUsage, got %v", args, err)
		}
	}
}

func TestConfigFileErrors(t *testing.T) {
	err := loadErr(t, []string{"--config", filepath.Join(t.TempDir(), "none.toml")}, nil)
	if !errors.Is(err, ErrFile) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	err = loadErr(t, []string{"--config", writeFile(t, "h.ini", "a=1")}, nil)
	wantErrText(t, err, "unsupported extension")
	err = loadErr(t, []string{"--config", writeFile(t, "h.toml", "[mqtt\n")}, nil)
	if !errors.Is(err, ErrFile) {
		t.Fatalf("bad TOML: %v", err)
	}
	err = loadErr(t, []string{"--config", writeFile(t, "h.yaml", "mqtt: [1\n")}, nil)
	if !errors.Is(err, ErrFile) {
		t.Fatalf("bad YAML: %v", err)
	}
}

func TestConfigExampleFileIsDefault(t *testing.T) {
	c := mustLoad(t, []string{"--config", "herald.example.toml"}, nil)
	if !reflect.DeepEqual(c, Default()) {
		t.Fatalf("herald.example.toml differs from Default():\n%v", diffFlat(c.Flatten(), Default().Flatten()))
	}
	data, err := os.ReadFile("herald.example.toml")
	if err != nil {
		t.Fatalf("read example: %v", err)
	}
	tree, err := decodeFile("herald.example.toml", data)
	if err != nil {
		t.Fatalf("decode example: %v", err)
	}
	have := map[string]bool{}
	leafKeys(tree, "", have)
	for _, k := range Default().Keys() {
		if !have[k] {
			t.Fatalf("herald.example.toml lacks key %s", k)
		}
	}
}

// leafKeys records the key paths of a decoded file's values.
func leafKeys(m map[string]any, prefix string, out map[string]bool) {
	for k, v := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok {
			leafKeys(sub, key, out)
			continue
		}
		out[key] = true
	}
}

// diffFlat lists the keys whose flattened values differ.
func diffFlat(a, b map[string]any) []string {
	var d []string
	for k, v := range a {
		if !reflect.DeepEqual(v, b[k]) {
			d = append(d, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			d = append(d, k)
		}
	}
	return d
}
