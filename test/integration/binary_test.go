package integration

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// The binary tests run cmd/herald, built once (see heraldBinary in node_test.go).

// cleanEnv is the test's environment without HERALD_ variables, plus extra.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HERALD_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// runHerald runs the binary to completion (bounded) and returns its exit
// code, stdout and stderr.
func runHerald(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // a failure bound
	defer cancel()
	cmd := exec.CommandContext(ctx, heraldBinary(t), args...)
	cmd.Env, cmd.Dir = env, t.TempDir()
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), stdout.String(), stderr.String()
	case err != nil:
		t.Fatalf("run herald %v: %v", args, err)
	}
	return 0, stdout.String(), stderr.String()
}

// node is a herald process serving MQTT on addr.
type binNode struct {
	cmd    *exec.Cmd
	addr   string
	stderr syncBuffer
	done   chan error
}

// startHerald starts the binary with args and waits until it accepts MQTT
// connections on addr.
func startHerald(t *testing.T, addr string, env []string, args ...string) *binNode {
	t.Helper()
	n := &binNode{addr: addr, done: make(chan error, 1)}
	n.cmd = exec.Command(heraldBinary(t), args...)
	n.cmd.Env, n.cmd.Dir = env, t.TempDir()
	n.cmd.Stderr = &n.stderr
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("start herald: %v", err)
	}
	go func() { n.done <- n.cmd.Wait() }()
	t.Cleanup(func() {
		_ = n.cmd.Process.Kill()
		<-n.done
	})
	testutil.Eventually(t, 60*time.Second, func() error { // start-up, a failure bound
		select {
		case err := <-n.done:
			n.done <- err
			t.Fatalf("herald exited early: %v\n%s", err, n.stderr.String())
		default:
		}
		return tryConnect(addr, "probe", testutil.Timeout)
	})
	return n
}

// stop sends SIGTERM and returns the exit code.
func (n *binNode) stop(t *testing.T) int {
	t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	var err error
	select {
	case err = <-n.done:
		n.done <- err
	case <-time.After(testutil.Timeout):
		t.Fatalf("herald still running %v after SIGTERM\n%s", testutil.Timeout, n.stderr.String())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	return 0
}

// checkServes runs a QoS 1 round trip through the node.
func checkServes(t *testing.T, addr string) {
	t.Helper()
	sub, _ := testutil.ConnectV5(t, addr, &paho.Connect{ClientID: "bin-sub", CleanStart: true})
	sub.SubscribeOK(t, "bin/#", 1)
	pub, _ := testutil.ConnectV5(t, addr, &paho.Connect{ClientID: "bin-pub", CleanStart: true})
	pub.PublishRC(t, "bin/x", "from the binary")
	sub.Expect(t, "bin/x", "from the binary")
}

// TestBinaryNoConfigAndSIGTERM starts herald with no config file, only
// --set flags, checks it serves MQTT, then stops it with SIGTERM: it exits
// 0 after sending connected v5 clients DISCONNECT 0x8B Server shutting down
// [MQTT-3.14.2-1] and closing 3.1.1 ones.
func TestBinaryNoConfigAndSIGTERM(t *testing.T) {
	addr := freeAddr(t)
	n := startHerald(t, addr, cleanEnv(), "--set", "listeners.tcp.default.bind="+addr,
		"--set", "listeners.ws.default.bind=off", "--set", "dashboard.listeners.http.bind=off",
		"--set", "node.data_dir="+t.TempDir())
	checkServes(t, addr)
	v5, _ := testutil.ConnectV5(t, addr, &paho.Connect{ClientID: "bin-v5", CleanStart: true})
	v3 := testutil.DialRaw(t, addr, packet.V311)
	v3.Connect(&packet.Connect{ClientID: "bin-v3", CleanStart: true})
	if code := n.stop(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM\n%s", code, n.stderr.String())
	}
	select {
	case d := <-v5.Disc:
		if d.ReasonCode != byte(packet.ServerShuttingDown) {
			t.Fatalf("DISCONNECT %#x, want 0x8B", d.ReasonCode)
		}
	case <-time.After(testutil.Timeout):
		t.Fatalf("v5 client got no DISCONNECT")
	}
	if got := v3.ExpectClosed(testutil.Timeout); len(got) != 0 {
		t.Fatalf("3.1.1 client got %v", got)
	}
}

// TestBinaryInvalidValue checks that a bad value is refused, naming the key
// and the reason on stderr, whether it comes from --set, the environment
// or a config file.
func TestBinaryInvalidValue(t *testing.T) {
	toml := filepath.Join(t.TempDir(), "bad.toml")
	writeFile(t, toml, "[mqtt]\nmax_packet_size = \"12XB\"\n")
	cases := []struct {
		name string
		env  []string
		args []string
	}{
		{"flag", nil, []string{"--set", "mqtt.max_packet_size=12XB"}},
		{"env", []string{"HERALD_MQTT__MAX_PACKET_SIZE=12XB"}, nil},
		{"toml", nil, []string{"--config", toml}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runHerald(t, cleanEnv(tc.env...), tc.args...)
			if code == 0 {
				t.Fatalf("exit code 0 for an invalid value")
			}
			if !strings.Contains(stderr, "mqtt.max_packet_size") || !strings.Contains(stderr, "12XB") || !strings.Contains(stderr, "byte size") {
				t.Fatalf("stderr does not name the key, value and reason: %q", stderr)
			}
		})
	}
}

// TestBinaryUnknownKey checks that an unknown key is refused, from --set,
// the environment and a file.
func TestBinaryUnknownKey(t *testing.T) {
	toml := filepath.Join(t.TempDir(), "typo.toml")
	writeFile(t, toml, "[mqtt]\nmax_packet_sise = \"1MB\"\n")
	cases := []struct {
		name string
		env  []string
		args []string
	}{
		{"flag", nil, []string{"--set", "mqtt.max_packet_sise=1MB"}},
		{"env", []string{"HERALD_MQTT__MAX_PACKET_SISE=1MB"}, nil},
		{"toml", nil, []string{"--config", toml}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runHerald(t, cleanEnv(tc.env...), tc.args...)
			if code == 0 || !strings.Contains(stderr, "mqtt.max_packet_sise") || !strings.Contains(stderr, "unknown key") {
				t.Fatalf("exit code %d, stderr %q: want a refusal naming the unknown key", code, stderr)
			}
		})
	}
}

// TestBinaryConfigFiles starts herald from a TOML and from a YAML file that
// set the listener (the HTTP API off: its default port is shared by every
// node on the machine) and mqtt.max_topic_levels = 3, and checks the limit is
// in force (SUBACK 0x8F for a 4-level filter).
func TestBinaryConfigFiles(t *testing.T) {
	for _, format := range []string{"toml", "yaml"} {
		t.Run(format, func(t *testing.T) {
			addr, data := freeAddr(t), t.TempDir()
			path := filepath.Join(t.TempDir(), "herald."+format)
			writeFile(t, path, configFile(format, addr, data))
			n := startHerald(t, addr, cleanEnv(), "--config", path)
			checkServes(t, addr)
			c, _ := testutil.ConnectRawV5(t, addr, "levels")
			if got := c.SubscribeCodes(1, 0, "a/b/c/d"); len(got) != 1 || got[0] != packet.TopicFilterInvalid {
				t.Fatalf("SUBACK %v, want 0x8F from max_topic_levels = 3 in the %s file", got, format)
			}
			if code := n.stop(t); code != 0 {
				t.Fatalf("exit code %d\n%s", code, n.stderr.String())
			}
		})
	}
}

func configFile(format, addr, data string) string {
	if format == "toml" {
		return fmt.Sprintf("[node]\ndata_dir = %q\n[mqtt]\nmax_topic_levels = 3\n"+
			"[listeners.tcp.default]\nbind = %q\n[listeners.ws.default]\nbind = \"off\"\n"+
			"[dashboard.listeners.http]\nbind = \"off\"\n", data, addr)
	}
	return fmt.Sprintf("node:\n  data_dir: %q\nmqtt:\n  max_topic_levels: 3\nlisteners:\n"+
		"  tcp:\n    default:\n      bind: %q\n  ws:\n    default:\n      bind: \"off\"\n"+
		"dashboard:\n  listeners:\n    http:\n      bind: \"off\"\n", data, addr)
}

// TestBinaryVersion checks herald version.
func TestBinaryVersion(t *testing.T) {
	code, stdout, _ := runHerald(t, cleanEnv(), "version")
	if code != 0 || !strings.HasPrefix(stdout, "herald ") || len(strings.Fields(stdout)) != 2 {
		t.Fatalf("herald version: exit %d, output %q", code, stdout)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}
