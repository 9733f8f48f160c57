package broker

// This file declares the persistence port. storage/memory and storage/pebble
// implement it; storage/storetest holds the conformance suite both pass.

// NeverExpire is the Session Expiry Interval meaning "does not expire".
const NeverExpire = 0xFFFFFFFF

// SessionRecord is the persistent part of a session, without its
// subscriptions, queue and incoming QoS 2 packet ids (stored as their own keys).
type SessionRecord struct {
	ClientID        string
	Username        string
	ProtocolVersion byte
	ExpiryInterval  uint32 // seconds; NeverExpire for never
	CreatedAt       int64  // unix ns
	DisconnectedAt  int64  // unix ns; 0 while a client is connected
	Will            *Will  // nil when none is pending
}

// Will is a will message and its delay [MQTT-3.1.3.2.2].
type Will struct {
	Msg   *Message
	Delay uint32 // Will Delay Interval, seconds
}

// SubscriptionRecord is one subscription of a session.
type SubscriptionRecord struct {
	Filter            string // as subscribed, including a $share/<group>/ or $queue/ prefix
	QoS               byte
	NoLocal           bool
	RetainAsPublished bool
	RetainHandling    byte
	ID                uint32 // Subscription Identifier, 0 = none
}

// Queue entry states.
const (
	StateQueued  byte = 0 // not yet sent
	StatePublish byte = 1 // PUBLISH sent, awaiting PUBACK (QoS 1) or PUBREC (QoS 2)
	StatePubrel  byte = 2 // PUBREL sent, awaiting PUBCOMP
)

// QueueEntry is one message on its way to one session: queued, or inflight
// once it has a packet id.
type QueueEntry struct {
	Seq        uint64 // position in the session's queue; increasing
	Msg        *Message
	QoS        byte     // QoS of this delivery: min(message, subscription)
	RetainFlag bool     // RETAIN flag to send (Retain As Published)
	SubIDs     []uint32 // Subscription Identifiers to send
	PacketID   uint16   // 0 until sent
	State      byte     // StateQueued, StatePublish or StatePubrel

	sentAt   int64 // unix ns of the last send (in memory only: mqtt.retry_interval)
	queuedAt int64 // unix ns when it was queued for the session (in memory only; 0 after a restore)
}

// OpKind says what a StoreOp does.
type OpKind uint8

// Store operations.
const (
	OpPutSession     OpKind = iota + 1 // Session: insert or replace the session record
	OpDeleteSession                    // ClientID: delete the session and all its subscriptions, queue entries and incoming ids
	OpPutSub                           // ClientID, Sub: insert or replace by Sub.Filter
	OpDeleteSub                        // ClientID, Filter
	OpPutQueue                         // ClientID, Entry: insert or replace by Entry.Seq
	OpDeleteQueue                      // ClientID, Seq
	OpPutIncoming                      // ClientID, PacketID: an inbound QoS 2 id awaiting PUBREL
	OpDeleteIncoming                   // ClientID, PacketID
	OpPutRetained                      // Msg: insert or replace the retained message of Msg.Topic
	OpDeleteRetained                   // Topic
)

// StoreOp is one mutation. Only the fields its Kind names are read.
type StoreOp struct {
	Kind     OpKind
	ClientID string
	Session  *SessionRecord
	Sub      *SubscriptionRecord
	Filter   string
	Entry    *QueueEntry
	Seq      uint64
	PacketID uint16
	Msg      *Message
	Topic    string
}

// LoadedSession is a session read back from the store.
type LoadedSession struct {
	Session  SessionRecord
	Subs     []SubscriptionRecord
	Queue    []QueueEntry // ordered by Seq
	Incoming []uint16
}

// Store persists sessions and retained messages.
//
// Commit encodes ops before it returns and keeps no reference to them or to
// what they point at, so the caller may go on mutating its objects. The ops of
// one Commit are applied atomically and in order; Commits are applied in the
// order they were called. done (which may be nil) is called exactly once, from
// any goroutine, and must not block: when durable is true, after the ops are on
// stable storage (implementations group the fsyncs of concurrent commits);
// otherwise once they are applied. A store configured for a weaker durability
// treats durable as it is configured to.
//
// A message referenced by several queue entries (and the retained index) is
// stored once; the store keeps reference counts and deletes it with its last
// entry. Load gives entries that share a message ID the same *Message.
//
// Load calls the visitors once per stored item; it runs before the broker
// starts serving. An item that cannot be decoded is reported (logged and
// counted) and skipped; a damaged tail is never a reason to fail.
type Store interface {
	Commit(ops []StoreOp, durable bool, done func(error))
	LoadSessions(fn func(*LoadedSession) error) error
	LoadRetained(fn func(*Message) error) error
	Close() error
}
