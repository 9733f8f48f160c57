package loadgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

const mosquittoBin = "/usr/sbin/mosquitto"

// startMosquitto runs Debian's mosquitto on a free loopback port for the
// test and returns the port.
func startMosquitto(t *testing.T) int {
	t.Helper()
	if _, err := os.Stat(mosquittoBin); err != nil {
		t.Skipf("integration test needs %s (apt-get install mosquitto): %v", mosquittoBin, err)
	}
	port := freePort(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "mosquitto.conf")
	// Queue limits as in tools/peers/start.sh: a subscriber that falls
	// behind on a loaded machine must not make mosquitto drop QoS 1
	// messages (its default max_queued_messages is 1000).
	text := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n"+
		"max_queued_messages 10000000\nmax_queued_bytes 0\nlog_dest stderr\nlog_type error\n", port)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatalf("writing config: %v", err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(mosquittoBin, "-c", conf)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // even if the test binary dies
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting mosquitto: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitListening(t, port, &logs)
	return port
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitListening(t *testing.T, port int, logs *bytes.Buffer) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("mosquitto not listening on %d after 5s; log: %s", port, logs.String())
}

// bench runs Main and decodes its JSON line.
func bench(t *testing.T, port int, args ...string) (*Result, int) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append(args, "-p", strconv.Itoa(port))
	code := Main(args, &out, &errb)
	var r Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%q: exit %d, stdout %q is not one JSON line: %v; stderr %s", args, code, out.String(), err, errb.String())
	}
	if bytes.Count(out.Bytes(), []byte{'\n'}) != 1 || bytes.Count(errb.Bytes(), []byte{'\n'}) != 1 {
		t.Fatalf("%q: want one line on stdout and stderr, got %q and %q", args, out.String(), errb.String())
	}
	t.Logf("%s", bytes.TrimSpace(errb.Bytes()))
	return &r, code
}

func mustBench(t *testing.T, port int, args ...string) *Result {
	t.Helper()
	r, code := bench(t, port, args...)
	if code != ExitOK || r.Error != "" {
		t.Fatalf("%q: exit %d, error %q", args, code, r.Error)
	}
	if r.FlowResult == nil && r.ConnResult == nil {
		t.Fatalf("%q: result without counters", args)
	}
	return r
}

// short are the timings of every integration run: 1 s measured.
var short = []string{"-duration", "1s", "-warmup", "200ms", "-drain", "3s"}

func flowArgs(args ...string) []string { return append(args, short...) }

func TestLoadgenMosquittoFlows(t *testing.T) {
	port := startMosquitto(t)
	cases := []struct {
		name   string
		args   []string
		noLoss bool
	}{
		{"pairs qos0", flowArgs("pairs", "-c", "4"), false},
		{"pairs qos1 moderate", flowArgs("pairs", "-c", "4", "-q", "1", "-rate", "2000"), true},
		{"pairs qos2 v5", flowArgs("pairs", "-c", "2", "-q", "2", "-V", "5", "-rate", "1000"), true},
		{"fanin qos1", flowArgs("fanin", "-c", "4", "-q", "1", "-rate", "2000"), true},
		{"fanin qos1 full speed v5", flowArgs("fanin", "-c", "2", "-q", "1", "-V", "5"), false},
		{"fanout qos0", flowArgs("fanout", "-c", "4", "-rate", "2000"), false},
		{"fanout qos1", flowArgs("fanout", "-c", "4", "-q", "1", "-rate", "1000"), true},
		{"latency qos1", flowArgs("latency", "-q", "1"), true},
		{"latency qos0 v5", flowArgs("latency", "-V", "5"), false},
		{"pub qos1", flowArgs("pub", "-c", "2", "-q", "1", "-t", "loadgen-test/%c"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkFlow(t, mustBenchFlow(t, port, c.args...), c.noLoss)
		})
	}
}

// mustBenchFlow runs a 1 s flow, once more if the machine (shared with
// other jobs) starved the process so badly that the window was not measured.
func mustBenchFlow(t *testing.T, port int, args ...string) *Result {
	t.Helper()
	r := mustBench(t, port, args...)
	if r.MeasuredS < 0.5 {
		t.Logf("measured window %.3fs instead of 1s (other_cpu_pct %.0f): running again", r.MeasuredS, r.OtherCPUPct)
		r = mustBench(t, port, args...)
	}
	return r
}

// checkFlow asserts the sanity of a flow result.
func checkFlow(t *testing.T, r *Result, noLoss bool) {
	t.Helper()
	f := r.FlowResult
	if f == nil || f.Sent == 0 || f.SentPerS <= 0 {
		t.Fatalf("nothing sent: %+v", f)
	}
	if r.BrokerComm != "mosquitto" || r.BrokerCPUPct == nil || r.BrokerRSSKBStart == nil {
		t.Fatalf("broker process not found: pid %d comm %q", r.BrokerPID, r.BrokerComm)
	}
	if r.QoS > 0 && f.Acked+f.Rejected != f.Sent {
		t.Fatalf("acked %d + rejected %d != sent %d", f.Acked, f.Rejected, f.Sent)
	}
	if f.Subscribers == 0 {
		return
	}
	if f.Delivered == 0 || f.DeliveredPerS <= 0 || f.LatUS.N == 0 || f.LatUS.P50 == 0 || f.LatUS.Max < f.LatUS.P99 {
		t.Fatalf("nothing delivered or no latency: %+v", f)
	}
	if noLoss && (f.Loss != 0 || f.Expected != f.Delivered) {
		t.Fatalf("loss %d: expected %d delivered %d (drain %.3fs, other cpu %.0f%%): %+v",
			f.Loss, f.Expected, f.Delivered, f.DrainS, r.OtherCPUPct, f)
	}
}

func TestLoadgenMosquittoPubSub(t *testing.T) {
	port := startMosquitto(t)
	var wg sync.WaitGroup
	var sub *Result
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Receives the stamped messages of the pub run below; pub starts
		// later than sub by its own setup, and keeps publishing past sub's
		// subscription for its whole 1.5 s.
		r, code := benchQuiet(port, "sub", "-c", "2", "-t", "loadgen-ps/#", "-q", "1", "-duration", "2s", "-warmup", "0s")
		if code == ExitOK {
			sub = r
		}
	}()
	pub := mustBench(t, port, "pub", "-c", "2", "-t", "loadgen-ps/%i", "-q", "1", "-rate", "500",
		"-duration", "1500ms", "-warmup", "200ms", "-drain", "1s")
	wg.Wait()
	if sub == nil || sub.Delivered == 0 || sub.LatUS.N == 0 || sub.Subscribers != 2 {
		t.Fatalf("sub run received nothing: %+v", sub)
	}
	if sub.Delivered > 2*pub.Sent {
		t.Fatalf("sub delivered %d > 2 x pub sent %d", sub.Delivered, pub.Sent)
	}
}

// benchQuiet is bench for goroutines that must not call t.Fatal.
func benchQuiet(port int, args ...string) (*Result, int) {
	var out, errb bytes.Buffer
	code := Main(append(args, "-p", strconv.Itoa(port)), &out, &errb)
	var r Result
	if json.Unmarshal(out.Bytes(), &r) != nil {
		return nil, ExitFailed
	}
	return &r, code
}

func TestLoadgenMosquittoConn(t *testing.T) {
	port := startMosquitto(t)
	r := mustBench(t, port, "conn", "-c", "200", "-hold", "300ms", "-duration", "10s")
	c := r.ConnResult
	if c == nil || c.Connected != 200 || c.Failures != 0 || c.DeadAfterHold != 0 || c.ConnectPerS <= 0 {
		t.Fatalf("conn: %+v", c)
	}
	if c.RSSKBBefore == nil || c.RSSKBHeld == nil || c.RSSBytesPerConn == nil || r.BrokerComm != "mosquitto" {
		t.Fatalf("conn: broker memory not read: %+v", c)
	}
	r = mustBench(t, port, "conn", "-c", "20", "-rate", "100", "-hold", "0s", "-V", "5", "-pid", "none")
	if r.ConnResult.Connected != 20 || r.ConnResult.ConnectPerS > 150 || r.BrokerCPUPct != nil {
		t.Fatalf("paced v5 conn: %+v", r.ConnResult)
	}
}

func TestLoadgenNoBroker(t *testing.T) {
	port := freePort(t) // nothing listens there any more
	r, code := bench(t, port, "pairs", "-c", "1", "-duration", "1s", "-setup-timeout", "2s")
	if code != ExitFailed || r.Error == "" || r.Scenario != "pairs" {
		t.Fatalf("exit %d, result %+v", code, r)
	}
}
