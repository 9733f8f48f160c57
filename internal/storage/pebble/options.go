package pebble

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Durability says when Commit(..., durable=true) calls done.
type Durability int

const (
	// Sync calls done for a durable commit only once the WAL holding it has
	// been fsynced. Concurrent commits share one fsync (group commit).
	Sync Durability = iota
	// Async calls done as soon as a commit is applied; the WAL is fsynced
	// every SyncInterval and on Close, so a crash may lose the last
	// SyncInterval of acknowledged commits.
	Async
)

// DefaultSyncInterval is the background fsync period when Options leaves it
// zero: the most a crash loses in Async mode.
const DefaultSyncInterval = 100 * time.Millisecond

// Options configures Open.
type Options struct {
	Durability   Durability
	SyncInterval time.Duration // background fsync period; DefaultSyncInterval if zero
	Logger       *slog.Logger  // nil discards
}

func (o Options) withDefaults() (Options, error) {
	if o.Durability != Sync && o.Durability != Async {
		return o, fmt.Errorf("pebble store: unknown durability %d", o.Durability)
	}
	if o.SyncInterval < 0 {
		return o, fmt.Errorf("pebble store: negative sync interval %v", o.SyncInterval)
	}
	if o.SyncInterval == 0 {
		o.SyncInterval = DefaultSyncInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// pebbleLogger routes Pebble's own logging to slog.
type pebbleLogger struct{ log *slog.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	l.log.Debug("pebble: " + fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.Error("pebble: " + fmt.Sprintf(format, args...))
}

// Fatalf is called by Pebble when it cannot go on (for instance a failed WAL
// write): the store can no longer keep its promises, so it panics after
// logging, like Pebble's default logger exits.
func (l pebbleLogger) Fatalf(format string, args ...any) {
	msg := "pebble: " + fmt.Sprintf(format, args...)
	l.log.Log(context.Background(), slog.LevelError, msg, "fatal", true)
	panic(msg)
}
