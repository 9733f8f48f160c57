package lograte

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultBurst   = 20   // lines of one message let through at once
	DefaultRate    = 1.0  // lines per second the burst refills at
	DefaultMaxKeys = 1000 // (level, message) pairs tracked

	// Debug lines (below Info) have their own, larger budget: debug is the
	// level an operator turns on to see everything, yet a storm must not
	// fill the disk then either.
	DefaultDebugBurst = 500
	DefaultDebugRate  = 100.0
)

// SummaryMsg is the message of the summary lines Flush writes.
const SummaryMsg = "log lines suppressed"

// overflow is the message key shared by every message beyond MaxKeys.
const overflow = "(other messages)"

// Options tune a Handler. The zero value uses the defaults.
type Options struct {
	Burst    int        // lines of one (level, message) let through at once; 0: DefaultBurst
	Rate     float64    // lines per second the burst refills at; 0: DefaultRate
	MinLevel slog.Level // records below it are never held back (zero value: Info)
	// DebugBurst and DebugRate replace Burst and Rate for records below
	// Info that MinLevel lets the limiter see; 0: the defaults.
	DebugBurst int
	DebugRate  float64
	MaxKeys    int              // distinct (level, message) pairs tracked; 0: DefaultMaxKeys
	Now        func() time.Time // nil: time.Now (tests inject a clock)
}

func (o Options) withDefaults() Options {
	if o.Burst <= 0 {
		o.Burst = DefaultBurst
	}
	if o.Rate <= 0 {
		o.Rate = DefaultRate
	}
	if o.DebugBurst <= 0 {
		o.DebugBurst = DefaultDebugBurst
	}
	if o.DebugRate <= 0 {
		o.DebugRate = DefaultDebugRate
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultMaxKeys
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Handler is a slog.Handler that rate-limits the records it passes on.
// Handlers derived with WithAttrs and WithGroup share its buckets and
// counters. Safe for concurrent use.
type Handler struct {
	inner slog.Handler
	l     *limiter
}

// New wraps inner. Summary lines go to inner as it is now (with the
// attributes it carries, such as component=broker).
func New(inner slog.Handler, o Options) *Handler {
	o = o.withDefaults()
	return &Handler{inner: inner, l: &limiter{o: o, base: inner, keys: make(map[key]*bucket)}}
}

// Enabled reports whether the wrapped handler takes records of level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

// Handle passes r on unless its message has used up its bucket.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= h.l.o.MinLevel && !h.l.allow(r.Level, r.Message) {
		return nil
	}
	return h.inner.Handle(ctx, r)
}

// WithAttrs returns a handler with attrs that shares h's buckets.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{inner: h.inner.WithAttrs(attrs), l: h.l}
}

// WithGroup returns a handler with a group that shares h's buckets.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{inner: h.inner.WithGroup(name), l: h.l}
}

// Suppressed is the number of lines held back since New.
func (h *Handler) Suppressed() uint64 { return h.l.total.Load() }

// Flush writes one summary line for each message that had lines held back
// since the last Flush, at that message's level, and forgets the buckets
// that are full again (so the table stays small).
func (h *Handler) Flush() { h.l.flush() }

type key struct {
	level slog.Level
	msg   string
}

type bucket struct {
	tokens  float64
	last    time.Time
	dropped uint64 // held back since the last flush
}

type limiter struct {
	o     Options
	base  slog.Handler
	mu    sync.Mutex
	keys  map[key]*bucket
	total atomic.Uint64
}

// allow takes a token from the bucket of (level, msg).
func (l *limiter) allow(level slog.Level, msg string) bool {
	now := l.o.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key{level, msg}, now)
	burst, rate := l.budget(level)
	b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	b.dropped++
	l.total.Add(1)
	return false
}

// budget is the burst and refill rate of a level's buckets.
func (l *limiter) budget(level slog.Level) (burst, rate float64) {
	if level < slog.LevelInfo {
		return float64(l.o.DebugBurst), l.o.DebugRate
	}
	return float64(l.o.Burst), l.o.Rate
}

// bucket finds or makes the bucket of k; past MaxKeys new messages share
// one bucket per level. Lock held.
func (l *limiter) bucket(k key, now time.Time) *bucket {
	if b := l.keys[k]; b != nil {
		return b
	}
	if len(l.keys) >= l.o.MaxKeys {
		k.msg = overflow
		if b := l.keys[k]; b != nil {
			return b
		}
	}
	burst, _ := l.budget(k.level)
	b := &bucket{tokens: burst, last: now}
	l.keys[k] = b
	return b
}

type held struct {
	k key
	n uint64
}

func (l *limiter) flush() {
	now := l.o.Now()
	list := l.collect(now)
	total := l.total.Load()
	ctx := context.Background()
	for _, e := range list {
		if !l.base.Enabled(ctx, e.k.level) {
			continue
		}
		r := slog.NewRecord(now, e.k.level, SummaryMsg, 0)
		r.AddAttrs(slog.String("suppressed_msg", e.k.msg), slog.Uint64("suppressed", e.n),
			slog.Uint64("suppressed_total", total))
		_ = l.base.Handle(ctx, r)
	}
}

// collect takes the held-back counts (sorted by level, then message) and
// drops the buckets with nothing to report that are full again.
func (l *limiter) collect(now time.Time) []held {
	l.mu.Lock()
	defer l.mu.Unlock()
	var list []held
	for k, b := range l.keys {
		if b.dropped > 0 {
			list = append(list, held{k, b.dropped})
			b.dropped = 0
			continue
		}
		if burst, rate := l.budget(k.level); b.tokens+now.Sub(b.last).Seconds()*rate >= burst {
			delete(l.keys, k)
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].k.level != list[j].k.level {
			return list[i].k.level < list[j].k.level
		}
		return list[i].k.msg < list[j].k.msg
	})
	return list
}
