package loadgen

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestLoadgenWatchdog(t *testing.T) {
	exited := make(chan int, 1)
	saved := exitProcess
	exitProcess = func(code int) { exited <- code }
	t.Cleanup(func() { exitProcess = saved })
	var out, errb bytes.Buffer
	o := &output{stdout: &out, stderr: &errb}
	startWatchdog(10*time.Millisecond, o, Result{Scenario: "pairs", Addr: "127.0.0.1:1"})
	select {
	case code := <-exited:
		if code != ExitWatchdog {
			t.Fatalf("exit code %d, want %d", code, ExitWatchdog)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("watchdog did not fire")
	}
	var r Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil || !strings.HasPrefix(r.Error, "watchdog") {
		t.Fatalf("watchdog output %q: %v", out.String(), err)
	}
	o.emit(&Result{Scenario: "late"}) // the run finishing afterwards prints nothing more
	if strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("two results printed: %q", out.String())
	}
}

func TestLoadgenWatchdogLimit(t *testing.T) {
	c := mustParse(t, "conn", "-duration", "2s", "-warmup", "1s", "-drain", "3s", "-hold", "4s", "-setup-timeout", "5s")
	if got, want := c.watchdogLimit(), 53*time.Second; got != want { // 3 s of write grace included
		t.Fatalf("watchdogLimit = %v, want %v", got, want)
	}
}
