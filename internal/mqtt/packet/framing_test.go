package packet

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// Boundary values of Table 1-1 [MQTT-1.5.5].
var varintVectors = []struct {
	v   int
	enc []byte
}{
	{0, []byte{0x00}},
	{127, []byte{0x7F}},
	{128, []byte{0x80, 0x01}},
	{16383, []byte{0xFF, 0x7F}},
	{16384, []byte{0x80, 0x80, 0x01}},
	{2097151, []byte{0xFF, 0xFF, 0x7F}},
	{2097152, []byte{0x80, 0x80, 0x80, 0x01}},
	{MaxRemaining, []byte{0xFF, 0xFF, 0xFF, 0x7F}},
}

func TestPacketVarint(t *testing.T) {
	for _, c := range varintVectors {
		equalBytes(t, "AppendVarint", AppendVarint(nil, c.v), c.enc)
		if n := VarintSize(c.v); n != len(c.enc) {
			t.Fatalf("VarintSize(%d) = %d, want %d", c.v, n, len(c.enc))
		}
		v, n, err := DecodeVarint(append(c.enc, 0xAA))
		if err != nil || v != c.v || n != len(c.enc) {
			t.Fatalf("DecodeVarint(% x) = %d, %d, %v", c.enc, v, n, err)
		}
		if _, _, err := DecodeVarint(c.enc[:len(c.enc)-1]); !errors.Is(err, ErrShortBuffer) {
			t.Fatalf("DecodeVarint(% x) truncated: %v, want ErrShortBuffer", c.enc, err)
		}
	}
}

func TestPacketVarintMalformed(t *testing.T) {
	for _, enc := range [][]byte{
		{0xFF, 0xFF, 0xFF, 0xFF, 0x01}, // five bytes
		{0x80, 0x80, 0x80, 0x80},       // four bytes, continuation on the last
		{0x80, 0x00},                   // 0 in two bytes
		{0xFF, 0x80, 0x00},             // 127 in three bytes
		{0x80, 0x80, 0x80, 0x00},
	} {
		_, _, err := DecodeVarint(enc)
		wantCode(t, "DecodeVarint", err, MalformedPacket)
	}
}

func TestPacketParseFixedHeader(t *testing.T) {
	raw := []byte{0x3D, 0x80, 0x01}
	fh, n, err := ParseFixedHeader(raw)
	want := FixedHeader{Type: PUBLISH, Flags: 0x0D, Remaining: 128}
	if err != nil || n != 3 || fh != want {
		t.Fatalf("ParseFixedHeader(% x) = %+v, %d, %v", raw, fh, n, err)
	}
	for i := range raw {
		if _, _, err := ParseFixedHeader(raw[:i]); !errors.Is(err, ErrShortBuffer) {
			t.Fatalf("ParseFixedHeader(% x) = %v, want ErrShortBuffer", raw[:i], err)
		}
	}
	// A malformed first byte is reported before the length arrives.
	_, _, err = ParseFixedHeader([]byte{0x00})
	wantCode(t, "type 0 alone", err, MalformedPacket)
}

// TestPacketReadPacket reads a stream of every canonical v5 packet.
func TestPacketReadPacket(t *testing.T) {
	var stream []byte
	var want []Packet
	for _, c := range canonicalV5() {
		stream = append(stream, c.raw...)
		want = append(want, c.pkt)
	}
	r := bytes.NewReader(stream)
	for i, w := range want {
		p, err := ReadPacket(r, V5, 0)
		if err != nil {
			t.Fatalf("ReadPacket #%d: %v", i, err)
		}
		equalPackets(t, "ReadPacket", p, w)
	}
	if _, err := ReadPacket(r, V5, 0); err != io.EOF {
		t.Fatalf("ReadPacket at the end: %v, want io.EOF", err)
	}
}

func TestPacketReadPacketErrors(t *testing.T) {
	raw := pk(0x30, str("a/b"), []byte("0123456789"))
	_, err := ReadPacket(bytes.NewReader(raw), V311, len(raw)-1)
	wantCode(t, "ReadPacket over maxSize", err, PacketTooLarge)
	if _, err := ReadPacket(bytes.NewReader(raw), V311, len(raw)); err != nil {
		t.Fatalf("ReadPacket at maxSize: %v", err)
	}
	for _, cut := range []int{1, 2, len(raw) - 1} {
		if _, err := ReadPacket(bytes.NewReader(raw[:cut]), V311, 0); err != io.ErrUnexpectedEOF {
			t.Fatalf("ReadPacket cut at %d: %v, want io.ErrUnexpectedEOF", cut, err)
		}
	}
	_, err = ReadPacket(bytes.NewReader([]byte{0x40, 2, 0, 0}), V311, 0)
	wantCode(t, "ReadPacket packet id 0", err, ProtocolError)
	_, err = ReadPacket(bytes.NewReader([]byte{0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}), V311, 0)
	wantCode(t, "ReadPacket 5-byte varint", err, MalformedPacket)
}
