package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"net"
	"net/http"
	"time"

	"github.com/herald-mqtt/herald/internal/api"
	v5 "github.com/herald-mqtt/herald/internal/api/v5"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/httplimit"
	"github.com/herald-mqtt/herald/internal/service"
)

// maxHeaderWait bounds the reading of a request's headers, within the
// listener's read_timeout.
const maxHeaderWait = 10 * time.Second

// apiShutdownGrace is how long requests in progress may take to finish at
// shutdown before their connections are closed: the broker's shutdown
// comes next and must not wait on a slow HTTP client.
const apiShutdownGrace = 5 * time.Second

// apiListener is one listener of the HTTP API (dashboard.listeners.http or
// .https) and the server on it.
type apiListener struct {
	name string // "http" or "https"
	srv  *http.Server
	ln   *httplimit.Listener
	done chan struct{} // closed when Serve has returned
}

// startManagement builds the management service and serves the HTTP API on
// dashboard.listeners.http.bind and dashboard.listeners.https.bind ("" =
// off). A failed start is undone by stop.
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
	// Every request body is bounded here too, whatever its handler reads.
	h := http.MaxBytesHandler(v5.New(v5.Options{Service: svc, Logger: s.log}).Handler(), api.MaxBodyBytes)
	ls := s.cfg.Dashboard.Listeners
	for _, l := range []struct {
		name string
		cfg  config.DashboardListener
	}{{"http", ls.HTTP}, {"https", ls.HTTPS}} {
		if l.cfg.Bind == "" {
			continue
		}
		a, err := s.startAPIListener(l.name, l.cfg, h)
		if err != nil {
			return err
		}
		s.apis = append(s.apis, a)
	}
	return nil
}

// startAPIListener binds one listener of the HTTP API and serves h on it.
func (s *Server) startAPIListener(name string, c config.DashboardListener, h http.Handler) (*apiListener, error) {
	key := "dashboard.listeners." + name
	var tlsCfg *tls.Config
	if name == "https" {
		cert, err := tls.LoadX509KeyPair(c.SSLOptions.CertFile, c.SSLOptions.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s.ssl_options: %w", key, err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
			NextProtos: []string{"http/1.1"}} // one request at a time per connection: the timeouts apply as configured
	}
	raw, err := net.Listen("tcp", c.Bind)
	if err != nil {
		return nil, fmt.Errorf("%s.bind %s: %w", key, c.Bind, err)
	}
	a := &apiListener{name: name, done: make(chan struct{})}
	a.ln = httplimit.New(raw, c.MaxConnections, c.SendTimeout, s.refusedLogger(name, c.MaxConnections))
	var ln net.Listener = a.ln
	if tlsCfg != nil {
		ln = tls.NewListener(a.ln, tlsCfg)
	}
	a.srv = &http.Server{Handler: h, ReadHeaderTimeout: min(maxHeaderWait, c.ReadTimeout), ReadTimeout: c.ReadTimeout,
		IdleTimeout: c.IdleTimeout, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	go func() {
		defer close(a.done)
		if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http api stopped", "listener", name, "err", err)
		}
	}()
	s.log.Info("http api listening", "listener", name, "addr", raw.Addr().String(), "max_connections", c.MaxConnections)
	return a, nil
}

// refusedLogger logs connections refused at max_connections: the first,
// the second, the fourth... (each power of two), with the running total.
func (s *Server) refusedLogger(name string, max int) func(uint64) {
	return func(total uint64) {
		if bits.OnesCount64(total) == 1 {
			s.log.Warn("http api connection refused: max_connections reached", "listener", name,
				"max_connections", max, "refused_total", total)
		}
	}
}

// stopManagement stops the HTTP API listeners and the service. Idle
// connections are closed at once; requests in progress may finish within
// apiShutdownGrace (and ctx), then every connection is closed. Nothing
// hijacks a connection, so none is left open.
func (s *Server) stopManagement(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, apiShutdownGrace)
	defer cancel()
	var errs []error
	for _, a := range s.apis {
		if err := a.srv.Shutdown(ctx); err != nil {
			s.log.Warn("http api: requests still in progress at shutdown, closing their connections", "listener", a.name)
			errs = append(errs, a.srv.Close())
		}
		<-a.done
	}
	if s.svc != nil {
		errs = append(errs, s.svc.Close())
	}
	return errors.Join(errs...)
}

// findAPI returns the HTTP API listener called name, nil when off.
func (s *Server) findAPI(name string) *apiListener {
	for _, a := range s.apis {
		if a.name == name {
			return a
		}
	}
	return nil
}

// APIAddr returns the bound address of the HTTP API, nil when off.
func (s *Server) APIAddr() net.Addr { return s.apiAddr("http") }

// APITLSAddr returns the bound address of the HTTPS API, nil when off.
func (s *Server) APITLSAddr() net.Addr { return s.apiAddr("https") }

func (s *Server) apiAddr(name string) net.Addr {
	if a := s.findAPI(name); a != nil {
		return a.ln.Addr()
	}
	return nil
}

// APIConnStats returns the connection counters of the HTTP API listener
// "http" or "https" (false when it is off).
func (s *Server) APIConnStats(name string) (httplimit.Stats, bool) {
	if a := s.findAPI(name); a != nil {
		return a.ln.Stats(), true
	}
	return httplimit.Stats{}, false
}

// Service returns the management service (for tests).
func (s *Server) Service() *service.Service { return s.svc }
