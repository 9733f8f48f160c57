package packet

// Append helpers for the primitive data types [MQTT-1.5]. Callers check the
// 65535-byte limit of strings and binary data beforehand (fieldsFit).

func appendU16(dst []byte, v uint16) []byte { return append(dst, byte(v>>8), byte(v)) }

func appendU32(dst []byte, v uint32) []byte {
	return append(dst, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// appendBinary appends Binary Data or a UTF-8 string held as bytes.
func appendBinary(dst, b []byte) []byte {
	return append(appendU16(dst, uint16(len(b))), b...)
}

// appendString appends a UTF-8 Encoded String.
func appendString(dst []byte, s string) []byte {
	return append(appendU16(dst, uint16(len(s))), s...)
}

// boolBit returns bit when b is true.
func boolBit(b bool, bit byte) byte {
	if b {
		return bit
	}
	return 0
}
