package service

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-mqtt/herald/internal/banned"
	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/lograte"
)

// Controller is what the service needs from the node that is not the
// broker: the configuration in force and the listeners. The composition
// root (internal/server) implements it.
type Controller interface {
	// Config returns the configuration in use.
	Config() config.Config
	// UpdateConfig runs change on a copy of the configuration, validates
	// the result, applies it to the running node (broker limits,
	// listeners) and persists it in the data dir so it survives a restart.
	// It returns the configuration now in use. A change that fails
	// validation changes nothing and returns an error wrapping
	// ErrBadRequest.
	UpdateConfig(ctx context.Context, change func(*config.Config) error) (config.Config, error)
	// Listeners reports every configured listener and its live state.
	Listeners() []ListenerState
	// ListenerAction starts, stops or restarts one configured listener
	// ("tcp:default") without touching the others. ErrNotFound for an
	// unknown id.
	ListenerAction(ctx context.Context, id string, action ListenerAction) error
}

// ListenerAction is what ListenerAction does.
type ListenerAction string

// Listener actions.
const (
	ListenerStart   ListenerAction = "start"
	ListenerStop    ListenerAction = "stop"
	ListenerRestart ListenerAction = "restart"
)

// ListenerState is a configured listener and its live state.
type ListenerState struct {
	ID                 string // "tcp:default"
	Type               string // tcp | ssl | ws | wss
	Name               string
	Running            bool
	Bind               string // configured bind
	Addr               string // bound address while running, "" otherwise
	CurrentConnections int
}

// Options configure a Service.
type Options struct {
	Broker     *broker.Broker // this node's broker
	Controller Controller
	DataDir    string           // the node's data dir; management state lives under DataDir/mgmt
	Logger     *slog.Logger     // the service rate-limits its lines (internal/lograte)
	Now        func() time.Time // nil: time.Now (tests inject a clock)
	// MonitorInterval is the monitor's sampling period (0: 10 s, as EMQX).
	MonitorInterval time.Duration
	Banned          *banned.List // the node's ban list (nil: an empty one in memory)
}

// Service is the management service of one node, cluster-shaped.
type Service struct {
	opts    Options
	log     *slog.Logger
	logRate *lograte.Handler // log's handler: Flush writes the suppressed-lines summaries
	nodes   []*node          // every node of the cluster; today only this one
	local   *node
	now     func() time.Time
	sec     *security

	running  atomic.Bool         // between Start and Close (GET /status)
	monitors map[string]*monitor // node name -> its time series (monitor.go)
	bans     *banned.List        // ban list (banned.go)
	alarms   *alarms             // alarm registry (alarms.go)

	started time.Time
	stop    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
}

// node is one member of the cluster as the service reaches it. Today it
// wraps the local broker; the cluster layer adds remote nodes whose calls
// go over the cluster transport.
type node struct {
	name string
	b    *broker.Broker
}

// New builds the service. It does no I/O; call Start.
func New(opts Options) (*Service, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	local := &node{name: opts.Broker.Config().NodeName, b: opts.Broker}
	rl := lograte.New(log.With("component", "service").Handler(), lograte.Options{Now: now, MinLevel: slog.LevelDebug})
	s := &Service{opts: opts, log: slog.New(rl), logRate: rl, nodes: []*node{local}, local: local,
		now: now, stop: make(chan struct{})}
	return s, nil
}

// Start loads the persisted management state and starts the background
// samplers. It does not block.
func (s *Service) Start() error {
	s.started = s.now()
	if err := s.initSecurity(); err != nil {
		return err
	}
	if err := s.initBanned(); err != nil {
		return err
	}
	s.initAlarms()
	s.startRetainerSweeper()
	s.startMonitors()
	s.every(logFlushEvery, s.logRate.Flush)
	s.running.Store(true)
	return nil
}

// logFlushEvery is how often the log says how many lines it held back.
const logFlushEvery = 10 * time.Second

// Close stops the background work and waits for it, then writes the log's
// last suppressed-lines summaries.
func (s *Service) Close() error {
	s.running.Store(false)
	s.once.Do(func() { close(s.stop) })
	s.wg.Wait()
	if s.logRate != nil { // nil in tests that build a Service by hand
		s.logRate.Flush()
	}
	return nil
}

// NodeName is this node's name ("herald@127.0.0.1").
func (s *Service) NodeName() string { return s.local.name }

// go runs fn in a goroutine owned by the service: it stops with Close.
func (s *Service) goAttach(fn func(stop <-chan struct{})) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn(s.stop)
	}()
}

// every runs fn every d in a goroutine owned by the service, until Close.
func (s *Service) every(d time.Duration, fn func()) {
	s.goAttach(func(stop <-chan struct{}) {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				fn()
			}
		}
	})
}

// nodesIn returns the nodes a query with node scope name covers: every
// node for "", else the named one, or an ErrNotFound error.
func (s *Service) nodesIn(name string) ([]*node, error) {
	if name == "" {
		return s.nodes, nil
	}
	for _, n := range s.nodes {
		if n.name == name {
			return []*node{n}, nil
		}
	}
	return nil, Errorf(ErrNotFound, "NOT_FOUND", "node %q not found", name)
}

// ownerOf returns the node holding a client id's session, or ErrNotFound
// with code CLIENTID_NOT_FOUND.
func (s *Service) ownerOf(clientID string) (*node, error) {
	for _, n := range s.nodes {
		if _, err := n.b.Client(clientID); err == nil {
			return n, nil
		}
	}
	return nil, Errorf(ErrNotFound, "CLIENTID_NOT_FOUND", "client %q not found", clientID)
}
