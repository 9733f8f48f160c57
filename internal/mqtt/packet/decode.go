package packet

import (
	"errors"
	"fmt"
	"io"
)

// Decode decodes a packet body of any type into a new struct: the allocating
// convenience over the Decode* functions. version is the protocol level of
// the connection (ignored for CONNECT, which carries its own).
func Decode(fh FixedHeader, body []byte, version byte) (Packet, error) {
	p, err := newPacket(fh.Type)
	if err != nil {
		return nil, err
	}
	if err := decodeInto(fh, body, version, p); err != nil {
		return nil, err
	}
	return p, nil
}

// newPacket returns an empty struct for packet type t.
func newPacket(t Type) (Packet, error) {
	switch t {
	case CONNECT:
		return &Connect{}, nil
	case CONNACK:
		return &Connack{}, nil
	case PUBLISH:
		return &Publish{}, nil
	case PUBACK, PUBREC, PUBREL, PUBCOMP:
		return &Ack{PacketType: t}, nil
	case SUBSCRIBE:
		return &Subscribe{}, nil
	case SUBACK:
		return &Suback{}, nil
	case UNSUBSCRIBE:
		return &Unsubscribe{}, nil
	case UNSUBACK:
		return &Unsuback{}, nil
	}
	return newControl(t)
}

func newControl(t Type) (Packet, error) {
	switch t {
	case PINGREQ:
		return &Pingreq{}, nil
	case PINGRESP:
		return &Pingresp{}, nil
	case DISCONNECT:
		return &Disconnect{}, nil
	case AUTH:
		return &Auth{}, nil
	}
	return nil, malformed("reserved packet type %d", t)
}

// decodeInto runs the decoder for p's type.
func decodeInto(fh FixedHeader, body []byte, version byte, p Packet) error {
	switch p := p.(type) {
	case *Connect:
		return DecodeConnect(fh, body, p)
	case *Connack:
		return DecodeConnack(fh, body, version, p)
	case *Publish:
		return DecodePublish(fh, body, version, p)
	case *Ack:
		return DecodeAck(fh, body, version, p)
	case *Subscribe:
		return DecodeSubscribe(fh, body, version, p)
	case *Suback:
		return DecodeSuback(fh, body, version, p)
	case *Unsubscribe:
		return DecodeUnsubscribe(fh, body, version, p)
	case *Unsuback:
		return DecodeUnsuback(fh, body, version, p)
	}
	return decodeControl(fh, body, version, p)
}

func decodeControl(fh FixedHeader, body []byte, version byte, p Packet) error {
	switch p := p.(type) {
	case *Pingreq:
		return DecodePingreq(fh, body, version, p)
	case *Pingresp:
		return DecodePingresp(fh, body, version, p)
	case *Disconnect:
		return DecodeDisconnect(fh, body, version, p)
	}
	return DecodeAuth(fh, body, version, p.(*Auth))
}

// ReadPacket reads and decodes one packet from r: a convenience for clients
// and tests that allocates the body. It returns io.EOF when r ends before the
// first byte and io.ErrUnexpectedEOF when it ends inside the packet. When
// maxSize > 0, a packet whose full length exceeds it yields an error wrapping
// ErrPacketTooLarge without its body being read, leaving r mid-packet.
func ReadPacket(r io.Reader, version byte, maxSize int) (Packet, error) {
	fh, n, err := readFixedHeader(r)
	if err != nil {
		return nil, err
	}
	if maxSize > 0 && n+fh.Remaining > maxSize {
		return nil, fmt.Errorf("%w: %s of %d bytes, limit %d", ErrPacketTooLarge, fh.Type, n+fh.Remaining, maxSize)
	}
	body := make([]byte, fh.Remaining)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, unexpected(err)
	}
	return Decode(fh, body, version)
}

// readFixedHeader reads the fixed header a byte at a time.
func readFixedHeader(r io.Reader) (FixedHeader, int, error) {
	var buf [5]byte
	for n := 1; ; n++ {
		if _, err := io.ReadFull(r, buf[n-1:n]); err != nil {
			if n > 1 {
				err = unexpected(err)
			}
			return FixedHeader{}, 0, err
		}
		fh, hl, err := ParseFixedHeader(buf[:n])
		if !errors.Is(err, ErrShortBuffer) {
			return fh, hl, err
		}
	}
}

// unexpected turns io.EOF inside a packet into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
