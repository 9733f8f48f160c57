package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	v5 "github.com/herald-mqtt/herald/internal/api/v5"
	"github.com/herald-mqtt/herald/internal/service"
)

// startManagement builds the management service and serves the HTTP API on
// dashboard.listeners.http.bind ("" = no HTTP API).
func (s *Server) startManagement() error {
	svc, err := service.New(service.Options{Broker: s.broker, Controller: s, DataDir: s.cfg.Node.DataDir, Logger: s.log,
		Banned: s.bans})
	if err != nil {
		return err
	}
	if err := svc.Start(); err != nil {
		return err
	}
	s.svc = svc
	bind := s.cfg.Dashboard.Listeners.HTTP.Bind
	if bind == "" {
		return nil
	}
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return fmt.Errorf("dashboard.listeners.http.bind %s: %w", bind, err)
	}
	api := v5.New(v5.Options{Service: svc, Logger: s.log})
	s.http = &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: nil}
	s.httpLn = ln
	s.httpDone = make(chan struct{})
	go func() {
		defer close(s.httpDone)
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http api stopped", "err", err)
		}
	}()
	s.log.Info("http api listening", "addr", ln.Addr().String())
	return nil
}

// stopManagement stops the HTTP API and the service.
func (s *Server) stopManagement(ctx context.Context) error {
	var errs []error
	if s.http != nil {
		errs = append(errs, s.http.Shutdown(ctx))
		<-s.httpDone
	}
	if s.svc != nil {
		errs = append(errs, s.svc.Close())
	}
	return errors.Join(errs...)
}

// APIAddr returns the bound address of the HTTP API, nil when off.
func (s *Server) APIAddr() net.Addr {
	if s.httpLn == nil {
		return nil
	}
	return s.httpLn.Addr()
}

// Service returns the management service (for tests).
func (s *Server) Service() *service.Service { return s.svc }
