// Package server is Herald's composition root: it builds every component
// from the configuration and owns the order in which they start and stop.
// It is the only package that imports concrete backends.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"

	"github.com/herald-mqtt/herald/internal/auth"
	"github.com/herald-mqtt/herald/internal/banned"
	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/listener"
	"github.com/herald-mqtt/herald/internal/metastore"
	"github.com/herald-mqtt/herald/internal/service"
	"github.com/herald-mqtt/herald/internal/storage/pebble"
)

// Server is one Herald node.
type Server struct {
	cfg    config.Config
	base   config.Config // as given to New, before the API overrides
	log    *slog.Logger
	level  *slog.LevelVar // set from log.level when not nil
	meta   *metastore.Store
	broker *broker.Broker
	store  broker.Store
	ready  chan struct{}

	lnMu      sync.Mutex               // guards the listener set (listeners.go)
	lns       map[string]*liveListener // running, by id
	retired   []*listener.Listener     // closed, connections not all ended
	lnStopped map[string]bool          // stopped through the API
	lnClosed  bool                     // Shutdown took them

	svc   *service.Service
	bans  *banned.List
	apis  []*apiListener // the HTTP API's listeners (http.go)
	cfgMu sync.Mutex     // guards cfg against concurrent management updates

	mu      sync.Mutex
	started bool
	stopped bool
}

// New validates the configuration and builds the node. It does no I/O.
func New(cfg config.Config, logger *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, base: cfg.Clone(), log: logger, ready: make(chan struct{}), lnStopped: map[string]bool{}}, nil
}

// SetLogLevel gives the server the level of its logger, so that log.level
// changes (from the API overrides at Start, or at run time) take effect at
// once. Call it before Start.
func (s *Server) SetLogLevel(v *slog.LevelVar) { s.level = v }

// applyLogLevel sets the logger's level from cfg.
func (s *Server) applyLogLevel(cfg *config.Config) {
	if s.level != nil {
		s.level.Set(LogLevel(cfg.Log.Level))
	}
}

// LogLevel maps log.level to a slog level.
func LogLevel(level string) slog.Level {
	switch level {
	case "debug":
		return slog.LevelDebug
	case "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Start opens the store, restores the broker's state and starts the
// listeners. It does not block. On failure it rolls back what it started.
func (s *Server) Start() (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("server: already started")
	}
	s.started = true
	defer func() {
		if err != nil {
			s.rollback()
		}
	}()
	if err := s.loadOverrides(); err != nil {
		return err
	}
	s.applyLogLevel(&s.cfg)
	if err := s.openStore(); err != nil {
		return err
	}
	if err := s.buildBroker(); err != nil {
		return err
	}
	if err := s.openBanned(); err != nil {
		return err
	}
	if err := s.broker.Start(); err != nil {
		return err
	}
	if err := s.startListeners(); err != nil {
		return err
	}
	node := s.cfg.Node
	durability := s.cfg.Durability
	if err := s.startManagement(); err != nil {
		return err
	}
	close(s.ready)
	s.log.Info("herald started", "node", node.Name, "durability", durability, "data_dir", node.DataDir)
	return nil
}

// Ready is closed once Start has succeeded.
func (s *Server) Ready() <-chan struct{} { return s.ready }

func (s *Server) openStore() error {
	var d pebble.Durability
	switch s.cfg.Durability {
	case "off":
		return nil
	case "async":
		d = pebble.Async
	default:
		d = pebble.Sync
	}
	dir := filepath.Join(s.cfg.Node.DataDir, "store")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("server: data dir: %w", err)
	}
	st, err := pebble.Open(dir, pebble.Options{Durability: d, Logger: s.log.With("component", "store")})
	if err != nil {
		return fmt.Errorf("server: open store in %s: %w", dir, err)
	}
	s.store = st
	return nil
}

func (s *Server) buildBroker() error {
	users, acl, err := buildAuth(&s.cfg, s.log)
	if err != nil {
		return err
	}
	opts := broker.Options{Store: s.store, Logger: s.log}
	if users != nil {
		opts.Authenticator = users
	}
	if acl != nil {
		opts.Authorizer = acl
	}
	b, err := broker.New(brokerConfig(&s.cfg), opts)
	if err != nil {
		return err
	}
	s.broker = b
	return nil
}

// buildAuth returns the authenticator and authorizer the configuration asks
// for; nil means allow everything.
func buildAuth(cfg *config.Config, log *slog.Logger) (*auth.Users, *auth.ACL, error) {
	var users *auth.Users
	a := cfg.Authentication
	if !a.AllowAnonymous || len(a.Users) > 0 {
		uc := auth.UsersConfig{AllowAnonymous: a.AllowAnonymous, Logger: log}
		for _, u := range a.Users {
			uc.Users = append(uc.Users, auth.User{Username: u.Username, PasswordHash: u.PasswordHash,
				Algorithm: u.Algorithm, Salt: u.Salt, SaltPosition: u.SaltPosition, IsSuperuser: u.IsSuperuser})
		}
		var err error
		if users, err = auth.NewUsers(uc); err != nil {
			return nil, nil, fmt.Errorf("authentication: %w", err)
		}
	}
	var acl *auth.ACL
	z := cfg.Authorization
	if len(z.Rules) > 0 || z.NoMatch == "deny" {
		ac := auth.ACLConfig{NoMatch: z.NoMatch, Logger: log}
		for _, r := range z.Rules {
			ac.Rules = append(ac.Rules, auth.Rule{Permission: r.Permission, Who: r.Who, Action: r.Action, Topics: r.Topics})
		}
		var err error
		if acl, err = auth.NewACL(ac); err != nil {
			return nil, nil, fmt.Errorf("authorization: %w", err)
		}
	}
	return users, acl, nil
}

// handle hands a listener's connection to the broker.
func (s *Server) handle(nc net.Conn, m listener.ConnMeta) {
	s.broker.ServeConn(nc, brokerMeta(m))
}

// adopt hands a listener's plain TCP connection to the broker.
func (s *Server) adopt(nc *net.TCPConn, m listener.ConnMeta, release func()) {
	s.broker.AdoptConn(nc, brokerMeta(m), release)
}

func brokerMeta(m listener.ConnMeta) broker.ConnMeta {
	return broker.ConnMeta{Listener: m.Listener, RemoteAddr: m.RemoteAddr, LocalAddr: m.LocalAddr, TLS: m.TLS}
}

// rollback undoes a failed Start. Lock held.
func (s *Server) rollback() {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	_ = s.stop(ctx)
}

// Shutdown stops the node, in this order: stop accepting connections; shut
// the broker down (clients get DISCONNECT 0x8B and are closed, persistent
// sessions stay stored); wait for the listeners' handlers; close the store,
// which flushes and fsyncs. Idempotent.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stop(ctx)
}

func (s *Server) stop(ctx context.Context) error {
	if s.stopped {
		return nil
	}
	s.stopped = true
	errs := []error{s.stopManagement(ctx)}
	lns := s.closeListeners()
	if s.broker != nil {
		errs = append(errs, s.broker.Shutdown(ctx))
	}
	errs = append(errs, waitListeners(ctx, lns))
	if s.store != nil {
		errs = append(errs, s.store.Close())
	}
	s.log.Info("herald stopped", "node", s.base.Node.Name)
	return errors.Join(errs...)
}

// Broker returns the broker core (for the management layer and tests).
func (s *Server) Broker() *broker.Broker { return s.broker }

// ListenerAddr returns the bound address of a listener ("tcp:default").
func (s *Server) ListenerAddr(id string) net.Addr {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if ll := s.lns[id]; ll != nil {
		return ll.ln.Addr()
	}
	return nil
}

var _ io.Closer = (*pebble.Store)(nil)
