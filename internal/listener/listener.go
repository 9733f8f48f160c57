package listener

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Accept error backoff bounds (as net/http's Server).
const (
	minAcceptBackoff = 5 * time.Millisecond
	maxAcceptBackoff = time.Second
)

// Handler serves one connection. It runs on its own goroutine, owns conn
// and returns when done with it; the listener closes conn after it returns.
type Handler func(conn net.Conn, meta ConnMeta)

// Stats is a snapshot of a listener's counters.
type Stats struct {
	Current         int64  // connections open now (from accept until closed or the handler returned)
	Accepted        uint64 // TCP connections accepted, rejected ones included
	Rejected        uint64 // closed at once because MaxConnections was reached
	RateLimited     uint64 // times accepting paused for MaxConnRate
	ProxyErrors     uint64 // PROXY header missing, malformed or late
	HandshakeErrors uint64 // TLS handshakes failed or timed out
	UpgradeErrors   uint64 // WebSocket upgrades refused (wrong path, subprotocol, bad request)
}

type counters struct {
	accepted, rejected, rateLimited, proxyErrs, handshakeErrs, upgradeErrs atomic.Uint64
}

// Listener accepts connections of one transport and hands each to a Handler.
type Listener struct {
	cfg     Config
	handler Handler
	log     *slog.Logger
	tls     *tls.Config
	limiter *rate.Limiter
	ws      *wsServer
	stats   counters

	mu       sync.Mutex
	ln       net.Listener
	closed   bool
	running  int64
	pending  map[net.Conn]struct{} // in the PROXY/TLS stage, closed by Close
	drained  chan struct{}         // closed once closed && running == 0
	done     chan struct{}         // closed by Close
	loopDone chan struct{}         // closed when the accept loop exits
}

// New validates cfg and loads its certificate files. It does no other I/O.
func New(cfg Config, h Handler) (*Listener, error) {
	if h == nil {
		return nil, invalid("nil handler")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	l := &Listener{cfg: cfg, handler: h, log: cfg.Logger, pending: map[net.Conn]struct{}{},
		drained: make(chan struct{}), done: make(chan struct{}), loopDone: make(chan struct{})}
	if cfg.Type.usesTLS() {
		if l.tls, err = buildTLS(cfg.TLS); err != nil {
			return nil, err
		}
	}
	if cfg.MaxConnRate > 0 {
		l.limiter = rate.NewLimiter(rate.Limit(cfg.MaxConnRate), cfg.ConnBurst)
	}
	if cfg.Type.isWS() {
		l.ws = newWSServer(l)
	}
	return l, nil
}

// ID returns the listener's id (Config.ID).
func (l *Listener) ID() string { return l.cfg.ID }

// Start binds the address and starts accepting on a new goroutine.
// It fails if the address is taken, or with ErrStarted or ErrClosed.
func (l *Listener) Start() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return ErrClosed
	case l.ln != nil:
		return ErrStarted
	}
	// No TCP keep-alive on accepted connections (as EMQX's default
	// tcp_options.keepalive = none): MQTT's keep alive detects dead peers,
	// and it saves syscalls on every accept.
	lc := net.ListenConfig{KeepAlive: -1}
	ln, err := lc.Listen(context.Background(), "tcp", l.cfg.Bind)
	if err != nil {
		return fmt.Errorf("listener %s: %w", l.cfg.ID, err)
	}
	l.ln = ln
	if l.ws != nil {
		l.ws.start(ln.Addr())
	}
	go l.acceptLoop(ln)
	l.log.Info("listener started", slog.String("addr", ln.Addr().String()))
	return nil
}

// Addr returns the bound address, or nil before Start.
func (l *Listener) Addr() net.Addr {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln == nil {
		return nil
	}
	return l.ln.Addr()
}

// Close stops accepting and returns once the accept loop has exited. It
// closes connections still in their PROXY, TLS or HTTP upgrade stage but
// not those handed to the Handler. It is idempotent.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	ln := l.ln
	for c := range l.pending {
		_ = c.Close()
	}
	l.checkDrainedLocked()
	l.mu.Unlock()
	close(l.done)
	if ln == nil {
		return nil
	}
	err := ln.Close()
	<-l.loopDone
	if l.ws != nil {
		l.ws.close()
	}
	l.log.Info("listener closed")
	return closeErr(err)
}

func closeErr(err error) error {
	if err == nil || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return fmt.Errorf("listener close: %w", err)
}

// Wait blocks until the listener is closed and every connection it
// accepted has been released (handlers returned), or ctx is done.
func (l *Listener) Wait(ctx context.Context) error {
	select {
	case <-l.drained:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("listener wait: %w", ctx.Err())
	}
}

// Stats returns a snapshot of the counters.
func (l *Listener) Stats() Stats {
	l.mu.Lock()
	cur := l.running
	l.mu.Unlock()
	s := &l.stats
	return Stats{Current: cur, Accepted: s.accepted.Load(), Rejected: s.rejected.Load(),
		RateLimited: s.rateLimited.Load(), ProxyErrors: s.proxyErrs.Load(),
		HandshakeErrors: s.handshakeErrs.Load(), UpgradeErrors: s.upgradeErrs.Load()}
}

// acquire counts a new connection unless MaxConnections is reached.
func (l *Listener) acquire() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cfg.MaxConnections > 0 && l.running >= int64(l.cfg.MaxConnections) {
		return false
	}
	l.running++
	return true
}

// release uncounts a connection acquired earlier.
func (l *Listener) release() {
	l.mu.Lock()
	l.running--
	l.checkDrainedLocked()
	l.mu.Unlock()
}

func (l *Listener) checkDrainedLocked() {
	if l.closed && l.running == 0 {
		select {
		case <-l.drained:
		default:
			close(l.drained)
		}
	}
}

// addPending registers a connection in a pre-handler stage; false if closed.
func (l *Listener) addPending(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.pending[c] = struct{}{}
	return true
}

// promote ends a connection's pre-handler stage; false if Close came first.
func (l *Listener) promote(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.pending, c)
	return !l.closed
}
