package broker

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// This file is the broker's management surface: read-only snapshots of
// sessions, subscriptions and queues, and the few commands the management
// service needs (subscribe or unsubscribe on a client's behalf, hot config
// updates). Snapshots are copies; holding one holds no lock.

// ErrBadFilter is returned by SubscribeFor for an invalid topic filter.
var ErrBadFilter = errors.New("broker: invalid topic filter")

// ClientSnapshot is one session (and its connection, when connected) as the
// management API shows it. Counters are those of the current connection.
type ClientSnapshot struct {
	ClientID   string
	Username   string
	Node       string
	Listener   string // listener id of the (last) connection, "tcp:default"
	Mountpoint string
	Peer       netip.AddrPort // zero while disconnected and never connected since restore
	ProtoVer   byte           // 3, 4 or 5
	Keepalive  uint16         // seconds
	CleanStart bool
	Expiry     uint32 // Session Expiry Interval, seconds; 0xFFFFFFFF = never
	Persistent bool   // the session outlives its connection
	Connected  bool
	IsBridge   bool

	CreatedAt      time.Time
	ConnectedAt    time.Time // zero if never connected since restore
	DisconnectedAt time.Time // zero while connected

	InflightCnt, InflightMax           int
	MqueueLen, MqueueMax               int // MqueueMax 0 = unlimited
	MqueueDropped                      uint64
	AwaitingRelCnt, AwaitingRelMax     int // AwaitingRelMax 0 = unlimited
	SubscriptionsCnt, SubscriptionsMax int // SubscriptionsMax 0 = unlimited

	Counters ClientCounters
}

// ClientCounters are per-connection traffic counters (EMQX's recv_* and
// send_* client fields).
type ClientCounters struct {
	RecvCnt, RecvOct, RecvPkt, RecvMsg               uint64
	RecvMsgQoS0, RecvMsgQoS1, RecvMsgQoS2            uint64
	RecvMsgDropped, RecvMsgDroppedAwaitPubrelTimeout uint64
	SendCnt, SendOct, SendPkt, SendMsg               uint64
	SendMsgQoS0, SendMsgQoS1, SendMsgQoS2            uint64
	SendMsgDropped, SendMsgDroppedExpired            uint64
	SendMsgDroppedQueueFull, SendMsgDroppedTooLarge  uint64
}

// SubscriptionSnapshot is one subscription of one session.
type SubscriptionSnapshot struct {
	ClientID string
	Filter   string // as subscribed, with $share/<group>/ when shared, without mountpoint
	QoS      byte
	NoLocal  bool
	RAP      bool // Retain As Published
	RH       byte // Retain Handling 0..2
	SubID    uint32
}

// QueuedMessage is one message queued for, or in flight to, a session.
type QueuedMessage struct {
	MsgID      uint64
	Topic      string
	QoS        byte
	Payload    []byte
	From       string // publisher client id
	FromUser   string
	PublishAt  time.Time // when the broker received it
	InsertedAt time.Time // when it was queued for this session
	PacketID   uint16    // in-flight only
}

// Clients calls fn with a snapshot of every session on this node until fn
// returns false. The order is unspecified. Each session's lock is held only
// while it is copied, never while fn runs.
func (b *Broker) Clients(fn func(*ClientSnapshot) bool) {
	cfg := b.conf()
	b.sessions.each(func(s *session) bool {
		var cs ClientSnapshot
		if !s.snapshot(cfg, &cs) {
			return true // ended while we looked
		}
		return fn(&cs)
	})
}

// Client returns the snapshot of one session, or ErrNotFound.
func (b *Broker) Client(clientID string) (ClientSnapshot, error) {
	var cs ClientSnapshot
	s := b.sessions.get(clientID)
	if s == nil || !s.snapshot(b.conf(), &cs) {
		return ClientSnapshot{}, fmt.Errorf("client %q: %w", clientID, ErrNotFound)
	}
	return cs, nil
}

// snapshot fills cs from the session and its connection; it reports false
// for a session that has ended.
func (s *session) snapshot(cfg *Config, cs *ClientSnapshot) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	*cs = ClientSnapshot{
		ClientID: s.id, Username: s.username, Node: cfg.NodeName, Listener: s.listener,
		Mountpoint: s.mount, Peer: s.peer, ProtoVer: s.version, Keepalive: s.keepalive,
		CleanStart: s.cleanStart, Expiry: s.expiry, Persistent: s.persistent(), Connected: s.conn != nil,
		CreatedAt: unixTime(s.created), ConnectedAt: unixTime(s.connAt), DisconnectedAt: unixTime(s.discAt),
		InflightCnt: s.inflight.Len(), InflightMax: cfg.MaxInflight,
		MqueueLen: s.queue.Len(), MqueueMax: cfg.MaxMqueueLen, MqueueDropped: s.qdropped,
		AwaitingRelCnt: len(s.incoming), AwaitingRelMax: cfg.MaxAwaitingRel,
		SubscriptionsCnt: len(s.subs), SubscriptionsMax: cfg.MaxSubscriptions,
	}
	// IsBridge stays false: the codec refuses the 3.1.1 bridge bit (protocol
	// level 0x84), so no bridge connects.
	if c := s.conn; c != nil {
		cs.InflightMax = c.recvMax
		cs.Counters = c.ctr.snapshot()
	} else if s.lastCtr != nil {
		cs.Counters = *s.lastCtr
	}
	return true
}

// unixTime converts unix ns to a time, 0 to the zero time.
func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// ClientSubscriptions returns a session's subscriptions sorted by filter,
// or ErrNotFound.
func (b *Broker) ClientSubscriptions(clientID string) ([]SubscriptionSnapshot, error) {
	s := b.sessions.get(clientID)
	if s == nil {
		return nil, fmt.Errorf("client %q: %w", clientID, ErrNotFound)
	}
	list, ok := s.subscriptions()
	if !ok {
		return nil, fmt.Errorf("client %q: %w", clientID, ErrNotFound)
	}
	slices.SortFunc(list, func(a, b SubscriptionSnapshot) int { return strings.Compare(a.Filter, b.Filter) })
	return list, nil
}

// Subscriptions calls fn for every subscription on this node until fn
// returns false. Sessions come in no particular order; no lock is held
// while fn runs.
func (b *Broker) Subscriptions(fn func(*SubscriptionSnapshot) bool) {
	b.sessions.each(func(s *session) bool {
		list, _ := s.subscriptions()
		for i := range list {
			if !fn(&list[i]) {
				return false
			}
		}
		return true
	})
}

// subscriptions copies the session's subscriptions (unsorted); ok is false
// for a session that has ended. The records hold filters as the client sent
// them: with their $share/ or $queue/ prefix, without the mountpoint.
func (s *session) subscriptions() (list []SubscriptionSnapshot, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, false
	}
	list = make([]SubscriptionSnapshot, 0, len(s.subs))
	for _, r := range s.subs {
		list = append(list, SubscriptionSnapshot{ClientID: s.id, Filter: r.Filter, QoS: r.QoS, NoLocal: r.NoLocal,
			RAP: r.RetainAsPublished, RH: r.RetainHandling, SubID: r.ID})
	}
	return list, true
}

// InflightMessages returns the messages sent to a session and not yet
// acknowledged (QoS 2 ones until PUBCOMP), oldest first, or ErrNotFound.
func (b *Broker) InflightMessages(clientID string) ([]QueuedMessage, error) {
	return b.sessionMessages(clientID, func(s *session, add func(*QueueEntry)) { s.inflight.Each(add) })
}

// QueuedMessages returns the messages waiting in a session's queue,
// oldest first, or ErrNotFound.
func (b *Broker) QueuedMessages(clientID string) ([]QueuedMessage, error) {
	return b.sessionMessages(clientID, func(s *session, add func(*QueueEntry)) {
		for i := 0; i < s.queue.Len(); i++ {
			add(s.queue.At(i))
		}
	})
}

// sessionMessages copies the entries walk visits, under the session lock.
// Topics lose the session's mountpoint, as the client would receive them;
// payloads are copied.
func (b *Broker) sessionMessages(clientID string, walk func(*session, func(*QueueEntry))) ([]QueuedMessage, error) {
	s := b.sessions.get(clientID)
	if s == nil {
		return nil, fmt.Errorf("client %q: %w", clientID, ErrNotFound)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("client %q: %w", clientID, ErrNotFound)
	}
	list := []QueuedMessage{}
	walk(s, func(e *QueueEntry) { list = append(list, queuedMessage(e, s.mount)) })
	return list, nil
}

func queuedMessage(e *QueueEntry, mount string) QueuedMessage {
	m := e.Msg
	q := QueuedMessage{
		MsgID: m.ID, Topic: string(stripMount(bytesOf(m.Topic), mount)), QoS: e.QoS,
		Payload: bytes.Clone(m.Payload), From: m.From, FromUser: m.FromUser,
		PublishAt: unixTime(m.Created), InsertedAt: unixTime(e.queuedAt), PacketID: e.PacketID,
	}
	if q.InsertedAt.IsZero() {
		q.InsertedAt = q.PublishAt // restored from the store: the queue time is not kept
	}
	return q
}
