package loadgen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Control packet types (MQTT 3.1.1 §2.2.1, MQTT 5.0 §2.1.2).
const (
	typeConnect    byte = 1
	typeConnack    byte = 2
	typePublish    byte = 3
	typePuback     byte = 4
	typePubrec     byte = 5
	typePubrel     byte = 6
	typePubcomp    byte = 7
	typeSubscribe  byte = 8
	typeSuback     byte = 9
	typePingreq    byte = 12
	typePingresp   byte = 13
	typeDisconnect byte = 14
)

// Protocol levels sent in CONNECT.
const (
	protoV311 byte = 4
	protoV5   byte = 5
)

// Sentinel errors callers branch on.
var (
	// ErrMalformed is a packet from the broker that cannot be decoded.
	ErrMalformed = errors.New("malformed packet")
	// ErrRefused is a CONNACK or SUBACK refusing the request.
	ErrRefused = errors.New("refused by broker")
	// ErrUnexpected is a packet of the wrong type during the handshake.
	ErrUnexpected = errors.New("unexpected packet")
)

var (
	pktPingreq = []byte{typePingreq << 4, 0}
	// A v5 DISCONNECT may omit Reason Code 0x00 and the properties
	// (MQTT 5.0 §3.14.2.1), so both versions use the same two bytes.
	pktDisconnect = []byte{typeDisconnect << 4, 0}
)

// appendVarint appends n as a Variable Byte Integer, in the minimum number of
// bytes [MQTT-1.5.5-1].
func appendVarint(b []byte, n int) []byte {
	for {
		d := byte(n & 0x7f)
		n >>= 7
		if n == 0 {
			return append(b, d)
		}
		b = append(b, d|0x80)
	}
}

// decodeVarint decodes a Variable Byte Integer at the start of b. n is the
// number of bytes it took: 0 means b ends before the integer does, -1 that it
// is longer than four bytes.
func decodeVarint(b []byte) (val, n int) {
	shift := 0
	for i := 0; i < 4; i++ {
		if i >= len(b) {
			return 0, 0
		}
		val |= int(b[i]&0x7f) << shift
		if b[i]&0x80 == 0 {
			return val, i + 1
		}
		shift += 7
	}
	return 0, -1
}

// appendString appends a length-prefixed UTF-8 string (or binary data).
func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// appendPacket appends a fixed header and body.
func appendPacket(dst []byte, hdr byte, body []byte) []byte {
	dst = append(dst, hdr)
	dst = appendVarint(dst, len(body))
	return append(dst, body...)
}

// connectOpts is what a CONNECT carries: no will, no v5 properties.
type connectOpts struct {
	version   byte
	clientID  string
	keepalive uint16
	clean     bool
	username  string
	password  string
}

// flags returns the Connect Flags byte; the reserved bit stays 0
// [MQTT-3.1.2-3].
func (o *connectOpts) flags() byte {
	var f byte
	if o.clean {
		f |= 0x02
	}
	if o.password != "" {
		f |= 0x40
	}
	if o.username != "" {
		f |= 0x80
	}
	return f
}

// encodeConnect builds a CONNECT packet, the first packet on a connection
// [MQTT-3.1.0-1].
func encodeConnect(o *connectOpts) []byte {
	b := appendString(nil, "MQTT") // [MQTT-3.1.2-1]
	b = append(b, o.version, o.flags())
	b = binary.BigEndian.AppendUint16(b, o.keepalive)
	if o.version == protoV5 {
		b = append(b, 0) // Property Length 0 [MQTT-2.2.2-1]
	}
	b = appendString(b, o.clientID) // [MQTT-3.1.3-3]
	if o.username != "" {
		b = appendString(b, o.username)
	}
	if o.password != "" {
		b = appendString(b, o.password)
	}
	return appendPacket(nil, typeConnect<<4, b)
}

// encodeSubscribe builds a SUBSCRIBE for one filter. In v5 the options byte
// carries only the maximum QoS (No Local, Retain As Published and Retain
// Handling 0).
func encodeSubscribe(version byte, pid uint16, filter string, qos byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, pid)
	if version == protoV5 {
		b = append(b, 0)
	}
	b = appendString(b, filter)
	b = append(b, qos)
	return appendPacket(nil, typeSubscribe<<4|0x02, b) // [MQTT-3.8.1-1]
}

// pubPacket is one encoded PUBLISH and where to patch it.
type pubPacket struct {
	pkt    []byte
	pidOff int // offset of the packet id, -1 for QoS 0 [MQTT-2.2.1-2]
	payOff int // offset of the payload
}

// encodePublish builds a PUBLISH with packet id 0, to be patched per send.
func encodePublish(version byte, topic string, qos byte, payload []byte) pubPacket {
	body := appendString(nil, topic)
	p := pubPacket{pidOff: -1}
	if qos > 0 {
		p.pidOff = len(body)
		body = append(body, 0, 0)
	}
	if version == protoV5 {
		body = append(body, 0) // no properties
	}
	p.payOff = len(body)
	body = append(body, payload...)
	p.pkt = appendPacket(nil, typePublish<<4|qos<<1, body)
	shift := len(p.pkt) - len(body)
	if p.pidOff >= 0 {
		p.pidOff += shift
	}
	p.payOff += shift
	return p
}

// appendAck appends a PUBACK, PUBREC, PUBREL or PUBCOMP. PUBREL has the
// reserved flags 0010 [MQTT-3.6.1-1]. The v5 Reason Code 0x00 and empty
// properties are omitted (MQTT 5.0 §3.4.2.1), so the same four bytes serve
// both versions.
func appendAck(b []byte, typ byte, pid uint16) []byte {
	hdr := typ << 4
	if typ == typePubrel {
		hdr |= 0x02
	}
	return append(b, hdr, 2, byte(pid>>8), byte(pid))
}

// readPacket reads one packet during the handshake. It reads the fixed
// header byte by byte so nothing past the packet is consumed.
func readPacket(r io.Reader) (hdr byte, body []byte, err error) {
	var one [1]byte
	if _, err = io.ReadFull(r, one[:]); err != nil {
		return 0, nil, err
	}
	hdr = one[0]
	var lenBytes []byte
	for {
		if _, err = io.ReadFull(r, one[:]); err != nil {
			return 0, nil, err
		}
		lenBytes = append(lenBytes, one[0])
		n, used := decodeVarint(lenBytes)
		if used < 0 {
			return 0, nil, fmt.Errorf("remaining length: %w", ErrMalformed)
		}
		if used > 0 {
			body = make([]byte, n)
			_, err = io.ReadFull(r, body)
			return hdr, body, err
		}
	}
}

// splitProps splits a v5 Property Length and properties off the front of b.
func splitProps(b []byte) (props, rest []byte, err error) {
	n, used := decodeVarint(b)
	if used <= 0 || used+n > len(b) {
		return nil, nil, fmt.Errorf("property length: %w", ErrMalformed)
	}
	return b[used : used+n], b[used+n:], nil
}
