package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/listener"
	"github.com/herald-mqtt/herald/internal/service"
)

// The listener set. Running listeners are kept by id with the
// configuration they were started with; a listener stopped at run time
// (through the API, a changed or removed configuration, or a restart) is
// closed at once, which stops accepting and leaves its connections
// running until they end, and it moves to retired so that Shutdown still
// waits for those connections. s.lnMu guards it; the lock order is
// s.cfgMu, then s.lnMu.

// liveListener is one running listener.
type liveListener struct {
	ln   *listener.Listener
	conf config.NamedListener
}

// errListenersClosed refuses listener changes once Shutdown has begun.
var errListenersClosed = service.Errorf(service.ErrUnavailable, "", "the node is shutting down")

// startListener builds and starts one listener on bind ("" = its
// configured bind).
func (s *Server) startListener(nl config.NamedListener, bind string) (*liveListener, error) {
	lc := listenerConfig(nl, s.log)
	if bind != "" {
		lc.Bind = bind
	}
	lc.Adopt = s.adopt
	ln, err := listener.New(lc, s.handle)
	if err != nil {
		return nil, fmt.Errorf("listener %s: %w", lc.ID, err)
	}
	if err := ln.Start(); err != nil {
		return nil, fmt.Errorf("listener %s: %w", lc.ID, err)
	}
	return &liveListener{ln: ln, conf: nl}, nil
}

// startListeners starts every active listener of s.cfg (at Start).
func (s *Server) startListeners() error {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	s.lns = map[string]*liveListener{}
	for _, nl := range s.cfg.ActiveListeners() {
		ll, err := s.startListener(nl, "")
		if err != nil {
			return err
		}
		s.lns[nl.ID()] = ll
	}
	return nil
}

// retireLocked closes a running listener and keeps it until its
// connections end. lnMu held.
func (s *Server) retireLocked(id string) *liveListener {
	ll := s.lns[id]
	if ll == nil {
		return nil
	}
	delete(s.lns, id)
	if err := ll.ln.Close(); err != nil {
		s.log.Warn("listener close", "listener", id, "err", err)
	}
	s.retired = append(s.retired, ll.ln)
	s.pruneRetiredLocked()
	return ll
}

// pruneRetiredLocked forgets retired listeners whose connections have all
// ended.
func (s *Server) pruneRetiredLocked() {
	kept := s.retired[:0]
	for _, ln := range s.retired {
		if ln.Stats().Current > 0 {
			kept = append(kept, ln)
		}
	}
	clear(s.retired[len(kept):])
	s.retired = kept
}

// wanted reports whether a configured listener should run: active and
// not stopped through the API.
func (s *Server) wanted(nl config.NamedListener) bool {
	return nl.IsActive() && !s.lnStopped[nl.ID()]
}

// reconcileLocked makes the running listeners match cfg: it stops those
// no longer wanted or whose configuration changed, then starts the wanted
// ones not running. On failure it puts everything back as it was and
// returns the error. On success it returns undo, which does the same
// later (when a later step of the update fails). lnMu held.
func (s *Server) reconcileLocked(cfg *config.Config) (undo func(), err error) {
	if s.lnClosed {
		return nil, errListenersClosed
	}
	want := map[string]config.NamedListener{}
	for _, nl := range cfg.AllListeners() {
		if s.wanted(nl) {
			want[nl.ID()] = nl
		}
	}
	var stopped []*liveListener
	var started []string
	for id, ll := range s.lns {
		if nl, ok := want[id]; !ok || nl.Listener != ll.conf.Listener {
			stopped = append(stopped, s.retireLocked(id))
		}
	}
	undo = func() { s.undoLocked(started, stopped) }
	for _, nl := range cfg.AllListeners() {
		id := nl.ID()
		if _, ok := want[id]; !ok || s.lns[id] != nil {
			continue
		}
		ll, err := s.startListener(nl, "")
		if err != nil {
			undo()
			return nil, err
		}
		s.lns[id] = ll
		started = append(started, id)
	}
	return undo, nil
}

// undoLocked stops the listeners started by a reconcile and starts again
// those it stopped, on the address they had. lnMu held.
func (s *Server) undoLocked(started []string, stopped []*liveListener) {
	for _, id := range started {
		s.retireLocked(id)
	}
	for _, old := range stopped {
		bind := ""
		if a := old.ln.Addr(); a != nil {
			bind = a.String()
		}
		ll, err := s.startListener(old.conf, bind)
		if err != nil {
			s.log.Error("listener rollback failed", "listener", old.conf.ID(), "err", err)
			continue
		}
		s.lns[old.conf.ID()] = ll
	}
}

// closeListeners closes every running listener (once) and returns them
// with the retired ones, for Shutdown to wait on. No listener starts
// after it.
func (s *Server) closeListeners() []*listener.Listener {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	s.lnClosed = true
	all := s.retired
	s.retired = nil
	for id, ll := range s.lns {
		if err := ll.ln.Close(); err != nil {
			s.log.Warn("listener close", "listener", id, "err", err)
		}
		all = append(all, ll.ln)
	}
	s.lns = nil
	return all
}

// waitListeners waits for the connections of every listener in lns.
func waitListeners(ctx context.Context, lns []*listener.Listener) error {
	var errs []error
	for _, ln := range lns {
		errs = append(errs, ln.Wait(ctx))
	}
	return errors.Join(errs...)
}

// connections counts the connections open on a listener id, those
// accepted before it was last stopped included.
func (s *Server) connectionsLocked(id string) int {
	n := int64(0)
	if ll := s.lns[id]; ll != nil {
		n += ll.ln.Stats().Current
	}
	for _, ln := range s.retired {
		if ln.ID() == id {
			n += ln.Stats().Current
		}
	}
	return int(n)
}
