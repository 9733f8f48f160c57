package pebble

import (
	"fmt"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

// Message flag bits.
const (
	msgRetain   byte = 1 << 0
	msgHasProps byte = 1 << 1
)

// Property mask bits: which of the kept single-valued properties follow.
const (
	propPayloadFormat   byte = 1 << 0
	propContentType     byte = 1 << 1
	propResponseTopic   byte = 1 << 2
	propCorrelationData byte = 1 << 3
)

// encodeMessage appends every field of m but its ID (held by the key).
func encodeMessage(e *encoder, m *broker.Message) {
	flags := byte(0)
	if m.Retain {
		flags |= msgRetain
	}
	if m.Props != nil {
		flags |= msgHasProps
	}
	e.byte(m.QoS)
	e.byte(flags)
	e.str(m.Topic)
	e.bytes(m.Payload)
	e.varint(m.Created)
	e.varint(m.Expiry)
	e.str(m.From)
	e.str(m.Node)
	if m.Props != nil {
		encodeProps(e, m.Props)
	}
}

// encodeProps keeps the properties forwarded with a message.
func encodeProps(e *encoder, p *packet.Properties) {
	mask := byte(0)
	for _, f := range propFields {
		if p.Has(f.id) {
			mask |= f.bit
		}
	}
	e.byte(mask)
	if mask&propPayloadFormat != 0 {
		e.byte(p.PayloadFormat)
	}
	for _, f := range propFields[1:] {
		if mask&f.bit != 0 {
			e.bytes(*f.field(p))
		}
	}
	e.uvarint(uint64(len(p.User)))
	for _, u := range p.User {
		e.bytes(u.Key)
		e.bytes(u.Value)
	}
}

// propField maps a mask bit to its property; field is nil for PayloadFormat.
type propField struct {
	bit   byte
	id    packet.PropID
	field func(*packet.Properties) *[]byte
}

var propFields = []propField{
	{propPayloadFormat, packet.PropPayloadFormat, nil},
	{propContentType, packet.PropContentType, func(p *packet.Properties) *[]byte { return &p.ContentType }},
	{propResponseTopic, packet.PropResponseTopic, func(p *packet.Properties) *[]byte { return &p.ResponseTopic }},
	{propCorrelationData, packet.PropCorrelationData, func(p *packet.Properties) *[]byte { return &p.CorrelationData }},
}

// decodeMessage reads what encodeMessage wrote.
func decodeMessage(d *decoder, id uint64) *broker.Message {
	m := &broker.Message{ID: id, QoS: d.byte()}
	flags := d.byte()
	if flags&^(msgRetain|msgHasProps) != 0 {
		d.fail(errBadFlags)
	}
	m.Retain = flags&msgRetain != 0
	m.Topic = d.str()
	m.Payload = d.bytes()
	m.Created = d.varint()
	m.Expiry = d.varint()
	m.From = d.str()
	m.Node = d.str()
	if flags&msgHasProps != 0 {
		m.Props = decodeProps(d)
	}
	return m
}

func decodeProps(d *decoder) *packet.Properties {
	p := &packet.Properties{}
	mask := d.byte()
	if mask&^(propPayloadFormat|propContentType|propResponseTopic|propCorrelationData) != 0 {
		d.fail(errBadFlags)
	}
	for _, f := range propFields {
		if mask&f.bit != 0 {
			p.Set(f.id)
		}
	}
	if mask&propPayloadFormat != 0 {
		p.PayloadFormat = d.byte()
	}
	for _, f := range propFields[1:] {
		if mask&f.bit != 0 {
			*f.field(p) = d.presentBytes()
		}
	}
	decodeUser(d, p)
	return p
}

func decodeUser(d *decoder, p *packet.Properties) {
	n := d.uvarint()
	if n > uint64(len(d.b)) { // each pair takes at least two bytes
		d.fail(errTooLong)
		return
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		p.User = append(p.User, packet.UserProperty{Key: d.presentBytes(), Value: d.presentBytes()})
	}
}

// messageValue encodes the value of a message key.
func messageValue(e *encoder, m *broker.Message) []byte {
	e.reset(formatV1)
	encodeMessage(e, m)
	return e.b
}

// parseMessage decodes the value of message key id.
func parseMessage(v []byte, id uint64) (*broker.Message, error) {
	d := newDecoder(v)
	m := decodeMessage(d, id)
	if err := d.finish(); err != nil {
		return nil, fmt.Errorf("message %d: %w", id, err)
	}
	return m, nil
}

// sessionValue encodes a session record; the client id is in the key.
func sessionValue(e *encoder, s *broker.SessionRecord) []byte {
	e.reset(formatV1)
	e.str(s.Username)
	e.byte(s.ProtocolVersion)
	e.uvarint(uint64(s.ExpiryInterval))
	e.varint(s.CreatedAt)
	e.varint(s.DisconnectedAt)
	e.bool(s.Will != nil)
	if s.Will != nil {
		e.uvarint(uint64(s.Will.Delay))
		e.uvarint(s.Will.Msg.ID)
		encodeMessage(e, s.Will.Msg)
	}
	return e.b
}

func parseSession(v []byte, clientID string) (broker.SessionRecord, error) {
	d := newDecoder(v)
	s := broker.SessionRecord{ClientID: clientID, Username: d.str(), ProtocolVersion: d.byte()}
	s.ExpiryInterval = d.uint32()
	s.CreatedAt = d.varint()
	s.DisconnectedAt = d.varint()
	if d.bool() {
		w := &broker.Will{Delay: d.uint32()}
		w.Msg = decodeMessage(d, d.uvarint())
		s.Will = w
	}
	if err := d.finish(); err != nil {
		return broker.SessionRecord{}, fmt.Errorf("session %q: %w", clientID, err)
	}
	return s, nil
}

func subValue(e *encoder, s *broker.SubscriptionRecord) []byte {
	e.reset(formatV1)
	e.byte(s.QoS)
	e.bool(s.NoLocal)
	e.bool(s.RetainAsPublished)
	e.byte(s.RetainHandling)
	e.uvarint(uint64(s.ID))
	return e.b
}

func parseSub(v []byte, filter string) (broker.SubscriptionRecord, error) {
	d := newDecoder(v)
	s := broker.SubscriptionRecord{Filter: filter, QoS: d.byte(), NoLocal: d.bool()}
	s.RetainAsPublished = d.bool()
	s.RetainHandling = d.byte()
	s.ID = d.uint32()
	if err := d.finish(); err != nil {
		return broker.SubscriptionRecord{}, fmt.Errorf("subscription %q: %w", filter, err)
	}
	return s, nil
}

// queueValue encodes a queue entry; the message is stored under its own key
// and referenced by ID.
func queueValue(e *encoder, q *broker.QueueEntry) []byte {
	e.reset(formatV1)
	e.uvarint(q.Msg.ID)
	e.byte(q.QoS)
	e.bool(q.RetainFlag)
	e.uvarint(uint64(q.PacketID)) // [MQTT-4.4.0-1] resent with its original packet id
	e.byte(q.State)
	e.uvarint(uint64(len(q.SubIDs)))
	for _, id := range q.SubIDs {
		e.uvarint(uint64(id))
	}
	return e.b
}

// parseQueue decodes a queue entry but its message, returning the message ID.
func parseQueue(v []byte, seq uint64) (broker.QueueEntry, uint64, error) {
	d := newDecoder(v)
	msgID := d.uvarint()
	q := broker.QueueEntry{Seq: seq, QoS: d.byte(), RetainFlag: d.bool()}
	q.PacketID = d.uint16()
	q.State = d.byte()
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail(errTooLong)
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		q.SubIDs = append(q.SubIDs, d.uint32())
	}
	if err := d.finish(); err != nil {
		return broker.QueueEntry{}, 0, fmt.Errorf("queue entry %d: %w", seq, err)
	}
	return q, msgID, nil
}

// queueMessageID reads only the message ID of a queue entry value.
func queueMessageID(v []byte) (uint64, error) {
	d := newDecoder(v)
	id := d.uvarint()
	return id, d.err
}

// idValue encodes a bare message reference (retained index) or, with no
// reference, an incoming id marker.
func idValue(e *encoder, id uint64) []byte {
	e.reset(formatV1)
	e.uvarint(id)
	return e.b
}

func parseIDValue(v []byte) (uint64, error) {
	d := newDecoder(v)
	id := d.uvarint()
	return id, d.finish()
}

// markerValue is the value of an incoming id: just the version byte.
func markerValue(e *encoder) []byte {
	e.reset(formatV1)
	return e.b
}

func parseMarker(v []byte) error { return newDecoder(v).finish() }
