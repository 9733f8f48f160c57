package server_test

import (
	"context"
	"sync"
	"testing"

	"github.com/herald-mqtt/herald/internal/config"
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
