package broker

import (
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

// Message is an application message as the broker holds it. It is immutable
// once published: deliveries, queues, the retained index and the store share
// one *Message.
type Message struct {
	ID      uint64 // unique and increasing on this node; the store's key
	Topic   string
	Payload []byte
	QoS     byte
	Retain  bool
	// Props holds the MQTT 5 properties forwarded to subscribers (payload
	// format, content type, response topic, correlation data, user
	// properties); nil when there are none. Message Expiry, Topic Alias and
	// Subscription Identifiers are per delivery and are not kept here.
	Props   *packet.Properties
	Created int64  // unix nanoseconds when the broker received it
	Expiry  int64  // unix nanoseconds after which it must not be delivered; 0 = never
	From    string // client id of the publisher ("" for API or will with no owner)
	// FromUser is the publisher's username, for the management API; it is
	// not persisted (a restored message has "").
	FromUser string
	Node     string // node that received it from the publisher
}

// Expired reports whether the message may no longer be delivered at now (unix ns).
func (m *Message) Expired(now int64) bool { return m.Expiry != 0 && now >= m.Expiry }

// ExpiryLeft returns the Message Expiry Interval to send at now, in seconds
// rounded up, and whether the message has one [MQTT-3.3.2-6].
func (m *Message) ExpiryLeft(now int64) (uint32, bool) {
	if m.Expiry == 0 {
		return 0, false
	}
	left := m.Expiry - now
	if left <= 0 {
		return 0, true
	}
	return uint32((left + 1e9 - 1) / 1e9), true
}
