package broker

import (
	"errors"
	"fmt"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

// closeError ends a connection with an MQTT reason code (sent in a v5
// DISCONNECT, or a CONNACK before the connection is established).
type closeError struct {
	code packet.ReasonCode
	msg  string
}

func (e *closeError) Error() string { return e.code.String() + ": " + e.msg }
func (e *closeError) Unwrap() error { return e.code }

func protoErr(msg string) error { return &closeError{packet.ProtocolError, msg} }

func reasonErr(rc packet.ReasonCode, msg string) error { return &closeError{rc, msg} }

func errTooLarge(n int) error {
	return &closeError{packet.PacketTooLarge, fmt.Sprintf("packet of %d bytes exceeds mqtt.max_packet_size", n)}
}

// Sentinel connection endings that are not failures.
var (
	errNormalDisconnect = errors.New("client disconnected")
)

// ErrNotFound is returned for an unknown client id.
var ErrNotFound = errors.New("broker: not found")

// ErrStoreTimeout is returned when a durable commit does not complete in time.
var ErrStoreTimeout = errors.New("broker: store commit timed out")

// ErrShuttingDown is returned once Shutdown has begun.
var ErrShuttingDown = errors.New("broker: shutting down")

// closeReason is the Reason String sent with a DISCONNECT for err.
func closeReason(err error) string {
	var ce *closeError
	if errors.As(err, &ce) {
		return ce.msg
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// reasonOf extracts the MQTT reason code an error carries, or
// UnspecifiedError.
func reasonOf(err error) packet.ReasonCode {
	var rc packet.ReasonCode
	if errors.As(err, &rc) {
		return rc
	}
	return packet.UnspecifiedError
}
