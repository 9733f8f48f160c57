package loadgen

import (
	"encoding/binary"
	"fmt"
)

// v5 property identifiers the tool acts on (MQTT 5.0 §2.2.2.2).
const (
	propServerKeepAlive byte = 0x13
	propReasonString    byte = 0x1F
	propReceiveMaximum  byte = 0x21
	propMaximumQoS      byte = 0x24
	propMaxPacketSize   byte = 0x27
)

// Property value encodings.
const (
	propNone byte = iota // unknown identifier: malformed
	propByte
	propTwo
	propFour
	propVarint
	propString // UTF-8 string or binary data
	propPair   // UTF-8 string pair
)

// propKinds maps each v5 property identifier to its value encoding.
var propKinds = [0x2B]byte{
	0x01: propByte, 0x02: propFour, 0x03: propString, 0x08: propString,
	0x09: propString, 0x0B: propVarint, 0x11: propFour, 0x12: propString,
	0x13: propTwo, 0x15: propString, 0x16: propString, 0x17: propByte,
	0x18: propFour, 0x19: propByte, 0x1A: propString, 0x1C: propString,
	0x1F: propString, 0x21: propTwo, 0x22: propTwo, 0x23: propTwo,
	0x24: propByte, 0x25: propByte, 0x26: propPair, 0x27: propFour,
	0x28: propByte, 0x29: propByte, 0x2A: propByte,
}

// propLen returns the length of the value of property id at the start of b.
func propLen(id byte, b []byte) int {
	kind := propNone
	if int(id) < len(propKinds) {
		kind = propKinds[id]
	}
	switch kind {
	case propByte:
		return 1
	case propTwo:
		return 2
	case propFour:
		return 4
	case propVarint:
		_, n := decodeVarint(b)
		return n
	case propString:
		return stringLen(b)
	case propPair:
		return pairLen(b)
	}
	return -1
}

// stringLen is the encoded length of the string at the start of b, or -1.
func stringLen(b []byte) int {
	if len(b) < 2 {
		return -1
	}
	return 2 + int(binary.BigEndian.Uint16(b))
}

// pairLen is the encoded length of the string pair at the start of b, or -1.
func pairLen(b []byte) int {
	k := stringLen(b)
	if k < 0 || k > len(b) {
		return -1
	}
	v := stringLen(b[k:])
	if v < 0 {
		return -1
	}
	return k + v
}

// walkProps calls f with each property's identifier and value.
func walkProps(props []byte, f func(id byte, val []byte)) error {
	for len(props) > 0 {
		id := props[0]
		n := propLen(id, props[1:])
		if n <= 0 || 1+n > len(props) {
			return fmt.Errorf("property 0x%02x: %w", id, ErrMalformed)
		}
		f(id, props[1:1+n])
		props = props[1+n:]
	}
	return nil
}

// connack is what the tool needs from a CONNACK.
type connack struct {
	code            byte   // v3 return code or v5 reason code
	receiveMax      uint16 // 65535 when absent
	maxQoS          byte   // 2 when absent
	maxPacketSize   uint32 // 0 when absent (no limit)
	serverKeepAlive int    // -1 when absent
	reason          string // v5 Reason String
}

// parseConnack decodes a CONNACK body.
func parseConnack(version byte, body []byte) (connack, error) {
	ca := connack{receiveMax: 65535, maxQoS: 2, serverKeepAlive: -1}
	if len(body) < 2 {
		return ca, fmt.Errorf("CONNACK: %w", ErrMalformed)
	}
	ca.code = body[1]
	if version != protoV5 || len(body) == 2 {
		return ca, nil
	}
	props, _, err := splitProps(body[2:])
	if err != nil {
		return ca, fmt.Errorf("CONNACK: %w", err)
	}
	if err := walkProps(props, ca.setProp); err != nil {
		return ca, fmt.Errorf("CONNACK: %w", err)
	}
	if ca.receiveMax == 0 { // a Protocol Error (MQTT 5.0 §3.2.2.3.3)
		return ca, fmt.Errorf("CONNACK Receive Maximum 0: %w", ErrMalformed)
	}
	return ca, nil
}

// setProp records one CONNACK property.
func (ca *connack) setProp(id byte, v []byte) {
	switch id {
	case propReceiveMaximum:
		ca.receiveMax = binary.BigEndian.Uint16(v)
	case propMaximumQoS:
		ca.maxQoS = v[0]
	case propMaxPacketSize:
		ca.maxPacketSize = binary.BigEndian.Uint32(v)
	case propServerKeepAlive:
		ca.serverKeepAlive = int(binary.BigEndian.Uint16(v))
	case propReasonString:
		ca.reason = string(v[2:])
	}
}

// check returns ErrRefused unless the CONNACK accepts the connection.
func (ca *connack) check() error {
	if ca.code == 0 {
		return nil
	}
	if ca.reason != "" {
		return fmt.Errorf("%w: CONNACK code 0x%02x (%s)", ErrRefused, ca.code, ca.reason)
	}
	return fmt.Errorf("%w: CONNACK code 0x%02x", ErrRefused, ca.code)
}

// parseSuback decodes a SUBACK body for a single filter and returns its
// return/reason code.
func parseSuback(version byte, body []byte) (byte, error) {
	if len(body) < 3 {
		return 0, fmt.Errorf("SUBACK: %w", ErrMalformed)
	}
	rest := body[2:]
	if version == protoV5 {
		var err error
		if _, rest, err = splitProps(rest); err != nil {
			return 0, fmt.Errorf("SUBACK: %w", err)
		}
	}
	if len(rest) < 1 {
		return 0, fmt.Errorf("SUBACK without reason code: %w", ErrMalformed)
	}
	return rest[0], nil
}
