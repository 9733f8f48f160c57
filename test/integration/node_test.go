package integration

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The crash and restart tests run the real herald binary, built once per
// test binary (on first use) into a directory TestMain removes at the end.
var (
	binDir    string
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "herald-it-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: temp dir:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// heraldBinary builds ./cmd/herald (with the race detector when the tests
// run with it, so the build shares the test's build cache) and returns its
// path.
func heraldBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binPath = filepath.Join(binDir, "herald")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "github.com/herald-mqtt/herald/cmd/herald")
		out, err := exec.Command("go", args...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("%v", buildErr)
	}
	return binPath
}

// logBuffer collects a process's output; it is safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// node is a herald process on a data dir. Every run's output goes to log,
// one run after the other.
type node struct {
	t    testing.TB
	Dir  string   // node.data_dir
	Sets []string // extra --set key=value
	port int
	log  logBuffer
	cmd  *exec.Cmd
	done chan struct{} // closed when the current process has exited
	exit error         // its Wait result, once done
}

// startNode runs herald with its data in dir (created if needed) and the
// given extra settings, and waits until it serves. The process is killed in
// t.Cleanup if the test has not stopped it.
func startNode(t testing.TB, dir string, sets ...string) *node {
	t.Helper()
	n := newNode(t, dir, sets...)
	n.Start()
	return n
}

// newNode prepares a node without starting it.
func newNode(t testing.TB, dir string, sets ...string) *node {
	t.Helper()
	n := &node{t: t, Dir: dir, Sets: sets, port: freePort(t)}
	t.Cleanup(func() {
		if n.running() {
			n.Kill()
		}
		if t.Failed() {
			t.Logf("herald output:\n%s", n.log.String())
		}
	})
	return n
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Addr is the node's MQTT TCP address; it stays the same across restarts.
func (n *node) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.port)) }

// Log returns everything the node's runs have written so far.
func (n *node) Log() string { return n.log.String() }

func (n *node) running() bool {
	if n.done == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// Launch starts a process without waiting for it to serve.
func (n *node) Launch() {
	n.t.Helper()
	// Only the MQTT listener: the default HTTP API port (18083) is shared
	// by every node on the machine, other test runs' included.
	args := []string{"start", "--node.data_dir", n.Dir,
		"--set", "listeners.tcp.default.bind=" + n.Addr(),
		"--set", "listeners.ws.default.bind=off", "--set", "dashboard.listeners.http.bind=off"}
	for _, s := range n.Sets {
		args = append(args, "--set", s)
	}
	fmt.Fprintf(&n.log, "=== herald %s\n", strings.Join(args, " "))
	cmd := exec.Command(heraldBinary(n.t), args...)
	cmd.Stdout, cmd.Stderr = &n.log, &n.log
	if err := cmd.Start(); err != nil {
		n.t.Fatalf("start herald: %v", err)
	}
	n.cmd, n.done = cmd, make(chan struct{})
	go func(done chan struct{}) {
		n.exit = cmd.Wait()
		close(done)
	}(n.done)
}

// Start launches the node and waits until it accepts MQTT connections. If
// another process took the node's port meanwhile, it moves to a new one.
func (n *node) Start() {
	n.t.Helper()
	for attempt := 1; ; attempt++ {
		mark := len(n.Log())
		n.Launch()
		err := n.waitStarted(mark, 30*time.Second)
		if err == nil {
			return
		}
		if attempt < 3 && strings.Contains(n.Log()[mark:], "address already in use") {
			n.port = freePort(n.t)
			continue
		}
		n.t.Fatalf("%v:\n%s", err, n.Log()[mark:])
	}
}

// waitStarted polls the log written since mark for the start message.
func (n *node) waitStarted(mark int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for !strings.Contains(n.Log()[mark:], "herald started") {
		if !n.running() {
			return fmt.Errorf("herald exited while starting (%v)", n.exit)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("herald not started within %v", d)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// Kill sends SIGKILL and waits for the process to die.
func (n *node) Kill() {
	n.t.Helper()
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	n.Wait(30 * time.Second)
}

// Stop sends SIGTERM and waits for a clean exit.
func (n *node) Stop() {
	n.t.Helper()
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	if code := n.Wait(30 * time.Second); code != 0 {
		n.t.Fatalf("herald exited with %d after SIGTERM:\n%s", code, n.Log())
	}
}

// Wait waits up to d for the process to exit and returns its exit code
// (-1 when killed by a signal).
func (n *node) Wait(d time.Duration) int {
	n.t.Helper()
	select {
	case <-n.done:
	case <-time.After(d):
		_ = n.cmd.Process.Kill()
		n.t.Fatalf("herald did not exit within %v", d)
	}
	return n.cmd.ProcessState.ExitCode()
}

// Restart starts the node again on the same data dir and port.
func (n *node) Restart() {
	n.t.Helper()
	if n.running() {
		n.t.Fatalf("restart of a running node")
	}
	n.Start()
}

// storeDir is where the node keeps its Pebble store.
func (n *node) storeDir() string { return filepath.Join(n.Dir, "store") }
