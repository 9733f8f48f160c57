package packet

import (
	"encoding/binary"
	"unicode/utf8"
)

// reader walks a packet body. Every method fails with an error wrapping
// ErrMalformed when the field runs past the end of the body. Byte slices it
// returns alias the body, with their capacity clipped so that appending to
// one cannot overwrite the next field; empty fields come back nil.
type reader struct {
	b   []byte
	off int
}

// left returns the number of unread bytes.
func (r *reader) left() int { return len(r.b) - r.off }

func (r *reader) u8() (byte, error) {
	if r.off >= len(r.b) {
		return 0, errTruncated
	}
	r.off++
	return r.b[r.off-1], nil
}

func (r *reader) u16() (uint16, error) {
	if r.left() < 2 {
		return 0, errTruncated
	}
	r.off += 2
	return binary.BigEndian.Uint16(r.b[r.off-2:]), nil
}

func (r *reader) u32() (uint32, error) {
	if r.left() < 4 {
		return 0, errTruncated
	}
	r.off += 4
	return binary.BigEndian.Uint32(r.b[r.off-4:]), nil
}

// varint reads a Variable Byte Integer; inside a body a short one is malformed.
func (r *reader) varint() (int, error) {
	v, n, err := DecodeVarint(r.b[r.off:])
	if err == ErrShortBuffer {
		return 0, errTruncated
	}
	r.off += n
	return v, err
}

// packetID reads a Packet Identifier, which must not be 0 [MQTT-2.2.1-3].
func (r *reader) packetID() (uint16, error) {
	id, err := r.u16()
	if err == nil && id == 0 {
		return 0, errPacketIDZero
	}
	return id, err
}

// take returns the next n bytes.
func (r *reader) take(n int) ([]byte, error) {
	if n > r.left() {
		return nil, errTruncated
	}
	if n == 0 {
		return nil, nil
	}
	r.off += n
	return r.b[r.off-n : r.off : r.off], nil
}

// binary reads Binary Data: a two-byte length and that many bytes [MQTT-1.5.6].
func (r *reader) binary() ([]byte, error) {
	n, err := r.u16()
	if err != nil {
		return nil, err
	}
	return r.take(int(n))
}

// utf8 reads a UTF-8 Encoded String [MQTT-1.5.4] without copying it.
func (r *reader) utf8() ([]byte, error) {
	s, err := r.binary()
	if err == nil && !validUTF8(s) {
		return nil, errBadUTF8
	}
	return s, err
}

// str reads a UTF-8 Encoded String into a new string.
func (r *reader) str() (string, error) {
	s, err := r.utf8()
	return string(s), err
}

// rest returns the unread bytes.
func (r *reader) rest() []byte {
	b, _ := r.take(r.left())
	return b
}

// end fails when bytes are left over.
func (r *reader) end() error {
	if r.left() != 0 {
		return errTrailing
	}
	return nil
}

// validUTF8 reports whether b is well-formed UTF-8, which excludes the
// surrogates U+D800-U+DFFF [MQTT-1.5.4-1], and holds no U+0000
// [MQTT-1.5.4-2]. ASCII, the common case, is checked byte by byte.
func validUTF8(b []byte) bool {
	for i, c := range b {
		if c == 0 {
			return false
		}
		if c >= utf8.RuneSelf {
			return utf8.Valid(b[i:]) && !hasZero(b[i:])
		}
	}
	return true
}

func hasZero(b []byte) bool {
	for _, c := range b {
		if c == 0 {
			return true
		}
	}
	return false
}
