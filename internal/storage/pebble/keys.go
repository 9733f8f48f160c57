package pebble

import (
	"encoding/binary"
	"fmt"
)

// Key prefixes.
const (
	prefixClient   byte = 'c'
	prefixMessage  byte = 'm'
	prefixRetained byte = 'r'
)

// Record kinds inside a client's key range, in scan order.
const (
	kindSession  byte = 1
	kindSub      byte = 2
	kindQueue    byte = 3
	kindIncoming byte = 4
)

// clientPrefix appends 'c' uvarint(len(id)) id to b.
func clientPrefix(b []byte, clientID string) []byte {
	b = append(b, prefixClient)
	b = binary.AppendUvarint(b, uint64(len(clientID)))
	return append(b, clientID...)
}

func sessionKey(b []byte, clientID string) []byte {
	return append(clientPrefix(b, clientID), kindSession)
}

func subKey(b []byte, clientID, filter string) []byte {
	return append(append(clientPrefix(b, clientID), kindSub), filter...)
}

func queueKey(b []byte, clientID string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(append(clientPrefix(b, clientID), kindQueue), seq)
}

func incomingKey(b []byte, clientID string, id uint16) []byte {
	return binary.BigEndian.AppendUint16(append(clientPrefix(b, clientID), kindIncoming), id)
}

func messageKey(b []byte, id uint64) []byte {
	return binary.BigEndian.AppendUint64(append(b, prefixMessage), id)
}

func retainedKey(b []byte, topic string) []byte {
	return append(append(b, prefixRetained), topic...)
}

// prefixEnd returns the smallest key greater than every key starting with p,
// or nil if there is none (p is all 0xFF).
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// clientKey is a parsed key of the client range.
type clientKey struct {
	clientID string
	kind     byte
	rest     []byte // filter, seq or packet id bytes; aliases the key
}

// parseClientKey splits a key of the client range.
func parseClientKey(k []byte) (clientKey, error) {
	if len(k) < 1 || k[0] != prefixClient {
		return clientKey{}, fmt.Errorf("%w: not a client key", ErrCorrupt)
	}
	n, w := binary.Uvarint(k[1:])
	if w <= 0 || uint64(len(k)-1-w) < n+1 {
		return clientKey{}, fmt.Errorf("%w: truncated client key", ErrCorrupt)
	}
	start := 1 + w
	id := k[start : start+int(n)]
	ck := clientKey{clientID: string(id), kind: k[start+int(n)], rest: k[start+int(n)+1:]}
	return ck, ck.check()
}

// check validates the length of the kind-specific suffix.
func (ck clientKey) check() error {
	var n int
	switch ck.kind {
	case kindSub:
		return nil
	case kindSession:
		n = 0
	case kindQueue:
		n = 8
	case kindIncoming:
		n = 2
	default:
		return fmt.Errorf("%w: unknown record kind %d", ErrCorrupt, ck.kind)
	}
	if len(ck.rest) != n {
		return fmt.Errorf("%w: bad key length for kind %d", ErrCorrupt, ck.kind)
	}
	return nil
}

func (ck clientKey) seq() uint64      { return binary.BigEndian.Uint64(ck.rest) }
func (ck clientKey) packetID() uint16 { return binary.BigEndian.Uint16(ck.rest) }
