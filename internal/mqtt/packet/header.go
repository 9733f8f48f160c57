package packet

// fixedFlags holds the only flags nibble allowed for each packet type other
// than PUBLISH [MQTT-2.1.3-1]: 0010 for PUBREL, SUBSCRIBE and UNSUBSCRIBE
// [MQTT-3.6.1-1] [MQTT-3.8.1-1] [MQTT-3.10.1-1], 0000 for the rest.
var fixedFlags = [16]byte{PUBREL: 2, SUBSCRIBE: 2, UNSUBSCRIBE: 2}

// ParseFixedHeader parses the fixed header at the start of b and returns it
// with its length in bytes. It returns ErrShortBuffer when b holds only part
// of the header, and an error wrapping ErrMalformed for the reserved packet
// type 0, reserved flag bits that are not as Table 2-2 lists, PUBLISH QoS 3 or
// DUP on QoS 0, and a Remaining Length that is not a valid Variable Byte
// Integer [MQTT-1.5.5-1].
func ParseFixedHeader(b []byte) (FixedHeader, int, error) {
	if len(b) == 0 {
		return FixedHeader{}, 0, ErrShortBuffer
	}
	fh := FixedHeader{Type: Type(b[0] >> 4), Flags: b[0] & 0x0F}
	if err := checkFlags(fh); err != nil {
		return FixedHeader{}, 0, err
	}
	rem, n, err := DecodeVarint(b[1:])
	if err != nil {
		return FixedHeader{}, 0, err
	}
	fh.Remaining = rem
	return fh, 1 + n, nil
}

// checkFlags validates the packet type and the flags nibble.
func checkFlags(fh FixedHeader) error {
	switch {
	case fh.Type == 0 || fh.Type > AUTH:
		return malformed("reserved packet type %d", fh.Type)
	case fh.Type == PUBLISH:
		return checkPublishFlags(fh.Flags)
	case fh.Flags != fixedFlags[fh.Type]:
		return malformed("%s flags %04b, want %04b [MQTT-2.1.3-1]", fh.Type, fh.Flags, fixedFlags[fh.Type])
	}
	return nil
}

// checkPublishFlags rejects QoS 3 [MQTT-3.3.1-4] and DUP on QoS 0 [MQTT-3.3.1-2].
func checkPublishFlags(f byte) error {
	switch {
	case f > 0x0F:
		return malformed("PUBLISH flags %#x do not fit a nibble", f)
	case f&0x06 == 0x06:
		return malformed("PUBLISH QoS 3 [MQTT-3.3.1-4]")
	case f&0x0E == 0x08:
		return malformed("PUBLISH DUP set on QoS 0 [MQTT-3.3.1-2]")
	}
	return nil
}

// checkBody validates what every decoder checks first: the type it was handed,
// the flags, and a body of exactly Remaining bytes.
func checkBody(fh FixedHeader, t Type, body []byte) error {
	if fh.Type != t {
		return malformed("%s packet handed to the %s decoder", fh.Type, t)
	}
	if err := checkFlags(fh); err != nil {
		return err
	}
	if len(body) != fh.Remaining {
		return errBodyLength
	}
	return nil
}

// checkVersion accepts the protocol levels this codec speaks.
func checkVersion(v byte) error {
	if v < V31 || v > V5 {
		return badVersion(v)
	}
	return nil
}

// appendHeader appends a fixed header: the first byte and the Remaining Length.
func appendHeader(dst []byte, first byte, remaining int) []byte {
	return AppendVarint(append(dst, first), remaining)
}

// totalSize returns the full packet length for a Remaining Length.
func totalSize(remaining int) int { return 1 + VarintSize(remaining) + remaining }
