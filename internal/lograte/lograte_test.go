package lograte

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuf is a bytes.Buffer safe for concurrent writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) records(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("bad line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func count(recs []map[string]any, msg string) int {
	n := 0
	for _, r := range recs {
		if r["msg"] == msg {
			n++
		}
	}
	return n
}

func summaries(recs []map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, r := range recs {
		if r["msg"] == SummaryMsg {
			out[r["level"].(string)+" "+r["suppressed_msg"].(string)] = r
		}
	}
	return out
}

func newTest(o Options) (*slog.Logger, *Handler, *syncBuf, *clock) {
	buf := &syncBuf{}
	clk := &clock{t: time.Unix(1000, 0)}
	o.Now = clk.now
	inner := slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}).WithAttrs([]slog.Attr{slog.String("component", "test")})
	h := New(inner, o)
	return slog.New(h), h, buf, clk
}

func TestLograteBurstThenRate(t *testing.T) {
	log, h, buf, clk := newTest(Options{Burst: 5, Rate: 2})
	for range 100 {
		log.Info("client connection lost", "clientid", "c")
	}
	if n := count(buf.records(t), "client connection lost"); n != 5 {
		t.Fatalf("%d lines passed at once, want the burst of 5", n)
	}
	clk.add(time.Second) // 2 more tokens
	for range 100 {
		log.Info("client connection lost", "clientid", "c")
	}
	recs := buf.records(t)
	if n := count(recs, "client connection lost"); n != 7 {
		t.Fatalf("%d lines after 1 s at 2/s, want 7", n)
	}
	if got := h.Suppressed(); got != 193 {
		t.Fatalf("Suppressed() = %d, want 193", got)
	}
	h.Flush()
	s := summaries(buf.records(t))["INFO client connection lost"]
	if s == nil || s["suppressed"] != 193.0 || s["suppressed_total"] != 193.0 || s["component"] != "test" {
		t.Fatalf("summary %v", s)
	}
	h.Flush() // nothing new: no second summary
	if n := count(buf.records(t), SummaryMsg); n != 1 {
		t.Fatalf("%d summaries after a second flush, want 1", n)
	}
}

func TestLograteKeysAreLevelAndMessage(t *testing.T) {
	log, h, buf, _ := newTest(Options{Burst: 2, Rate: 1})
	for range 10 {
		log.Info("a")
		log.Warn("a")
		log.Info("b")
		log.Debug("a") // below MinLevel: never held back
	}
	recs := buf.records(t)
	if n := count(recs, "a"); n != 2+2+10 {
		t.Fatalf("%d lines of a, want 14 (2 info, 2 warn, 10 debug)", n)
	}
	if n := count(recs, "b"); n != 2 {
		t.Fatalf("%d lines of b, want 2", n)
	}
	h.Flush()
	sum := summaries(buf.records(t))
	for _, k := range []string{"INFO a", "WARN a", "INFO b"} {
		if sum[k] == nil || sum[k]["suppressed"] != 8.0 || sum[k]["suppressed_total"] != 24.0 {
			t.Fatalf("summary %q = %v", k, sum[k])
		}
	}
	if len(sum) != 3 {
		t.Fatalf("summaries %v", sum)
	}
}

func TestLograteDerivedHandlersShareBuckets(t *testing.T) {
	log, h, buf, _ := newTest(Options{Burst: 3})
	a := log.With("clientid", "a")
	b := log.WithGroup("g").With("clientid", "b")
	for range 5 {
		a.Info("x")
		b.Info("x")
	}
	if n := count(buf.records(t), "x"); n != 3 {
		t.Fatalf("%d lines, want one burst of 3 shared by derived loggers", n)
	}
	if h.Suppressed() != 7 {
		t.Fatalf("Suppressed() = %d, want 7", h.Suppressed())
	}
}

func TestLograteBoundedKeys(t *testing.T) {
	log, h, buf, clk := newTest(Options{Burst: 1, MaxKeys: 4})
	for i := range 50 {
		log.Info(fmt.Sprintf("msg %d", i))
	}
	if n := len(h.l.keys); n > 5 {
		t.Fatalf("%d keys tracked, want at most 4 + the overflow key", n)
	}
	if n := len(buf.records(t)); n != 5 {
		t.Fatalf("%d lines: want 4 distinct messages and 1 from the shared overflow bucket", n)
	}
	h.Flush()
	if s := summaries(buf.records(t))["INFO "+overflow]; s == nil || s["suppressed"] != 45.0 {
		t.Fatalf("overflow summary %v", s)
	}
	// Full buckets with nothing to report are forgotten at a flush.
	clk.add(time.Second)
	h.Flush()
	if n := len(h.l.keys); n != 0 {
		t.Fatalf("%d keys left after the buckets refilled, want 0", n)
	}
}

func TestLograteDisabledLevelsCostNothing(t *testing.T) {
	buf := &syncBuf{}
	inner := slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo})
	h := New(inner, Options{})
	log := slog.New(h)
	allocs := testing.AllocsPerRun(100, func() {
		log.Debug("client connected", "clientid", "x")
	})
	if allocs != 0 || buf.b.Len() != 0 {
		t.Fatalf("a disabled debug line: %v allocs, %d bytes written", allocs, buf.b.Len())
	}
}

func TestLograteConcurrent(t *testing.T) {
	log, h, buf, _ := newTest(Options{Burst: 10})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				log.Info("flood", "g", g, "i", i)
				if i%50 == 0 {
					h.Flush()
				}
			}
		}()
	}
	wg.Wait()
	h.Flush()
	recs := buf.records(t)
	var held float64
	for _, r := range recs {
		if r["msg"] == SummaryMsg {
			held += r["suppressed"].(float64)
		}
	}
	if passed := count(recs, "flood"); passed+int(held) != 1600 || passed < 10 {
		t.Fatalf("passed %d + suppressed %v != 1600", passed, held)
	}
}

// TestLograteDebugBudget: with MinLevel Debug, debug lines are limited too,
// by their own (larger) budget, and summarised like the others.
func TestLograteDebugBudget(t *testing.T) {
	log, h, buf, clk := newTest(Options{Burst: 2, Rate: 1, MinLevel: slog.LevelDebug, DebugBurst: 10, DebugRate: 5})
	for range 50 {
		log.Debug("client connected")
		log.Info("client connection lost")
	}
	if n := count(buf.records(t), "client connected"); n != 10 {
		t.Fatalf("%d debug lines, want the debug burst of 10", n)
	}
	if n := count(buf.records(t), "client connection lost"); n != 2 {
		t.Fatalf("%d info lines, want the burst of 2", n)
	}
	clk.add(time.Second)
	for range 50 {
		log.Debug("client connected")
	}
	if n := count(buf.records(t), "client connected"); n != 15 {
		t.Fatalf("%d debug lines a second later, want 10 + 5", n)
	}
	h.Flush()
	if s := summaries(buf.records(t))["DEBUG client connected"]; s == nil || s["suppressed"] != 85.0 {
		t.Fatalf("debug summary %v", s)
	}
}
