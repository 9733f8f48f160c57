package server_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/server"
	"github.com/herald-mqtt/herald/internal/service"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// Listener changes racing Shutdown: no panic, no race, every listener
// closed, Shutdown returns.
func TestListenerActionsRaceShutdown(t *testing.T) {
	s := testutil.RunServer(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				_ = s.ListenerAction(ctx, "tcp:default", service.ListenerRestart)
				_, _ = s.UpdateConfig(ctx, func(c *config.Config) error {
					return config.Set(c, "listeners.ws.default.max_connections", string(rune('1'+i)))
				})
				_ = s.Listeners()
			}
		}()
	}
	s.Stop(t)
	wg.Wait()
	if a := s.ListenerAddr("tcp:default"); a != nil {
		t.Fatalf("a listener is still running at %v", a)
	}
	if err := s.ListenerAction(ctx, "tcp:default", service.ListenerStart); err == nil {
		t.Fatal("start after shutdown succeeded")
	}
}

// log.level changes take effect at once on the node's logger level.
func TestUpdateConfigLogLevel(t *testing.T) {
	cfg := testutil.TestConfig(t.TempDir())
	srv, err := server.New(cfg, testutil.Logger())
	if err != nil {
		t.Fatal(err)
	}
	level := new(slog.LevelVar)
	srv.SetLogLevel(level)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Shutdown(context.Background()) }()
	if level.Level() != slog.LevelInfo {
		t.Fatalf("level %v at start", level.Level())
	}
	if _, err := srv.UpdateConfig(context.Background(), func(c *config.Config) error {
		return config.Set(c, "log.level", "debug")
	}); err != nil {
		t.Fatal(err)
	}
	if level.Level() != slog.LevelDebug {
		t.Fatalf("level %v after log.level = debug", level.Level())
	}
	_, err = srv.UpdateConfig(context.Background(), func(c *config.Config) error {
		return config.Set(c, "log.format", "json")
	})
	if !errors.Is(err, service.ErrBadRequest) {
		t.Fatalf("log.format change: %v, want a bad request", err)
	}
}
