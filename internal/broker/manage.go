package broker

import (
	"errors"
	"net/netip"
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
// returns false. The order is unspecified.
func (b *Broker) Clients(fn func(*ClientSnapshot) bool) {
	panic("not implemented")
}

// Client returns the snapshot of one session, or ErrNotFound.
func (b *Broker) Client(clientID string) (ClientSnapshot, error) {
	panic("not implemented")
}

// ClientSubscriptions returns a session's subscriptions sorted by filter,
// or ErrNotFound.
func (b *Broker) ClientSubscriptions(clientID string) ([]SubscriptionSnapshot, error) {
	panic("not implemented")
}

// Subscriptions calls fn for every subscription on this node until fn
// returns false.
func (b *Broker) Subscriptions(fn func(*SubscriptionSnapshot) bool) {
	panic("not implemented")
}

// SubscribeFor subscribes a session (connected or not) as if it had sent
// SUBSCRIBE: retained messages are delivered per Retain Handling, the
// subscription is persisted with the session. Filter is as a client would
// send it (may start with $share/). It returns ErrNotFound for an unknown
// client id and ErrBadFilter for an invalid filter.
func (b *Broker) SubscribeFor(clientID string, subs []SubscriptionSnapshot) error {
	panic("not implemented")
}

// UnsubscribeFor removes subscriptions of a session as UNSUBSCRIBE would.
// Filters the session does not have are ignored. ErrNotFound for an
// unknown client id.
func (b *Broker) UnsubscribeFor(clientID string, filters []string) error {
	panic("not implemented")
}

// InflightMessages returns the messages sent to a session and not yet
// acknowledged, oldest first, or ErrNotFound.
func (b *Broker) InflightMessages(clientID string) ([]QueuedMessage, error) {
	panic("not implemented")
}

// QueuedMessages returns the messages waiting in a session's queue,
// oldest first, or ErrNotFound.
func (b *Broker) QueuedMessages(clientID string) ([]QueuedMessage, error) {
	panic("not implemented")
}
