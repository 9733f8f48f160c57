package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

// Persistent is implemented by stores whose data outlives Close.
type Persistent interface{ Persistent() bool }

// MessageCounter is implemented by stores that can count the messages they
// hold (each stored once, whatever its number of references).
type MessageCounter interface {
	StoredMessages() (int, error)
}

// message returns a message with every field set, derived from id so that
// two calls with the same id give equal messages.
func message(id uint64, topic string) *broker.Message {
	p := &packet.Properties{
		PayloadFormat:   1,
		ContentType:     []byte("text/plain"),
		ResponseTopic:   []byte("reply/" + topic),
		CorrelationData: []byte{0, 1, 2, byte(id)},
		User: []packet.UserProperty{
			{Key: []byte("k"), Value: []byte("v1")},
			{Key: []byte("k"), Value: []byte("v2")}, // repeated keys keep their order
			{Key: []byte("empty"), Value: []byte{}},
		},
	}
	p.Set(packet.PropPayloadFormat)
	p.Set(packet.PropContentType)
	p.Set(packet.PropResponseTopic)
	p.Set(packet.PropCorrelationData)
	return &broker.Message{
		ID:      id,
		Topic:   topic,
		Payload: []byte(fmt.Sprintf("payload %d \x00\xff", id)),
		QoS:     byte(id % 3),
		Retain:  id%2 == 0,
		Props:   p,
		Created: 1_700_000_000_000_000_000 + int64(id),
		Expiry:  int64(id) * 1_000_000_007,
		From:    fmt.Sprintf("publisher-%d", id),
		Node:    "node-a",
	}
}

// plainMessage is a message without properties.
func plainMessage(id uint64, topic string) *broker.Message {
	return &broker.Message{ID: id, Topic: topic, Payload: []byte("p"), QoS: 1}
}

func session(clientID string) *broker.SessionRecord {
	return &broker.SessionRecord{
		ClientID:        clientID,
		Username:        "user-" + clientID,
		ProtocolVersion: 5,
		ExpiryInterval:  broker.NeverExpire,
		CreatedAt:       1_700_000_000_123_456_789,
		DisconnectedAt:  1_700_000_100_000_000_000,
	}
}

func sessionWithWill(clientID string, msgID uint64) *broker.SessionRecord {
	s := session(clientID)
	s.Will = &broker.Will{Msg: message(msgID, "will/"+clientID), Delay: 30}
	return s
}

func sub(filter string, qos byte) *broker.SubscriptionRecord {
	return &broker.SubscriptionRecord{Filter: filter, QoS: qos, NoLocal: true, RetainAsPublished: true, RetainHandling: 2, ID: 268435455}
}

func entry(seq uint64, m *broker.Message) *broker.QueueEntry {
	return &broker.QueueEntry{Seq: seq, Msg: m, QoS: 1, RetainFlag: true, SubIDs: []uint32{1, 268435455}}
}

// Op constructors.

func putSession(s *broker.SessionRecord) broker.StoreOp {
	return broker.StoreOp{Kind: broker.OpPutSession, Session: s}
}

func deleteSession(client string) broker.StoreOp {
	return broker.StoreOp{Kind: broker.OpDeleteSession, ClientID: client}
}

func putSub(client string, s *broker.SubscriptionRecord) broker.StoreOp {
	return broker.StoreOp{Kind: broker.OpPutSub, ClientID: client, Sub: s}
}

func deleteSub(client, filter string) broker.StoreOp {
	return broker.StoreOp{Kind: broker.OpDeleteSub, ClientID: client, Filter: filter}
}

func putQueue(client string, e *broker.QueueEntry) broker.StoreOp {
	return broker.StoreOp{Kind: broker.OpPutQueue, ClientID: client, Entry: e}
}

func deleteQueue(client string, seq uint64) broker.StoreOp {
	return broker.StoreOp{Kind: broker.OpDeleteQueue, ClientID: client, Seq: seq}
}

func putIncoming(client string, id uint16) broker.StoreOp {
	return broker.StoreOp{Kind: broker.OpPutIncoming, ClientID: client, PacketID: id}
}

func deleteIncoming(client string, id uint16) broker.StoreOp {
	return broker.StoreOp{Kind: broker.OpDeleteIncoming, ClientID: client, PacketID: id}
}

func putRetained(m *broker.Message) broker.StoreOp {
	return broker.StoreOp{Kind: broker.OpPutRetained, Msg: m}
}

func deleteRetained(topic string) broker.StoreOp {
	return broker.StoreOp{Kind: broker.OpDeleteRetained, Topic: topic}
}

// Comparison: nil and empty byte slices are equal, everything else exact.

// diffMessage describes how got differs from want, "" when equal.
func diffMessage(got, want *broker.Message) string {
	if got == nil || want == nil {
		if got != want {
			return fmt.Sprintf("message %v, want %v", got, want)
		}
		return ""
	}
	g, w := messageFields(got), messageFields(want)
	switch {
	case g != w:
		return fmt.Sprintf("message %+v, want %+v", g, w)
	case !bytes.Equal(got.Payload, want.Payload):
		return fmt.Sprintf("message %d payload %q, want %q", got.ID, got.Payload, want.Payload)
	}
	return diffProps(got.Props, want.Props)
}

// diffProps compares the properties a store keeps for a message.
func diffProps(got, want *packet.Properties) string {
	if got == nil || want == nil {
		if got != want {
			return fmt.Sprintf("props %+v, want %+v", got, want)
		}
		return ""
	}
	var d []string
	if got.Present != want.Present || got.PayloadFormat != want.PayloadFormat {
		d = append(d, fmt.Sprintf("present %b format %d, want %b %d", got.Present, got.PayloadFormat, want.Present, want.PayloadFormat))
	}
	for _, f := range [][2][]byte{{got.ContentType, want.ContentType}, {got.ResponseTopic, want.ResponseTopic}, {got.CorrelationData, want.CorrelationData}} {
		if !bytes.Equal(f[0], f[1]) {
			d = append(d, fmt.Sprintf("property %q, want %q", f[0], f[1]))
		}
	}
	if !slices.EqualFunc(got.User, want.User, func(a, b packet.UserProperty) bool {
		return bytes.Equal(a.Key, b.Key) && bytes.Equal(a.Value, b.Value)
	}) {
		d = append(d, fmt.Sprintf("user properties %q, want %q", got.User, want.User))
	}
	return strings.Join(d, "; ")
}

func diffSession(got, want *broker.SessionRecord) string {
	g, w := *got, *want
	g.Will, w.Will = nil, nil
	if g != w {
		return fmt.Sprintf("session %+v, want %+v", g, w)
	}
	if (got.Will == nil) != (want.Will == nil) {
		return fmt.Sprintf("will %v, want %v", got.Will, want.Will)
	}
	if got.Will == nil {
		return ""
	}
	if got.Will.Delay != want.Will.Delay {
		return fmt.Sprintf("will delay %d, want %d", got.Will.Delay, want.Will.Delay)
	}
	return diffMessage(got.Will.Msg, want.Will.Msg)
}

func diffEntry(got, want *broker.QueueEntry) string {
	g, w := entryFields(got), entryFields(want)
	if g != w || !slices.Equal(got.SubIDs, want.SubIDs) {
		return fmt.Sprintf("queue entry %+v %v, want %+v %v", g, got.SubIDs, w, want.SubIDs)
	}
	return diffMessage(got.Msg, want.Msg)
}

// scalars are the comparable fields of a message.
type scalars struct {
	ID         uint64
	Topic      string
	QoS        byte
	Retain     bool
	Created    int64
	Expiry     int64
	From, Node string
}

func messageFields(m *broker.Message) scalars {
	return scalars{m.ID, m.Topic, m.QoS, m.Retain, m.Created, m.Expiry, m.From, m.Node}
}

// entryScalars are the comparable fields of a queue entry.
type entryScalars struct {
	Seq        uint64
	QoS        byte
	RetainFlag bool
	PacketID   uint16
	State      byte
}

func entryFields(e *broker.QueueEntry) entryScalars {
	return entryScalars{e.Seq, e.QoS, e.RetainFlag, e.PacketID, e.State}
}
