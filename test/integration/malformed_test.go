package integration

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	mqtt3 "github.com/eclipse/paho.mqtt.golang"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// Byte builders for hand-made packets.

// wire frames a packet: the first header byte, the Remaining Length, the
// body.
func wire(first byte, body ...[]byte) []byte {
	var b []byte
	for _, p := range body {
		b = append(b, p...)
	}
	return append(append([]byte{first}, wireVarint(len(b))...), b...)
}

func wireVarint(n int) []byte {
	var out []byte
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		out = append(out, d)
		if n == 0 {
			return out
		}
	}
}

func wireU16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

func wireStr(s string) []byte { return append(wireU16(uint16(len(s))), s...) }

// wireProps is a property block: its length, then the properties.
func wireProps(ps ...[]byte) []byte {
	var b []byte
	for _, p := range ps {
		b = append(b, p...)
	}
	return append(wireVarint(len(b)), b...)
}

func propByte(id packet.PropID, v byte) []byte { return []byte{byte(id), v} }

func propU16(id packet.PropID, v uint16) []byte { return append([]byte{byte(id)}, wireU16(v)...) }

func propU32(id packet.PropID, v uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{byte(id)}, v)
}

func propStr(id packet.PropID, s string) []byte { return append([]byte{byte(id)}, wireStr(s)...) }

func propSubID(v int) []byte {
	return append([]byte{byte(packet.PropSubscriptionID)}, wireVarint(v)...)
}

var noProps = wireProps()

// malformedCase is bytes a connected client sends and the DISCONNECT reason
// code a v5 client must get (v5); v3, when set, is the 3.1.1 form, after
// which the connection must close with nothing sent.
type malformedCase struct {
	name string
	v5   []byte
	rc   packet.ReasonCode
	v3   []byte
}

const (
	rcMalformed = packet.MalformedPacket
	rcProtocol  = packet.ProtocolError
)

func malformedFramingCases() []malformedCase {
	return []malformedCase{
		{"remaining-length-5-bytes [MQTT-1.5.5-1]", []byte{0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}, rcMalformed, []byte{0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}},
		{"remaining-length-not-minimal [MQTT-1.5.5-1]", []byte{0xC0, 0x80, 0x00}, rcMalformed, []byte{0xC0, 0x80, 0x00}},
		{"remaining-length-over-max-packet-size [MQTT-3.2.2-15]", []byte{0x30, 0xFF, 0xFF, 0xFF, 0x7F}, packet.PacketTooLarge, []byte{0x30, 0xFF, 0xFF, 0xFF, 0x7F}},
		{"remaining-length-2MB-no-body [MQTT-3.2.2-15]", []byte{0x30, 0x80, 0x80, 0x80, 0x01}, packet.PacketTooLarge, []byte{0x30, 0x80, 0x80, 0x80, 0x01}},
		{"reserved-type-0 [2.1.2]", []byte{0x00, 0x00}, rcMalformed, []byte{0x00, 0x00}},
		{"subscribe-reserved-flags [MQTT-3.8.1-1]", wire(0x80, wireU16(1), noProps, wireStr("a"), []byte{0}), rcMalformed, wire(0x80, wireU16(1), wireStr("a"), []byte{0})},
		{"unsubscribe-reserved-flags [MQTT-3.10.1-1]", wire(0xA0, wireU16(1), noProps, wireStr("a")), rcMalformed, wire(0xA0, wireU16(1), wireStr("a"))},
		{"pubrel-reserved-flags [MQTT-3.6.1-1]", []byte{0x60, 2, 0, 1}, rcMalformed, []byte{0x60, 2, 0, 1}},
		{"puback-reserved-flags [MQTT-2.1.3-1]", []byte{0x41, 2, 0, 1}, rcMalformed, []byte{0x41, 2, 0, 1}},
		{"pingreq-reserved-flags [MQTT-2.1.3-1]", []byte{0xC1, 0}, rcMalformed, []byte{0xC1, 0}},
		{"disconnect-reserved-flags [MQTT-3.14.1-1]", []byte{0xE1, 0}, rcMalformed, []byte{0xE1, 0}},
		{"publish-qos3 [MQTT-3.3.1-4]", wire(0x36, wireStr("t"), wireU16(1), noProps), rcMalformed, wire(0x36, wireStr("t"), wireU16(1))},
		{"publish-dup-qos0 [MQTT-3.3.1-2]", wire(0x38, wireStr("t"), noProps), rcMalformed, wire(0x38, wireStr("t"))},
		{"pingreq-trailing-byte", []byte{0xC0, 1, 0}, rcMalformed, []byte{0xC0, 1, 0}},
		{"puback-trailing-byte", wire(0x40, wireU16(1), []byte{0}, noProps, []byte{0}), rcMalformed, []byte{0x40, 3, 0, 1, 0}},
		{"disconnect-trailing-byte", wire(0xE0, []byte{0}, noProps, []byte{0}), rcMalformed, []byte{0xE0, 1, 0}},
		{"publish-topic-truncated", wire(0x30, wireU16(9), []byte("ab")), rcMalformed, wire(0x30, wireU16(9), []byte("ab"))},
		{"publish-packet-id-truncated", wire(0x32, wireStr("t"), []byte{1}), rcMalformed, wire(0x32, wireStr("t"), []byte{1})},
		{"publish-props-truncated", wire(0x30, wireStr("t"), []byte{9, 1, 1}), rcMalformed, nil},
		{"subscribe-filter-truncated", wire(0x82, wireU16(1), noProps, wireU16(5), []byte("ab")), rcMalformed, wire(0x82, wireU16(1), wireU16(5), []byte("ab"))},
		{"subscribe-options-missing", wire(0x82, wireU16(1), noProps, wireStr("a")), rcMalformed, wire(0x82, wireU16(1), wireStr("a"))},
		{"puback-truncated", []byte{0x40, 1, 0}, rcMalformed, []byte{0x40, 1, 0}},
	}
}

func malformedContentCases() []malformedCase {
	return []malformedCase{
		{"publish-topic-bad-utf8 [MQTT-1.5.4-1]", wire(0x30, wireStr("a\xFFb"), noProps), rcMalformed, wire(0x30, wireStr("a\xFFb"))},
		{"publish-topic-surrogate [MQTT-1.5.4-1]", wire(0x30, wireStr("a\xED\xA0\x80"), noProps), rcMalformed, wire(0x30, wireStr("a\xED\xA0\x80"))},
		{"publish-topic-nul [MQTT-1.5.4-2]", wire(0x30, wireStr("a\x00b"), noProps), rcMalformed, wire(0x30, wireStr("a\x00b"))},
		{"publish-topic-plus [MQTT-3.3.2-2]", wire(0x30, wireStr("a/+"), noProps), packet.TopicNameInvalid, wire(0x30, wireStr("a/+"))},
		{"publish-topic-hash [MQTT-3.3.2-2]", wire(0x32, wireStr("a/#"), wireU16(1), noProps), packet.TopicNameInvalid, wire(0x32, wireStr("a/#"), wireU16(1))},
		{"publish-topic-empty [MQTT-4.7.3-1]", wire(0x30, wireStr(""), noProps, []byte("x")), rcProtocol, wire(0x30, wireStr(""), []byte("x"))},
		{"publish-packet-id-0 [MQTT-2.2.1-3]", wire(0x32, wireStr("t"), wireU16(0), noProps), rcProtocol, wire(0x32, wireStr("t"), wireU16(0))},
		{"subscribe-packet-id-0 [MQTT-2.2.1-3]", wire(0x82, wireU16(0), noProps, wireStr("a"), []byte{0}), rcProtocol, wire(0x82, wireU16(0), wireStr("a"), []byte{0})},
		{"unsubscribe-packet-id-0 [MQTT-2.2.1-3]", wire(0xA2, wireU16(0), noProps, wireStr("a")), rcProtocol, wire(0xA2, wireU16(0), wireStr("a"))},
		{"subscribe-no-filters [MQTT-3.8.3-2]", wire(0x82, wireU16(1), noProps), rcProtocol, wire(0x82, wireU16(1))},
		{"unsubscribe-no-filters [MQTT-3.10.3-2]", wire(0xA2, wireU16(1), noProps), rcProtocol, wire(0xA2, wireU16(1))},
		{"subscribe-filter-bad-utf8 [MQTT-3.8.3-1]", wire(0x82, wireU16(1), noProps, wireStr("\xFE"), []byte{0}), rcMalformed, wire(0x82, wireU16(1), wireStr("\xFE"), []byte{0})},
		{"subscribe-options-reserved-bits [MQTT-3.8.3-5]", wire(0x82, wireU16(1), noProps, wireStr("a"), []byte{0x40}), rcMalformed, wire(0x82, wireU16(1), wireStr("a"), []byte{0x04})},
		{"subscribe-options-qos3 [3.8.3.1]", wire(0x82, wireU16(1), noProps, wireStr("a"), []byte{0x03}), rcProtocol, wire(0x82, wireU16(1), wireStr("a"), []byte{0x03})},
		{"subscribe-retain-handling-3", wire(0x82, wireU16(1), noProps, wireStr("a"), []byte{0x30}), rcProtocol, nil},
		{"subscribe-no-local-shared [MQTT-3.8.3-4]", wire(0x82, wireU16(1), noProps, wireStr("$share/g/a"), []byte{0x04}), rcProtocol, nil},
		{"puback-reason-not-for-puback [MQTT-3.4.2-1]", wire(0x40, wireU16(1), []byte{0x92}), rcProtocol, nil},
		{"disconnect-reason-0x01 [MQTT-3.14.2-1]", []byte{0xE0, 1, 0x01}, rcProtocol, nil},
		{"server-packet-connack", wire(0x20, []byte{0, 0}, noProps), rcProtocol, []byte{0x20, 2, 0, 0}},
		{"server-packet-suback", wire(0x90, wireU16(1), noProps, []byte{0}), rcProtocol, []byte{0x90, 3, 0, 1, 0}},
		{"server-packet-unsuback", wire(0xB0, wireU16(1), noProps, []byte{0}), rcProtocol, []byte{0xB0, 2, 0, 1}},
		{"server-packet-pingresp", []byte{0xD0, 0}, rcProtocol, []byte{0xD0, 0}},
		{"auth-without-method [MQTT-4.12.0-7]", []byte{0xF0, 0}, rcProtocol, []byte{0xF0, 0}},
	}
}

// malformedPropertyCases are MQTT 5 only: properties and topic aliases.
func malformedPropertyCases() []malformedCase {
	pub := func(props []byte) []byte { return wire(0x30, wireStr("t"), props, []byte("x")) }
	return []malformedCase{
		{"publish-prop-not-for-publish [2.2.2.2]", pub(wireProps(propU32(packet.PropSessionExpiry, 1))), rcMalformed, nil},
		{"publish-prop-unknown-id [2.2.2.2]", pub(wireProps([]byte{0x05, 0})), rcMalformed, nil},
		{"publish-message-expiry-twice [3.3.2.3.3]", pub(wireProps(propU32(packet.PropMessageExpiry, 1), propU32(packet.PropMessageExpiry, 2))), rcProtocol, nil},
		{"publish-content-type-twice [3.3.2.3.9]", pub(wireProps(propStr(packet.PropContentType, "a"), propStr(packet.PropContentType, "b"))), rcProtocol, nil},
		{"publish-payload-format-2 [3.3.2.3.2]", pub(wireProps(propByte(packet.PropPayloadFormat, 2))), rcProtocol, nil},
		{"publish-subscription-id-from-client [MQTT-3.3.4-6]", pub(wireProps(propSubID(7))), rcProtocol, nil},
		{"publish-topic-alias-0 [MQTT-3.3.2-8]", pub(wireProps(propU16(packet.PropTopicAlias, 0))), packet.TopicAliasInvalid, nil},
		{"publish-topic-alias-over-maximum [MQTT-3.3.2-9]", pub(wireProps(propU16(packet.PropTopicAlias, 11))), packet.TopicAliasInvalid, nil},
		{"publish-unknown-topic-alias [3.3.2.3.4]", wire(0x30, wireStr(""), wireProps(propU16(packet.PropTopicAlias, 3)), []byte("x")), rcProtocol, nil},
		{"publish-props-length-5-bytes", wire(0x30, wireStr("t"), []byte{0xFF, 0xFF, 0xFF, 0xFF, 0x7F}), rcMalformed, nil},
		{"subscribe-prop-not-for-subscribe [2.2.2.2]", wire(0x82, wireU16(1), wireProps(propStr(packet.PropReasonString, "r")), wireStr("a"), []byte{0}), rcMalformed, nil},
		{"subscribe-two-subscription-ids [3.8.2.1.2]", wire(0x82, wireU16(1), wireProps(propSubID(1), propSubID(2)), wireStr("a"), []byte{0}), rcProtocol, nil},
		{"unsubscribe-prop-not-for-unsubscribe [2.2.2.2]", wire(0xA2, wireU16(1), wireProps(propU32(packet.PropMessageExpiry, 1)), wireStr("a")), rcMalformed, nil},
		{"puback-reason-string-twice", wire(0x40, wireU16(1), []byte{0}, wireProps(propStr(packet.PropReasonString, "a"), propStr(packet.PropReasonString, "b"))), rcProtocol, nil},
		{"disconnect-session-expiry-after-0 [MQTT-3.14.2-2]", wire(0xE0, []byte{0}, wireProps(propU32(packet.PropSessionExpiry, 30))), rcProtocol, nil},
	}
}

// secondConnect is a CONNECT on an established connection [MQTT-3.1.0-2].
func secondConnect(version byte) malformedCase {
	b, _ := (&packet.Connect{ProtocolVersion: version, ClientID: "again", CleanStart: true}).Append(nil, version)
	return malformedCase{name: "second-connect [MQTT-3.1.0-2]", v5: b, rc: rcProtocol}
}

// qos1Stream publishes QoS 1 messages from a v5 client to a 3.1.1
// subscriber until stopped, recording what arrives.
type qos1Stream struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	got  []string
	sent atomic.Int64
	err  error
}

func startStream(t *testing.T, s *testutil.Server) *qos1Stream {
	t.Helper()
	st := &qos1Stream{stop: make(chan struct{}), done: make(chan struct{})}
	sub := testutil.ConnectV3(t, s.TCP(), "stream-sub", func(o *mqtt3.ClientOptions) {
		o.SetDefaultPublishHandler(func(_ mqtt3.Client, m mqtt3.Message) {
			st.mu.Lock()
			st.got = append(st.got, string(m.Payload()))
			st.mu.Unlock()
		})
	})
	testutil.Wait(t, sub.Subscribe("stream/#", 1, nil))
	pub, _ := testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: "stream-pub", CleanStart: true})
	go st.run(pub)
	return st
}

func (st *qos1Stream) run(pub *testutil.V5) {
	defer close(st.done)
	for i := 0; ; i++ {
		select {
		case <-st.stop:
			return
		default:
		}
		ctx, cancel := contextTimeout()
		_, err := pub.Publish(ctx, &paho.Publish{Topic: "stream/x", QoS: 1, Payload: []byte(strconv.Itoa(i))})
		cancel()
		if err != nil {
			st.err = fmt.Errorf("publish %d: %w", i, err)
			return
		}
		st.sent.Store(int64(i + 1))
		time.Sleep(time.Millisecond) // pace the stream, not a wait for a condition
	}
}

// progress waits until the stream has published one more message and
// returns how many it has published.
func (st *qos1Stream) progress(t *testing.T) int64 {
	t.Helper()
	n := st.sent.Load()
	testutil.Eventually(t, testutil.Timeout, func() error {
		if st.sent.Load() <= n {
			return fmt.Errorf("stream stuck at %d messages", n)
		}
		return nil
	})
	return st.sent.Load()
}

// check stops the stream and verifies every message arrived, in order,
// once.
func (st *qos1Stream) check(t *testing.T) {
	t.Helper()
	close(st.stop)
	<-st.done
	sent := int(st.sent.Load())
	if st.err != nil {
		t.Fatalf("stream publisher: %v", st.err)
	}
	testutil.Eventually(t, testutil.Timeout, func() error {
		st.mu.Lock()
		defer st.mu.Unlock()
		if len(st.got) < sent {
			return fmt.Errorf("stream: %d of %d messages arrived", len(st.got), sent)
		}
		return nil
	})
	st.mu.Lock()
	defer st.mu.Unlock()
	for i, p := range st.got {
		if p != strconv.Itoa(i) {
			t.Fatalf("stream message %d is %q (of %d sent, %d received)", i, p, sent, len(st.got))
		}
	}
	if len(st.got) != sent {
		t.Fatalf("stream: %d sent, %d received", sent, len(st.got))
	}
}

// TestMalformed sends every kind of malformed or forbidden packet we can
// make, each on a fresh connection, while a QoS 1 stream runs between two
// other clients: a v5 client gets DISCONNECT with the reason code the spec
// names [MQTT-4.13.1-1], a 3.1.1 client's connection is closed with nothing
// sent [MQTT-4.8.0-1], the broker does not fall over, and the stream loses
// nothing.
func TestMalformed(t *testing.T) {
	s := testutil.RunServer(t, func(c *config.Config) { c.MQTT.MaxTopicAlias = 10 })
	stream := startStream(t, s)
	before := stream.progress(t)
	var cases []malformedCase
	cases = append(cases, malformedFramingCases()...)
	cases = append(cases, malformedContentCases()...)
	cases = append(cases, malformedPropertyCases()...)
	cases = append(cases, secondConnect(packet.V5))
	for i, tc := range cases {
		t.Run("v5/"+tc.name, func(t *testing.T) {
			c, _ := testutil.ConnectRawV5(t, s.TCP(), fmt.Sprint("bad5-", i))
			c.SendBytes(tc.v5)
			c.ExpectDisconnect(tc.rc)
		})
	}
	v3 := append(cases, malformedCase{name: "second-connect [MQTT-3.1.0-2]", v3: secondConnect(packet.V311).v5})
	for i, tc := range v3 {
		if tc.v3 == nil {
			continue
		}
		t.Run("v3/"+tc.name, func(t *testing.T) {
			c := testutil.DialRaw(t, s.TCP(), packet.V311)
			c.Connect(&packet.Connect{ClientID: fmt.Sprint("bad3-", i), CleanStart: true})
			c.SendBytes(tc.v3)
			if got := c.ExpectClosed(testutil.Timeout); len(got) != 0 {
				t.Fatalf("v3 client got %v before the close", got)
			}
		})
	}
	t.Run("random-garbage", func(t *testing.T) { randomGarbage(t, s) })
	if after := stream.sent.Load(); after <= before {
		t.Fatalf("the stream made no progress during the barrage (%d then %d)", before, after)
	}
	stream.check(t)
	testutil.WaitGauge(t, "connections", &s.Broker().Stats().Connections, 2)
}

func contextTimeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), testutil.Timeout)
}

// randomGarbage opens 200 connections that send a valid CONNECT and then
// up to 300 random bytes, some starting with a valid PUBLISH or SUBSCRIBE
// header byte, and close: whatever they decode to, the broker must survive.
func randomGarbage(t *testing.T, s *testutil.Server) {
	rng := rand.New(rand.NewPCG(1, 2))
	firsts := []byte{0x30, 0x32, 0x34, 0x82, 0xA2, 0x62, 0xE0, 0xF0}
	for i := range 200 {
		version := []byte{packet.V5, packet.V311, packet.V31}[i%3]
		c := testutil.DialRaw(t, s.TCP(), version)
		c.Connect(&packet.Connect{ClientID: fmt.Sprint("garbage-", i), CleanStart: true})
		b := make([]byte, 1+rng.IntN(300))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		if i%2 == 0 {
			b[0] = firsts[rng.IntN(len(firsts))]
		}
		c.SendBytes(b)
		_, _ = c.Read(5 * time.Millisecond)
		c.Conn.Close()
	}
}

// connectCase is a CONNECT (or a first packet) and the CONNACK reason code
// the broker must answer with before closing; noConnack means the
// connection closes with nothing sent.
type connectCase struct {
	name      string
	version   byte // the level the raw client decodes the answer with
	raw       []byte
	rc        packet.ReasonCode
	noConnack bool
}

func connectV5Bytes(flags byte, props []byte, payload ...[]byte) []byte {
	return wire(0x10, append([][]byte{wireStr("MQTT"), {5, flags}, wireU16(0), props}, payload...)...)
}

func connectV311Bytes(flags byte, payload ...[]byte) []byte {
	return wire(0x10, append([][]byte{wireStr("MQTT"), {4, flags}, wireU16(0)}, payload...)...)
}

func malformedConnectCases() []connectCase {
	id := wireStr("c")
	will := [][]byte{id, noProps, wireStr("w"), wireStr("p")}
	return []connectCase{
		{"first-packet-publish [MQTT-3.1.0-1]", packet.V5, wire(0x30, wireStr("t"), noProps), 0, true},
		{"first-packet-pingreq [MQTT-3.1.0-1]", packet.V311, []byte{0xC0, 0}, 0, true},
		{"v5-reserved-flag [MQTT-3.1.2-3]", packet.V5, connectV5Bytes(0x03, noProps, id), rcMalformed, false},
		{"v5-will-qos3 [MQTT-3.1.2-12]", packet.V5, connectV5Bytes(0x1E, noProps, will...), rcMalformed, false},
		{"v5-will-qos-without-will [MQTT-3.1.2-11]", packet.V5, connectV5Bytes(0x0A, noProps, id), rcMalformed, false},
		{"v5-will-retain-without-will [MQTT-3.1.2-13]", packet.V5, connectV5Bytes(0x22, noProps, id), rcMalformed, false},
		{"v5-will-topic-wildcard [MQTT-3.3.2-2]", packet.V5, connectV5Bytes(0x06, noProps, id, noProps, wireStr("w/#"), wireStr("p")), packet.TopicNameInvalid, false},
		{"v5-client-id-bad-utf8 [MQTT-1.5.4-1]", packet.V5, connectV5Bytes(0x02, noProps, wireStr("a\xC0\x80")), rcMalformed, false},
		{"v5-client-id-nul [MQTT-1.5.4-2]", packet.V5, connectV5Bytes(0x02, noProps, wireStr("a\x00")), rcMalformed, false},
		{"v5-prop-twice [3.1.2.11.2]", packet.V5, connectV5Bytes(0x02, wireProps(propU32(packet.PropSessionExpiry, 1), propU32(packet.PropSessionExpiry, 2)), id), rcProtocol, false},
		{"v5-receive-maximum-0 [3.1.2.11.3]", packet.V5, connectV5Bytes(0x02, wireProps(propU16(packet.PropReceiveMaximum, 0)), id), rcProtocol, false},
		{"v5-prop-not-for-connect [2.2.2.2]", packet.V5, connectV5Bytes(0x02, wireProps(propU16(packet.PropTopicAlias, 1)), id), rcMalformed, false},
		{"v5-trailing-byte", packet.V5, connectV5Bytes(0x02, noProps, id, []byte{0}), rcMalformed, false},
		{"v5-truncated", packet.V5, wire(0x10, wireStr("MQTT"), []byte{5}), rcMalformed, false},
		{"level-6 [MQTT-3.1.2-2]", packet.V311, wire(0x10, wireStr("MQTT"), []byte{6, 2}, wireU16(0), id), packet.V3UnacceptableProtocolVersion, false},
		{"protocol-name-MQTX [MQTT-3.1.2-1]", packet.V311, wire(0x10, wireStr("MQTX"), []byte{4, 2}, wireU16(0), id), packet.V3UnacceptableProtocolVersion, false},
		{"v311-reserved-flag [MQTT-3.1.2-3]", packet.V311, connectV311Bytes(0x03, id), 0, true},
		{"v311-will-qos3 [MQTT-3.1.2-14]", packet.V311, connectV311Bytes(0x1E, id, wireStr("w"), wireStr("p")), 0, true},
		{"v311-password-without-username [MQTT-3.1.2-22]", packet.V311, connectV311Bytes(0x42, id, wireStr("p")), 0, true},
		{"v311-empty-id-persistent [MQTT-3.1.3-8]", packet.V311, connectV311Bytes(0x00, wireStr("")), packet.V3IdentifierRejected, false},
		{"v311-trailing-byte", packet.V311, connectV311Bytes(0x02, id, []byte{0}), 0, true},
	}
}

// TestMalformedConnect sends malformed or refused CONNECT packets: a v5
// client gets CONNACK with the reason code and the connection closes
// [MQTT-3.2.2-7]; a 3.1.1 client gets the return code where 3.1.1 has one
// [MQTT-3.2.2-5], else the connection just closes [MQTT-3.1.4-1].
func TestMalformedConnect(t *testing.T) {
	s := testutil.RunServer(t)
	rec := testutil.RecordClients(s)
	for _, tc := range malformedConnectCases() {
		t.Run(tc.name, func(t *testing.T) {
			c := testutil.DialRaw(t, s.TCP(), tc.version)
			c.SendBytes(tc.raw)
			got := c.ExpectClosed(testutil.Timeout)
			if tc.noConnack {
				if len(got) != 0 {
					t.Fatalf("got %v before the close, want nothing", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %v, want one CONNACK", got)
			}
			if ack, ok := got[0].(*packet.Connack); !ok || ack.ReasonCode != tc.rc {
				t.Fatalf("got %+v, want CONNACK %#x", got[0], byte(tc.rc))
			}
		})
	}
	if ids := rec.IDs(); len(ids) != 0 {
		t.Fatalf("clients connected: %v", ids)
	}
}
