package server

import (
	"context"

	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/service"
)

// The Server is the management service's Controller: it owns the
// configuration in force and the listeners.
var _ service.Controller = (*Server)(nil)

// Config returns the configuration in use.
func (s *Server) Config() config.Config {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	return s.cfg
}

// UpdateConfig applies, validates, persists. (Not implemented yet.)
func (s *Server) UpdateConfig(ctx context.Context, change func(*config.Config) error) (config.Config, error) {
	return config.Config{}, service.Errorf(service.ErrNotSupported, "", "config updates are not implemented yet")
}

// Listeners reports the configured listeners. (Not implemented yet.)
func (s *Server) Listeners() []service.ListenerState { return nil }

// ListenerAction starts, stops or restarts a listener. (Not implemented yet.)
func (s *Server) ListenerAction(ctx context.Context, id string, action service.ListenerAction) error {
	return service.Errorf(service.ErrNotSupported, "", "listener actions are not implemented yet")
}
