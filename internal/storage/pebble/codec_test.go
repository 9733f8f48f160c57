package pebble

import (
	"bytes"
	"errors"
	"testing"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

func fullMessage() *broker.Message {
	p := &packet.Properties{
		PayloadFormat: 1, ContentType: []byte("ct"), ResponseTopic: []byte("rt"), CorrelationData: []byte{},
		User: []packet.UserProperty{{Key: []byte("k"), Value: []byte("v")}, {Key: []byte{}, Value: []byte{}}},
	}
	for _, id := range []packet.PropID{packet.PropPayloadFormat, packet.PropContentType, packet.PropResponseTopic, packet.PropCorrelationData} {
		p.Set(id)
	}
	return &broker.Message{ID: 42, Topic: "a/b", Payload: []byte("x"), QoS: 2, Retain: true, Props: p,
		Created: -5, Expiry: 1 << 62, From: "c", Node: "n"}
}

// values returns one encoded value of every record type with its parser.
func values() map[string]struct {
	v     []byte
	parse func([]byte) error
} {
	m := fullMessage()
	sess := &broker.SessionRecord{ClientID: "c", Username: "u", ProtocolVersion: 5, ExpiryInterval: broker.NeverExpire,
		CreatedAt: 1, DisconnectedAt: 2, Will: &broker.Will{Msg: m, Delay: 9}}
	e := &broker.QueueEntry{Seq: 3, Msg: m, QoS: 1, RetainFlag: true, SubIDs: []uint32{1, 2}, PacketID: 7, State: broker.StatePubrel}
	enc := func(f func(*encoder) []byte) []byte { return append([]byte(nil), f(&encoder{})...) }
	return map[string]struct {
		v     []byte
		parse func([]byte) error
	}{
		"message": {enc(func(e *encoder) []byte { return messageValue(e, m) }), func(v []byte) error { _, err := parseMessage(v, 42); return err }},
		"session": {enc(func(e *encoder) []byte { return sessionValue(e, sess) }), func(v []byte) error { _, err := parseSession(v, "c"); return err }},
		"sub": {enc(func(e *encoder) []byte {
			return subValue(e, &broker.SubscriptionRecord{Filter: "f", QoS: 2, NoLocal: true, ID: 5})
		}), func(v []byte) error { _, err := parseSub(v, "f"); return err }},
		"queue":    {enc(func(enc *encoder) []byte { return queueValue(enc, e) }), func(v []byte) error { _, _, err := parseQueue(v, 3); return err }},
		"retained": {enc(func(e *encoder) []byte { return idValue(e, 42) }), func(v []byte) error { _, err := parseIDValue(v); return err }},
		"incoming": {enc(markerValue), parseMarker},
	}
}

func TestPebbleCodecRoundTrip(t *testing.T) {
	m := fullMessage()
	v := messageValue(&encoder{}, m)
	got, err := parseMessage(v, 42)
	if err != nil {
		t.Fatalf("parseMessage: %v", err)
	}
	if got.Topic != m.Topic || !bytes.Equal(got.Payload, m.Payload) || got.Created != m.Created || got.Expiry != m.Expiry ||
		got.Props.Present != m.Props.Present || got.Props.CorrelationData == nil || len(got.Props.User) != 2 {
		t.Fatalf("round trip: got %+v props %+v", got, got.Props)
	}
	e := &broker.QueueEntry{Seq: 3, Msg: m, QoS: 1, RetainFlag: true, SubIDs: []uint32{1, 0xFFFFFFFF}, PacketID: 65535, State: 2}
	q, id, err := parseQueue(queueValue(&encoder{}, e), 3)
	if err != nil || id != 42 || q.PacketID != 65535 || q.SubIDs[1] != 0xFFFFFFFF || q.State != 2 || !q.RetainFlag {
		t.Fatalf("queue round trip: %+v id %d err %v", q, id, err)
	}
}

// TestPebbleCodecCorrupt checks that every truncation, a bad version byte
// and trailing bytes are reported as ErrCorrupt, never a panic.
func TestPebbleCodecCorrupt(t *testing.T) {
	for name, tc := range values() {
		if err := tc.parse(tc.v); err != nil {
			t.Fatalf("%s: valid value rejected: %v", name, err)
		}
		for n := range len(tc.v) {
			if err := tc.parse(tc.v[:n]); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s truncated to %d bytes: err = %v, want ErrCorrupt", name, n, err)
			}
		}
		bad := append([]byte{2}, tc.v[1:]...)
		if err := tc.parse(bad); !errors.Is(err, ErrVersion) {
			t.Fatalf("%s with version 2: err = %v, want ErrVersion", name, err)
		}
		if err := tc.parse(append(append([]byte(nil), tc.v...), 0)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s with a trailing byte: err = %v, want ErrCorrupt", name, err)
		}
	}
}

func TestPebbleKeys(t *testing.T) {
	ids := []string{"", "a", "ab", "a\x00", "\xff", string(make([]byte, 300))}
	keys := func(id string) [][]byte {
		return [][]byte{sessionKey(nil, id), subKey(nil, id, "f/#"), queueKey(nil, id, 1<<63), incomingKey(nil, id, 65535)}
	}
	for _, id := range ids {
		for _, k := range keys(id) {
			if ck, err := parseClientKey(k); err != nil || ck.clientID != id {
				t.Fatalf("parseClientKey(%q) = %+v, %v", k, ck, err)
			}
		}
		start, end := clientPrefix(nil, id), prefixEnd(clientPrefix(nil, id))
		for _, other := range ids {
			for _, k := range keys(other) {
				if in := bytes.Compare(k, start) >= 0 && bytes.Compare(k, end) < 0; in != (other == id) {
					t.Fatalf("key %q of client %q: in range of %q = %v", k, other, id, in)
				}
			}
		}
	}
	for _, bad := range [][]byte{{}, {'m'}, {'c'}, {'c', 5, 'a'}, {'c', 1, 'a', 9}, {'c', 1, 'a', kindQueue, 1}, {'c', 1, 'a', kindSession, 0}} {
		if _, err := parseClientKey(bad); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("parseClientKey(%q): err = %v, want ErrCorrupt", bad, err)
		}
	}
}

// FuzzPebbleDecode feeds arbitrary values to every parser: they must return
// an error or a record, never panic, and a decoded message must survive a
// re-encode and decode unchanged (the decoder accepts non-minimal varints,
// so the bytes themselves may differ).
func FuzzPebbleDecode(f *testing.F) {
	for _, tc := range values() {
		f.Add(tc.v)
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		for _, tc := range values() {
			_ = tc.parse(v)
		}
		_, _ = parseClientKey(v)
		m, err := parseMessage(v, 1)
		if err != nil {
			return
		}
		once := append([]byte(nil), messageValue(&encoder{}, m)...)
		m2, err := parseMessage(once, 1)
		if err != nil {
			t.Fatalf("re-encoded message %x does not decode: %v", once, err)
		}
		if twice := messageValue(&encoder{}, m2); !bytes.Equal(once, twice) {
			t.Fatalf("message encoding not stable: %x then %x", once, twice)
		}
	})
}
