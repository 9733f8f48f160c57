package pebble

import (
	"log/slog"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/storage/storetest"
)

// testLogger logs to the test log at Warn and above.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// openStore opens a store in dir, closed when the test ends.
func openStore(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestPebbleConformanceSync(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dir string) broker.Store { return openStore(t, dir, Options{}) })
}

func TestPebbleConformanceAsync(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dir string) broker.Store {
		return openStore(t, dir, Options{Durability: Async})
	})
}

// pollStats waits until cond holds for the store's stats.
func pollStats(t *testing.T, s *Store, cond func(Stats) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // a failure bound
	for !cond(s.Stats()) {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v: condition not met in time", s.Stats())
		}
		time.Sleep(time.Millisecond)
	}
}
