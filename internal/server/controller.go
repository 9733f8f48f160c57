package server

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/service"
)

// The Server is the management service's Controller: it owns the
// configuration in force and the listeners.
var _ service.Controller = (*Server)(nil)

// Config returns the configuration in use (a deep copy).
func (s *Server) Config() config.Config {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	return s.cfg.Clone()
}

// checkHot refuses a change of a key that cannot change at run time.
func checkHot(old, cfg *config.Config) error {
	of, nf := old.Flatten(), cfg.Flatten()
	for k, v := range nf {
		if reflect.DeepEqual(of[k], v) {
			continue
		}
		if config.ColdKey(k) {
			return service.Errorf(service.ErrBadRequest, "UPDATE_FAILED",
				"%s cannot be changed at run time: set it in the configuration file and restart", k)
		}
	}
	return nil
}

// UpdateConfig runs change on a deep copy of the configuration, validates
// it and applies it to the running node: listeners are started, stopped or
// restarted as their configuration says, the broker takes its new limits,
// the log level changes, and the change is persisted (see overrides). A
// change that fails anywhere changes nothing: what was applied is rolled
// back and the error wraps service.ErrBadRequest.
func (s *Server) UpdateConfig(ctx context.Context, change func(*config.Config) error) (config.Config, error) {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	cfg := s.cfg.Clone()
	if err := change(&cfg); err != nil {
		return config.Config{}, badRequest("", err)
	}
	if err := cfg.Validate(); err != nil {
		return config.Config{}, badRequest("", err)
	}
	if err := checkHot(&s.cfg, &cfg); err != nil {
		return config.Config{}, err
	}
	if err := s.applyLocked(&cfg, func() { s.unstopChangedLocked(&cfg) }); err != nil {
		return config.Config{}, err
	}
	s.cfg = cfg
	s.log.Info("configuration updated through the management API")
	return cfg.Clone(), nil
}

// applyLocked makes cfg the running configuration: listeners, broker,
// persistence, log level, in that order, undoing the earlier steps when a
// later one fails. prep, if set, runs first under the listener lock (to
// change the stopped set). cfgMu held.
func (s *Server) applyLocked(cfg *config.Config, prep func()) error {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	saved := cloneSet(s.lnStopped)
	if prep != nil {
		prep()
	}
	undo, err := s.reconcileLocked(cfg)
	if err != nil {
		s.lnStopped = saved
		return badRequest("UPDATE_FAILED", err)
	}
	rollback := func() { undo(); s.lnStopped = saved }
	if err := s.broker.UpdateConfig(brokerConfig(cfg)); err != nil {
		rollback()
		return badRequest("UPDATE_FAILED", err)
	}
	if err := s.saveOverrides(*cfg); err != nil {
		_ = s.broker.UpdateConfig(brokerConfig(&s.cfg))
		rollback()
		return fmt.Errorf("update config: %w", err)
	}
	s.applyLogLevel(cfg)
	return nil
}

// badRequest wraps err as a service bad request (unless it already is a
// service error).
func badRequest(code string, err error) error {
	var se *service.Error
	if errors.As(err, &se) {
		return err
	}
	return &service.Error{Kind: service.ErrBadRequest, Code: code, Msg: err.Error()}
}

// unstopChangedLocked forgets the API stop of listeners whose
// configuration changes or that go away: a changed listener runs as its
// new configuration says. cfgMu and lnMu held.
func (s *Server) unstopChangedLocked(cfg *config.Config) {
	for id := range s.lnStopped {
		typ, name, _ := strings.Cut(id, ":")
		old, _ := s.cfg.Listener(typ, name)
		nl, ok := cfg.Listener(typ, name)
		if !ok || nl.Listener != old.Listener {
			delete(s.lnStopped, id)
		}
	}
}

func cloneSet(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Listeners reports every configured listener, enabled or not, with its
// live state.
func (s *Server) Listeners() []service.ListenerState {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	all := s.cfg.AllListeners()
	out := make([]service.ListenerState, 0, len(all))
	for _, nl := range all {
		st := service.ListenerState{ID: nl.ID(), Type: nl.Type, Name: nl.Name, Bind: nl.Bind,
			CurrentConnections: s.connectionsLocked(nl.ID())}
		if ll := s.lns[nl.ID()]; ll != nil {
			st.Running = true
			if a := ll.ln.Addr(); a != nil {
				st.Addr = a.String()
			}
		}
		out = append(out, st)
	}
	return out
}

// ListenerAction starts, stops or restarts one configured listener without
// touching the others or the configuration (as EMQX, the state is not
// persisted: a node restart starts every enabled listener). Stop closes the
// listening socket; the connections it accepted stay. Start of a disabled
// listener, or on an address in use, is a bad request.
func (s *Server) ListenerAction(ctx context.Context, id string, action service.ListenerAction) error {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	typ, name, _ := strings.Cut(id, ":")
	nl, ok := s.cfg.Listener(typ, name)
	if !ok {
		return service.Errorf(service.ErrNotFound, "BAD_LISTENER_ID", "listener %s not found", id)
	}
	if action != service.ListenerStop && !nl.IsActive() {
		return service.Errorf(service.ErrBadRequest, "BAD_REQUEST",
			"listener %s is disabled or has no bind (or certificate): enable it with PUT /listeners/%s", id, id)
	}
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.lnClosed {
		return errListenersClosed
	}
	switch action {
	case service.ListenerStop:
		s.lnStopped[id] = true
		s.retireLocked(id)
		return nil
	case service.ListenerRestart:
		s.retireLocked(id)
	case service.ListenerStart:
		if s.lns[id] != nil {
			return nil
		}
	default:
		return service.Errorf(service.ErrBadRequest, "BAD_REQUEST", "unknown action %q", action)
	}
	delete(s.lnStopped, id)
	ll, err := s.startListener(nl, "")
	if err != nil {
		return badRequest("BAD_REQUEST", err)
	}
	s.lns[id] = ll
	return nil
}
