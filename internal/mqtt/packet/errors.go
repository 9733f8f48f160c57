package packet

import "fmt"

// Preallocated errors for the decoding hot paths: returning them costs no
// allocation. Each wraps the ReasonCode the broker must act on.
var (
	errVarintTooLong    = fmt.Errorf("%w: variable byte integer longer than 4 bytes [MQTT-1.5.5-1]", ErrMalformed)
	errVarintNotMinimal = fmt.Errorf("%w: variable byte integer not minimally encoded [MQTT-1.5.5-1]", ErrMalformed)
	errTruncated        = fmt.Errorf("%w: field runs past the end of the packet", ErrMalformed)
	errTrailing         = fmt.Errorf("%w: bytes left after the last field", ErrMalformed)
	errBadUTF8          = fmt.Errorf("%w: string is not well-formed UTF-8 or contains U+0000 [MQTT-1.5.4-1] [MQTT-1.5.4-2]", ErrMalformed)
	errBodyLength       = fmt.Errorf("%w: body length differs from the Remaining Length", ErrMalformed)
	errPacketIDZero     = fmt.Errorf("%w: packet identifier 0 [MQTT-2.2.1-3]", ErrProtocol)
	errFieldTooLong     = fmt.Errorf("%w: string or binary field longer than 65535 bytes", ErrMalformed)
	errTooLarge         = fmt.Errorf("%w: Remaining Length above %d", ErrPacketTooLarge, MaxRemaining)
	errEmptyTopic       = fmt.Errorf("%w: empty topic name without a Topic Alias [MQTT-4.7.3-1]", ErrProtocol)
)

// malformed returns an error wrapping ErrMalformed with a formatted detail.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// protocolErr returns an error wrapping ErrProtocol with a formatted detail.
func protocolErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, args...)...)
}

// badVersion reports a protocol level the codec does not speak.
func badVersion(v byte) error {
	return fmt.Errorf("%w: protocol level %d", ErrUnsupportedProtocolVersion, v)
}
