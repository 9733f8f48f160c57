// Package storage holds what the broker.Store implementations share: their
// sentinel errors and the validation of ops. The implementations live in the
// subpackages memory (no persistence) and pebble (durable); storetest is the
// conformance suite both pass.
package storage

import (
	"errors"
	"fmt"

	"github.com/herald-mqtt/herald/internal/broker"
)

// Sentinel errors passed to Commit's done.
var (
	// ErrClosed is passed to done by a Commit after Close.
	ErrClosed = errors.New("store closed")
	// ErrInvalidOp is passed to done for a Commit with a malformed op (an
	// unknown kind, or a put without its record); none of its ops is applied.
	ErrInvalidOp = errors.New("invalid store op")
)

// Validate checks that every op carries what its kind needs.
func Validate(ops []broker.StoreOp) error {
	for i := range ops {
		if err := validateOp(&ops[i]); err != nil {
			return fmt.Errorf("%w: op %d: %w", ErrInvalidOp, i, err)
		}
	}
	return nil
}

func validateOp(op *broker.StoreOp) error {
	missing := false
	switch op.Kind {
	case broker.OpPutSession:
		missing = op.Session == nil || (op.Session.Will != nil && op.Session.Will.Msg == nil)
	case broker.OpPutSub:
		missing = op.Sub == nil
	case broker.OpPutQueue:
		missing = op.Entry == nil || op.Entry.Msg == nil
	case broker.OpPutRetained:
		missing = op.Msg == nil
	case broker.OpDeleteSession, broker.OpDeleteSub, broker.OpDeleteQueue,
		broker.OpPutIncoming, broker.OpDeleteIncoming, broker.OpDeleteRetained:
	default:
		return fmt.Errorf("unknown kind %d", op.Kind)
	}
	if missing {
		return fmt.Errorf("kind %d: missing record", op.Kind)
	}
	return nil
}
