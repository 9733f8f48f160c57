package pebble

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// formatV1 is the first byte of every value written by this version.
const formatV1 byte = 1

// Sentinel errors for records that cannot be decoded.
var (
	// ErrCorrupt is wrapped by every decoding error.
	ErrCorrupt = errors.New("pebble store: corrupt record")
	// ErrVersion means a value starts with an unknown format version.
	ErrVersion = fmt.Errorf("%w: unknown format version", ErrCorrupt)

	errTruncated = fmt.Errorf("%w: truncated value", ErrCorrupt)
	errTrailing  = fmt.Errorf("%w: trailing bytes", ErrCorrupt)
	errBadFlags  = fmt.Errorf("%w: reserved flag bits set", ErrCorrupt)
	errTooLong   = fmt.Errorf("%w: length exceeds value", ErrCorrupt)
)

// encoder appends to a byte slice.
type encoder struct{ b []byte }

func (e *encoder) byte(v byte)        { e.b = append(e.b, v) }
func (e *encoder) uvarint(v uint64)   { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)     { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) str(s string)       { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) bytes(p []byte)     { e.uvarint(uint64(len(p))); e.b = append(e.b, p...) }
func (e *encoder) bool(v bool)        { e.byte(boolByte(v)) }
func (e *encoder) reset(version byte) { e.b = append(e.b[:0], version) }

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// decoder reads what encoder wrote. The first error sticks: later reads
// return zero values, and err reports it.
type decoder struct {
	b   []byte
	err error
}

// newDecoder checks the format version byte and returns a decoder for the
// rest of v.
func newDecoder(v []byte) *decoder {
	d := &decoder{b: v}
	if ver := d.byte(); d.err == nil && ver != formatV1 {
		d.err = fmt.Errorf("%w %d", ErrVersion, ver)
	}
	return d
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) < 1 {
		d.fail(errTruncated)
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) bool() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail(errBadFlags)
	return false
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(errTruncated)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(errTruncated)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// uint32 reads a uvarint that must fit 32 bits.
func (d *decoder) uint32() uint32 {
	v := d.uvarint()
	if v > 0xFFFFFFFF {
		d.fail(fmt.Errorf("%w: value %d overflows 32 bits", ErrCorrupt, v))
		return 0
	}
	return uint32(v)
}

// uint16 reads a uvarint that must fit 16 bits.
func (d *decoder) uint16() uint16 {
	v := d.uvarint()
	if v > 0xFFFF {
		d.fail(fmt.Errorf("%w: value %d overflows 16 bits", ErrCorrupt, v))
		return 0
	}
	return uint16(v)
}

// next returns the next n bytes, aliasing the input.
func (d *decoder) next(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail(errTooLong)
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string { return string(d.next(d.uvarint())) }

// bytes returns a copy of a length-prefixed byte string; nil when empty.
func (d *decoder) bytes() []byte {
	p := d.next(d.uvarint())
	if len(p) == 0 {
		return nil
	}
	return append([]byte(nil), p...)
}

// presentBytes is bytes for a field whose presence is recorded elsewhere:
// it returns a non-nil slice even when empty.
func (d *decoder) presentBytes() []byte {
	p := d.next(d.uvarint())
	if d.err != nil {
		return nil
	}
	return append([]byte{}, p...)
}

// finish reports the first error, or errTrailing if input is left over.
func (d *decoder) finish() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = errTrailing
	}
	return d.err
}
