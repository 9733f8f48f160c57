// Package testutil is the test harness that ships with Herald: it runs real
// nodes on loopback ports with their data in a temp dir, connects real MQTT
// clients (eclipse/paho.golang for v5, eclipse/paho.mqtt.golang for 3.1.1),
// and polls for conditions instead of sleeping.
package testutil

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/server"
	"github.com/herald-mqtt/herald/pkg/client"
)

// Server is a running node.
type Server struct {
	*server.Server
	Config config.Config
	log    *slog.Logger // kept for Restart
}

// TestConfig is the configuration RunServer starts from: every default
// listener on 127.0.0.1 port 0 (ssl/wss stay off until a certificate is
// set), data under dir, $SYS off, durability sync.
func TestConfig(dir string) config.Config {
	cfg := config.Default()
	cfg.Node.DataDir = dir
	cfg.SysTopics.SysMsgInterval, cfg.SysTopics.SysHeartbeatInterval = 0, 0
	cfg.Dashboard.Listeners.HTTP.Bind = "127.0.0.1:0"
	for _, m := range []map[string]config.Listener{cfg.Listeners.TCP, cfg.Listeners.WS} {
		for name, l := range m {
			l.Bind = "127.0.0.1:0"
			m[name] = l
		}
	}
	for _, m := range []map[string]config.Listener{cfg.Listeners.SSL, cfg.Listeners.WSS} {
		for name, l := range m {
			l.Bind = "127.0.0.1:0"
			m[name] = l
		}
	}
	return cfg
}

// RunServer starts a node built from TestConfig(t.TempDir()) after the
// mutators have run, and shuts it down in t.Cleanup.
func RunServer(t testing.TB, mutate ...func(*config.Config)) *Server {
	t.Helper()
	cfg := TestConfig(t.TempDir())
	for _, m := range mutate {
		m(&cfg)
	}
	return Start(t, cfg)
}

// Start runs a node with exactly cfg and stops it in t.Cleanup.
func Start(t testing.TB, cfg config.Config) *Server {
	t.Helper()
	return StartWithLogger(t, cfg, Logger())
}

// StartWithLogger is Start with the node logging to log.
func StartWithLogger(t testing.TB, cfg config.Config, log *slog.Logger) *Server {
	t.Helper()
	srv, err := server.New(cfg, log)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	if err := srv.Start(); err != nil {
		t.Fatalf("server.Start: %v", err)
	}
	s := &Server{Server: srv, Config: cfg, log: log}
	t.Cleanup(func() { s.Stop(t) })
	return s
}

// Stop shuts the node down (idempotent).
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// Restart stops the node and starts a new one on the same data dir and
// configuration and logger (listeners get new ports).
func (s *Server) Restart(t testing.TB) *Server {
	t.Helper()
	s.Stop(t)
	return StartWithLogger(t, s.Config, s.log)
}

// Addr returns host:port of a listener ("tcp:default", "ws:default").
func (s *Server) Addr(id string) string {
	a := s.ListenerAddr(id)
	if a == nil {
		panic(fmt.Sprintf("testutil: no listener %q", id))
	}
	return a.String()
}

// APIURL returns the base URL of the HTTP API ("http://127.0.0.1:port").
func (s *Server) APIURL() string {
	a := s.APIAddr()
	if a == nil {
		panic("testutil: the HTTP API is off")
	}
	return "http://" + a.String()
}

// API returns a management API client logged in as the bootstrap
// administrator.
func (s *Server) API(t testing.TB) *client.Client {
	t.Helper()
	c := client.New(s.APIURL())
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if _, err := c.Login(ctx, s.Config.Dashboard.DefaultUsername, s.Config.Dashboard.DefaultPassword); err != nil {
		t.Fatalf("api login: %v", err)
	}
	return c
}

// TCP returns the address of the default TCP listener.
func (s *Server) TCP() string { return s.Addr("tcp:default") }

// Logger returns a logger for test nodes: silent unless HERALD_TEST_LOG is set.
func Logger() *slog.Logger {
	if os.Getenv("HERALD_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Eventually polls cond every 10ms until it returns nil, failing the test
// with cond's last error after total.
func Eventually(t testing.TB, total time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v: %v", total, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitGauge waits (up to Timeout) until the broker gauge g reads want.
func WaitGauge(t testing.TB, name string, g *broker.Gauge, want int64) {
	t.Helper()
	Eventually(t, Timeout, func() error {
		if n := g.Value(); n != want {
			return fmt.Errorf("%s = %d, want %d", name, n, want)
		}
		return nil
	})
}

// Metric returns the broker counter with an EMQX name
// ("delivery.dropped.qos0_msg"), failing for an unknown name.
func (s *Server) Metric(t testing.TB, name string) uint64 {
	t.Helper()
	v, ok := s.Broker().Metrics().Snapshot()[name]
	if !ok {
		t.Fatalf("no metric %q", name)
	}
	return v
}

// InTime reports whether less than d has passed since start. A check that
// holds only until a server timer of d, started no earlier than start,
// fires (a session not yet expired, a ban not yet lifted) is made only when
// InTime says so after the round trip that observed it; on a machine so
// busy that the round trip took d or more the check is inconclusive, which
// is logged, not failed.
func InTime(t testing.TB, start time.Time, d time.Duration, what string) bool {
	t.Helper()
	if el := time.Since(start); el >= d {
		t.Logf("%s: not checked, the round trip took %v of a %v window (busy machine)", what, el.Round(time.Millisecond), d)
		return false
	}
	return true
}
