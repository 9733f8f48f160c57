package broker

import (
	"sync"
	"sync/atomic"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

// Hook is anything that observes or takes part in the broker's life. A hook
// implements Name and any of the narrow On* interfaces below; the broker calls
// only the points a hook implements. Hooks run on the connection's or
// publisher's goroutine: they must be quick and must not block.
type Hook interface {
	Name() string
}

// ConnectHook may refuse a CONNECT (before authentication) by returning an
// error wrapping a packet.ReasonCode (e.g. packet.Banned).
type ConnectHook interface {
	OnConnect(c *ClientInfo, p *packet.Connect) error
}

// AuthenticateHook sees every authentication outcome (nil = accepted).
type AuthenticateHook interface {
	OnAuthenticate(c *ClientInfo, err error)
}

// ConnackHook sees every CONNACK sent.
type ConnackHook interface {
	OnConnack(c *ClientInfo, rc packet.ReasonCode)
}

// ConnectedHook is called once a client is connected and its session attached.
type ConnectedHook interface {
	OnConnected(c *ClientInfo)
}

// DisconnectedHook is called when a connection ends; reason is nil for a
// normal DISCONNECT.
type DisconnectedHook interface {
	OnDisconnected(c *ClientInfo, reason error)
}

// AuthorizeHook sees every authorization decision and may override it.
type AuthorizeHook interface {
	OnAuthorize(c *ClientInfo, action Action, topic string, allowed bool) bool
}

// SessionEvent is what happened to a session.
type SessionEvent uint8

// Session events.
const (
	SessionCreated SessionEvent = iota + 1
	SessionResumed
	SessionTakenOver
	SessionTerminated
	SessionDiscarded
)

// SessionHook sees session life-cycle events.
type SessionHook interface {
	OnSession(clientID string, ev SessionEvent)
}

// PublishHook sees every message a client (or the API) publishes before it is
// routed. It returns the message to route (possibly a new one) or nil to drop
// it. The message must not be mutated in place.
type PublishHook interface {
	OnPublish(c *ClientInfo, m *Message) *Message
}

// DeliveredHook is called when a message is written to a subscriber.
type DeliveredHook interface {
	OnDelivered(clientID string, m *Message)
}

// AckedHook is called when a subscriber acknowledges a QoS 1/2 message.
type AckedHook interface {
	OnAcked(clientID string, m *Message)
}

// DropReason says why a message or delivery was dropped.
type DropReason string

// Drop reasons, as EMQX names them.
const (
	DropNoSubscribers DropReason = "no_subscribers"
	DropQueueFull     DropReason = "queue_full"
	DropExpired       DropReason = "expired"
	DropTooLarge      DropReason = "too_large"
	DropNoLocal       DropReason = "no_local"
	DropSlowConsumer  DropReason = "slow_consumer"
	DropNotAuthorized DropReason = "not_authorized"
	DropByHook        DropReason = "hook"
)

// DroppedHook is called when a message is dropped; clientID is the
// subscriber for a dropped delivery, "" for a message dropped before routing.
type DroppedHook interface {
	OnDropped(clientID string, m *Message, why DropReason)
}

// hookSet is an immutable snapshot of the chain split by point, so the hot
// path checks a slice length and takes no lock.
type hookSet struct {
	all          []Hook
	connect      []ConnectHook
	authenticate []AuthenticateHook
	connack      []ConnackHook
	connected    []ConnectedHook
	disconnected []DisconnectedHook
	authorize    []AuthorizeHook
	session      []SessionHook
	publish      []PublishHook
	delivered    []DeliveredHook
	acked        []AckedHook
	dropped      []DroppedHook
}

// Hooks is the broker's hook chain: copy-on-write, read without locking.
type Hooks struct {
	mu  sync.Mutex
	set atomic.Pointer[hookSet]
}

func (h *Hooks) load() *hookSet {
	if s := h.set.Load(); s != nil {
		return s
	}
	return &emptyHooks
}

var emptyHooks hookSet

// Add appends a hook to the chain.
func (h *Hooks) Add(k Hook) {
	h.mu.Lock()
	defer h.mu.Unlock()
	all := append(append([]Hook(nil), h.load().all...), k)
	h.set.Store(buildHookSet(all))
}

// Remove removes the hook with the given name.
func (h *Hooks) Remove(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var all []Hook
	for _, k := range h.load().all {
		if k.Name() != name {
			all = append(all, k)
		}
	}
	h.set.Store(buildHookSet(all))
}

func buildHookSet(all []Hook) *hookSet {
	s := &hookSet{all: all}
	for _, k := range all {
		addIf(&s.connect, k)
		addIf(&s.authenticate, k)
		addIf(&s.connack, k)
		addIf(&s.connected, k)
		addIf(&s.disconnected, k)
		addIf(&s.authorize, k)
		addIf(&s.session, k)
		addIf(&s.publish, k)
		addIf(&s.delivered, k)
		addIf(&s.acked, k)
		addIf(&s.dropped, k)
	}
	return s
}

func addIf[T any](dst *[]T, k Hook) {
	if v, ok := k.(T); ok {
		*dst = append(*dst, v)
	}
}

func (s *hookSet) onSession(clientID string, ev SessionEvent) {
	for _, k := range s.session {
		k.OnSession(clientID, ev)
	}
}

func (s *hookSet) onDelivered(clientID string, m *Message) {
	for _, k := range s.delivered {
		k.OnDelivered(clientID, m)
	}
}

// dropHook runs the dropped hooks for a message being routed, building the
// message only when a hook is there to see it.
func (b *Broker) dropHook(clientID string, in *inbound, why DropReason) {
	if hs := b.hooks.load(); len(hs.dropped) > 0 {
		hs.onDropped(clientID, in.message(), why)
	}
}

func (s *hookSet) onDropped(clientID string, m *Message, why DropReason) {
	for _, k := range s.dropped {
		k.OnDropped(clientID, m, why)
	}
}
