package packet

// Variable Byte Integers [MQTT-1.5.5] carry the Remaining Length, property
// lengths and Subscription Identifiers: seven bits per byte, least significant
// group first, the top bit set on every byte but the last, at most four bytes.

// AppendVarint appends v as a Variable Byte Integer. v must lie in
// [0, MaxRemaining]; the encoders check that before calling it.
func AppendVarint(dst []byte, v int) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// VarintSize returns the number of bytes AppendVarint writes for v.
func VarintSize(v int) int {
	switch {
	case v < 1<<7:
		return 1
	case v < 1<<14:
		return 2
	case v < 1<<21:
		return 3
	}
	return 4
}

// DecodeVarint decodes the Variable Byte Integer at the start of b and returns
// its value and length. It returns ErrShortBuffer when b ends inside the
// integer, and an error wrapping ErrMalformed for more than four bytes or an
// encoding longer than necessary [MQTT-1.5.5-1].
func DecodeVarint(b []byte) (v, n int, err error) {
	for shift := 0; n < len(b); shift += 7 {
		c := b[n]
		n++
		v |= int(c&0x7F) << shift
		if c < 0x80 {
			return varintDone(v, n, c)
		}
		if n == 4 {
			return 0, 0, errVarintTooLong
		}
	}
	return 0, 0, ErrShortBuffer
}

// varintDone rejects a final zero group after the first byte: the value would
// fit in fewer bytes [MQTT-1.5.5-1].
func varintDone(v, n int, last byte) (int, int, error) {
	if n > 1 && last == 0 {
		return 0, 0, errVarintNotMinimal
	}
	return v, n, nil
}
