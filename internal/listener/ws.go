package listener

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

const wsMaxHeaderBytes = 64 << 10

// wsServer runs the HTTP upgrade of ws/wss listeners. The accept loop (after
// the PROXY and TLS stages) feeds connections to an http.Server through a
// connQueue; the upgrade handler then runs the Handler on the hijacked conn.
type wsServer struct {
	l      *Listener
	queue  *connQueue
	srv    *http.Server
	served chan struct{} // closed when srv.Serve returned
}

type connKey struct{}

func newWSServer(l *Listener) *wsServer {
	s := &wsServer{l: l, served: make(chan struct{})}
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: l.cfg.HandshakeTimeout,
		IdleTimeout:       l.cfg.HandshakeTimeout,
		MaxHeaderBytes:    wsMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(l.log.Handler(), slog.LevelDebug),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, c)
		},
	}
	return s
}

func (s *wsServer) start(addr net.Addr) {
	s.queue = newConnQueue(addr)
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(s.queue)
	}()
}

// close stops the HTTP server: connections not yet upgraded are closed,
// hijacked (upgraded) ones are left alone.
func (s *wsServer) close() {
	_ = s.srv.Close()
	<-s.served
}

// hand passes a connection to the HTTP server; it is released when closed.
func (s *wsServer) hand(c net.Conn, meta ConnMeta) {
	tc := &trackedConn{Conn: c, meta: meta, release: s.l.release}
	if !s.queue.push(tc) {
		_ = tc.Close()
	}
}

// ServeHTTP upgrades requests on WSPath and runs the Handler.
func (s *wsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tc, _ := r.Context().Value(connKey{}).(*trackedConn)
	if tc == nil || r.URL.Path != s.l.cfg.WSPath {
		s.refuse(w, r, http.StatusNotFound, "not found")
		return
	}
	proto, ok := pickSubprotocol(r.Header, s.l.cfg.WSSubprotocols, s.l.cfg.WSFailIfNoSubprotocol)
	if !ok {
		s.refuse(w, r, http.StatusBadRequest, "unsupported websocket subprotocol")
		return
	}
	opts := &websocket.AcceptOptions{InsecureSkipVerify: true} // no Origin check, as EMQX's default
	if proto != "" {
		opts.Subprotocols = []string{proto}
	}
	ws, err := websocket.Accept(w, r, opts)
	if err != nil {
		s.l.stats.upgradeErrs.Add(1)
		s.l.log.Debug("websocket upgrade failed", slog.String("peername", tc.meta.RemoteAddr.String()), slog.Any("err", err))
		return
	}
	s.run(tc, ws, proto)
}

func (s *wsServer) refuse(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.l.stats.upgradeErrs.Add(1)
	s.l.log.Debug("websocket upgrade refused", slog.String("path", r.URL.Path), slog.Int("status", code))
	w.Header().Set("Connection", "close") // no keep-alive for a refused client
	http.Error(w, msg, code)
}

func (s *wsServer) run(tc *trackedConn, ws *websocket.Conn, proto string) {
	_ = tc.SetDeadline(time.Time{}) // clear what http.Server may have set
	meta := tc.meta
	meta.Subprotocol = proto
	s.l.runHandler(newWSConn(ws, tc, meta), meta)
}

// pickSubprotocol chooses the subprotocol to echo: "mqtt" when offered
// [MQTT-6.0.0-3] [MQTT-6.0.0-4], else the client's first supported one.
// Like EMQX, a request without the header is accepted without a
// subprotocol (unless failIfNone) and one offering only unsupported
// subprotocols is refused.
func pickSubprotocol(h http.Header, supported []string, failIfNone bool) (string, bool) {
	offered := headerTokens(h.Values("Sec-WebSocket-Protocol"))
	if len(offered) == 0 {
		return "", !failIfNone
	}
	best := ""
	for _, o := range offered {
		if !slices.ContainsFunc(supported, func(s string) bool { return strings.EqualFold(s, o) }) {
			continue
		}
		if strings.EqualFold(o, "mqtt") {
			return o, true
		}
		if best == "" {
			best = o
		}
	}
	return best, best != ""
}

func headerTokens(values []string) []string {
	var out []string
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

// trackedConn releases its listener slot when closed (once).
type trackedConn struct {
	net.Conn
	meta    ConnMeta
	release func()
	once    sync.Once
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// connQueue is the net.Listener an http.Server serves: it yields the
// connections that the accept loop pushes.
type connQueue struct {
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
	addr net.Addr
}

func newConnQueue(addr net.Addr) *connQueue {
	return &connQueue{ch: make(chan net.Conn), done: make(chan struct{}), addr: addr}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.ch:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.done) })
	return nil
}

func (q *connQueue) Addr() net.Addr { return q.addr }

// push hands c to Accept; false once the queue is closed.
func (q *connQueue) push(c net.Conn) bool {
	select {
	case q.ch <- c:
		return true
	case <-q.done:
		return false
	}
}
