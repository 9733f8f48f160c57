package broker

import (
	"context"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-mqtt/herald/internal/lograte"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

// Version is the broker version reported in $SYS and the API.
const Version = "0.1.0"

// Forwarder delivers messages to other nodes of a cluster. The broker calls
// Forward once per routed message after local delivery; the implementation
// decides which nodes have matching routes. It must not block.
type Forwarder interface {
	Forward(m *Message)
}

// SessionRegistry records which node holds each client id, so a connect on
// one node can take a session over from another. Claim is called when a
// session is created or resumed on this node, Release when it ends. The
// default knows only this node (its session table).
type SessionRegistry interface {
	Claim(clientID string) (previousNode string)
	Release(clientID string)
	Owner(clientID string) (node string, ok bool)
}

// localRegistry is the single-node SessionRegistry: the broker's own
// session table already knows every client id, so it records nothing.
type localRegistry struct{ b *Broker }

func (localRegistry) Claim(string) string { return "" }
func (localRegistry) Release(string)      {}

// Owner reports this node for a client id with a session here.
func (r localRegistry) Owner(clientID string) (string, bool) {
	return r.b.conf().NodeName, r.b.sessions.get(clientID) != nil
}

// Options are what New needs besides the configuration.
type Options struct {
	Store         Store           // nil: sessions and retained messages live in memory only
	Authenticator Authenticator   // nil: every CONNECT is accepted
	Authorizer    Authorizer      // nil: everything is allowed
	Forwarder     Forwarder       // nil: single node
	Registry      SessionRegistry // nil: this node's session table
	Logger        *slog.Logger    // nil: discard; the broker rate-limits its lines (internal/lograte)
}

// Broker is the MQTT broker core. Create it with New, call Start, hand it
// connections with ServeConn, and stop it with Shutdown.
type Broker struct {
	cfg      atomic.Pointer[liveConfig] // swapped whole by UpdateConfig; read with conf()
	log      *slog.Logger
	logRate  *lograte.Handler // log's handler: Flush writes the suppressed-lines summaries
	store    Store
	authn    Authenticator
	authz    Authorizer
	fwd      Forwarder
	registry SessionRegistry

	hooks    Hooks
	metrics  Metrics
	stats    Stats
	subs     *subIndex
	retained retainIndex
	sessions *sessionTable
	ids      idLocks
	conns    connSet
	bursts   burstPool

	msgID      atomic.Uint64
	dollarSubs atomic.Int64 // subscriptions to $-topics: $SYS events are built only when some exist
	started    time.Time
	cfgChanged chan struct{} // UpdateConfig signals the $SYS loop (capacity 1)
	closing    atomic.Bool
	stop       chan struct{}
	wg         sync.WaitGroup
	once       sync.Once
}

// New builds a broker. It does no I/O.
func New(cfg Config, opts Options) (*Broker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	rl := lograte.New(log.With("component", "broker").Handler(), lograte.Options{MinLevel: slog.LevelDebug})
	b := &Broker{
		log: slog.New(rl), logRate: rl, store: opts.Store, authn: opts.Authenticator,
		authz: opts.Authorizer, fwd: opts.Forwarder, registry: opts.Registry,
		sessions: newSessionTable(), stop: make(chan struct{}), cfgChanged: make(chan struct{}, 1),
	}
	b.cfg.Store(newLiveConfig(cfg))
	if b.registry == nil {
		b.registry = localRegistry{b}
	}
	b.subs = newSubIndex(b)
	b.ids.seed = maphash.MakeSeed()
	b.conns.init()
	return b, nil
}

// Start restores persisted sessions and retained messages and starts the
// $SYS publisher. It does not block.
func (b *Broker) Start() error {
	b.started = time.Now()
	b.msgID.Store(uint64(b.started.UnixNano()))
	if err := b.restore(); err != nil {
		return fmt.Errorf("broker: restore: %w", err)
	}
	b.goAttach(b.sysLoop)
	b.goAttach(b.retryLoop)
	b.goAttach(b.logFlushLoop)
	return nil
}

// logFlushEvery is how often the log says how many lines it held back.
const logFlushEvery = 10 * time.Second

// logFlushLoop writes the rate limiter's summaries (lograte) until Stop;
// Shutdown writes the last ones.
func (b *Broker) logFlushLoop() { b.every(logFlushEvery, b.logRate.Flush) }

// every runs fn every d until Stop; the caller owns the goroutine
// (goAttach).
func (b *Broker) every(d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			fn()
		}
	}
}

// goAttach runs fn on a goroutine the broker waits for at Shutdown.
func (b *Broker) goAttach(fn func()) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		fn()
	}()
}

// Shutdown stops the broker, in this order: refuse new connections; send
// every client DISCONNECT 0x8B (v5) and close it once flushed, keeping
// persistent sessions (their pending wills fire after the next start if the
// client does not come back in time), without the linger of other
// server-initiated closes (lingering connections are closed too); wait for
// the connections to end or ctx; stop timers and the $SYS publisher; write
// the log's last suppressed-lines summaries. The
// caller closes the store afterwards. Idempotent.
func (b *Broker) Shutdown(ctx context.Context) error {
	var err error
	b.once.Do(func() {
		b.closing.Store(true)
		close(b.stop)
		b.conns.each(func(c *client) { c.kick(packet.ServerShuttingDown) })
		b.conns.each((*client).cutLinger)
		err = b.conns.wait(ctx)
		b.bursts.close()
		b.sessions.each(func(s *session) bool {
			s.mu.Lock()
			s.stopTimers()
			s.mu.Unlock()
			return true
		})
		b.wg.Wait()
		b.logRate.Flush()
	})
	return err
}

// kick disconnects a client from the server side. It may run on any
// goroutine, also while the client's CONNECT is being handled.
func (c *client) kick(rc packet.ReasonCode) {
	s := c.attachedTo.Load()
	if s == nil {
		c.closeConn()
		return
	}
	s.mu.Lock()
	c.shutdown(rc)
	s.mu.Unlock()
}

// Kick disconnects the client with the given id (DISCONNECT 0x98 for v5).
// Its session stays as its expiry says.
func (b *Broker) Kick(clientID string) error {
	s := b.sessions.get(clientID)
	if s == nil {
		return ErrNotFound
	}
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	if c == nil {
		return ErrNotFound
	}
	c.kick(packet.AdministrativeAction)
	return nil
}

// DiscardSession kicks the client (if connected) and ends its session.
func (b *Broker) DiscardSession(clientID string) error {
	lk := b.ids.lock(clientID)
	defer lk.Unlock()
	s := b.sessions.get(clientID)
	if s == nil {
		return ErrNotFound
	}
	s.mu.Lock()
	if c := s.conn; c != nil {
		s.detach()
		c.shutdown(packet.AdministrativeAction)
	}
	s.will = nil
	s.mu.Unlock()
	b.endSession(s, SessionDiscarded)
	return nil
}

// Publish routes a message from inside the node (the API, wills, $SYS). It
// returns the number of matching subscribers.
func (b *Broker) Publish(m *Message) int {
	if m.ID == 0 {
		m.ID = b.nextMsgID()
	}
	if m.Created == 0 {
		m.Created = time.Now().UnixNano()
	}
	if m.Node == "" {
		m.Node = b.conf().NodeName
	}
	var w work
	w.init(b)
	var in inbound
	in.fromMessage(b, m)
	n := b.route(&w, &in, nil)
	w.finish()
	if w.barrier {
		_ = b.commitSync(nil)
	}
	return n
}

func (b *Broker) nextMsgID() uint64 { return b.msgID.Add(1) }

func (b *Broker) maxPacketSize() int { return b.conf().MaxPacketSize }

// Hooks returns the hook chain.
func (b *Broker) Hooks() *Hooks { return &b.hooks }

// Metrics returns the node's counters.
func (b *Broker) Metrics() *Metrics { return &b.metrics }

// Stats returns the node's gauges.
func (b *Broker) Stats() *Stats { return &b.stats }

// Config returns the configuration in use.
func (b *Broker) Config() Config { return *b.conf() }

// Uptime is the time since Start.
func (b *Broker) Uptime() time.Duration { return time.Since(b.started) }

// connSet tracks live connections so Shutdown can close them and wait.
type connSet struct {
	mu   sync.Mutex
	m    map[*client]struct{}
	zero chan struct{} // closed when the set becomes empty during wait
}

func (cs *connSet) init() { cs.m = make(map[*client]struct{}) }

func (cs *connSet) add(c *client) {
	cs.mu.Lock()
	cs.m[c] = struct{}{}
	cs.mu.Unlock()
}

func (cs *connSet) remove(c *client) {
	cs.mu.Lock()
	delete(cs.m, c)
	if len(cs.m) == 0 && cs.zero != nil {
		close(cs.zero)
		cs.zero = nil
	}
	cs.mu.Unlock()
}

func (cs *connSet) each(fn func(c *client)) {
	cs.mu.Lock()
	list := make([]*client, 0, len(cs.m))
	for c := range cs.m {
		list = append(list, c)
	}
	cs.mu.Unlock()
	for _, c := range list {
		fn(c)
	}
}

// wait returns once the set is empty or ctx ends; then it closes what is
// left by force.
func (cs *connSet) wait(ctx context.Context) error {
	cs.mu.Lock()
	if len(cs.m) == 0 {
		cs.mu.Unlock()
		return nil
	}
	zero := make(chan struct{})
	cs.zero = zero
	cs.mu.Unlock()
	select {
	case <-zero:
		return nil
	case <-ctx.Done():
		cs.each(func(c *client) { c.closeConn() })
		return ctx.Err()
	}
}
