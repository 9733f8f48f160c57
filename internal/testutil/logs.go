package testutil

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/herald-mqtt/herald/internal/config"
)

// Logs captures what a node logs, as JSON lines at debug level, for tests
// that check the log itself. Safe for concurrent use.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// RunServerLogged is RunServer with the node's log captured.
func RunServerLogged(t testing.TB, mutate ...func(*config.Config)) (*Server, *Logs) {
	t.Helper()
	cfg := TestConfig(t.TempDir())
	for _, m := range mutate {
		m(&cfg)
	}
	l := &Logs{}
	return StartWithLogger(t, cfg, l.Logger()), l
}

// Logger returns a logger writing JSON records at debug level to l.
func (l *Logs) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Write appends log output.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns the raw output so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Find returns the records so far with message msg whose attributes
// include the key/value pairs kv (values compared in their %v form: a
// number logged as 5 matches 5 or "5").
func (l *Logs) Find(t testing.TB, msg string, kv ...any) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(l.String(), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		if rec["msg"] == msg && matches(rec, kv) {
			out = append(out, rec)
		}
	}
	return out
}

func matches(rec map[string]any, kv []any) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		v, ok := rec[fmt.Sprint(kv[i])]
		if !ok || fmt.Sprint(v) != fmt.Sprint(kv[i+1]) {
			return false
		}
	}
	return true
}

// Wait waits (up to Timeout) for a record as Find describes and returns
// the first one.
func (l *Logs) Wait(t testing.TB, msg string, kv ...any) map[string]any {
	t.Helper()
	var got []map[string]any
	Eventually(t, Timeout, func() error {
		if got = l.Find(t, msg, kv...); len(got) == 0 {
			return fmt.Errorf("no log record %q with %v; log:\n%s", msg, kv, l.String())
		}
		return nil
	})
	return got[0]
}
