package packet

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// Byte builders for test vectors. They keep length prefixes right so the
// tables stay readable; the varint and fixed header encodings themselves are
// checked against literal bytes in framing_test.go.

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func u16(v uint16) []byte { return []byte{byte(v >> 8), byte(v)} }

func u32(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

func vbi(v int) []byte { return AppendVarint(nil, v) }

// str encodes a UTF-8 string or binary data: two-byte length and bytes.
func str(s string) []byte { return cat(u16(uint16(len(s))), []byte(s)) }

// pk builds a packet: first byte, Remaining Length, body.
func pk(first byte, body ...[]byte) []byte {
	b := cat(body...)
	return cat([]byte{first}, vbi(len(b)), b)
}

// props builds a property section: Property Length and properties.
func props(items ...[]byte) []byte {
	b := cat(items...)
	return cat(vbi(len(b)), b)
}

func pByte(id PropID, v byte) []byte  { return []byte{byte(id), v} }
func pU16(id PropID, v uint16) []byte { return cat([]byte{byte(id)}, u16(v)) }
func pU32(id PropID, v uint32) []byte { return cat([]byte{byte(id)}, u32(v)) }
func pStr(id PropID, s string) []byte { return cat([]byte{byte(id)}, str(s)) }
func pSubID(v int) []byte             { return cat([]byte{byte(PropSubscriptionID)}, vbi(v)) }
func pUser(k, v string) []byte        { return cat([]byte{byte(PropUser)}, str(k), str(v)) }
func user(k, v string) UserProperty   { return UserProperty{Key: []byte(k), Value: []byte(v)} }
func users(kv ...string) (u []UserProperty) {
	for i := 0; i+1 < len(kv); i += 2 {
		u = append(u, user(kv[i], kv[i+1]))
	}
	return u
}

// split parses the fixed header of raw and returns it with the body.
func split(t *testing.T, raw []byte) (FixedHeader, []byte) {
	t.Helper()
	fh, n, err := ParseFixedHeader(raw)
	if err != nil {
		t.Fatalf("ParseFixedHeader(% x): %v", raw, err)
	}
	if n+fh.Remaining != len(raw) {
		t.Fatalf("ParseFixedHeader(% x): header %d + remaining %d != %d", raw, n, fh.Remaining, len(raw))
	}
	return fh, raw[n:]
}

// mustDecode decodes a whole packet.
func mustDecode(t *testing.T, raw []byte, version byte) Packet {
	t.Helper()
	fh, body := split(t, raw)
	p, err := Decode(fh, body, version)
	if err != nil {
		t.Fatalf("Decode(% x) v%d: %v", raw, version, err)
	}
	return p
}

// mustAppend encodes a packet.
func mustAppend(t *testing.T, p Packet, version byte) []byte {
	t.Helper()
	b, err := p.Append(nil, version)
	if err != nil {
		t.Fatalf("%s.Append v%d: %v", p.Type(), version, err)
	}
	return b
}

// equalPackets compares decoded packets field by field.
func equalPackets(t *testing.T, what string, got, want Packet) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// wantCode asserts that err wraps the reason code want.
func wantCode(t *testing.T, what string, err error, want ReasonCode) {
	t.Helper()
	var rc ReasonCode
	if !errors.As(err, &rc) {
		t.Fatalf("%s: error %v, want one wrapping 0x%02x (%v)", what, err, byte(want), want)
	}
	if rc != want {
		t.Fatalf("%s: error %v wraps 0x%02x, want 0x%02x (%v)", what, err, byte(rc), byte(want), want)
	}
}

func equalBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s:\n got % x\nwant % x", what, got, want)
	}
}
