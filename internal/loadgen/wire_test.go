package loadgen

import (
	"bytes"
	"errors"
	"testing"
)

func mustEqualBytes(t *testing.T, name string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s:\n got % x\nwant % x", name, got, want)
	}
}

// Vectors from the Variable Byte Integer table (MQTT 5.0 §1.5.5).
func TestLoadgenVarint(t *testing.T) {
	cases := []struct {
		n   int
		enc []byte
	}{
		{0, []byte{0x00}}, {127, []byte{0x7f}}, {128, []byte{0x80, 0x01}},
		{16383, []byte{0xff, 0x7f}}, {16384, []byte{0x80, 0x80, 0x01}},
		{2097151, []byte{0xff, 0xff, 0x7f}}, {2097152, []byte{0x80, 0x80, 0x80, 0x01}},
		{268435455, []byte{0xff, 0xff, 0xff, 0x7f}},
	}
	for _, c := range cases {
		mustEqualBytes(t, "appendVarint", appendVarint(nil, c.n), c.enc) // [MQTT-1.5.5-1]
		v, n := decodeVarint(append(c.enc, 0xAA))
		if v != c.n || n != len(c.enc) {
			t.Fatalf("decodeVarint(% x) = %d, %d; want %d, %d", c.enc, v, n, c.n, len(c.enc))
		}
	}
	if _, n := decodeVarint([]byte{0x80, 0x80}); n != 0 {
		t.Fatalf("incomplete varint: n = %d, want 0", n)
	}
	if _, n := decodeVarint([]byte{0xff, 0xff, 0xff, 0xff, 0x7f}); n != -1 {
		t.Fatalf("five-byte varint: n = %d, want -1", n)
	}
}

func TestLoadgenEncodeConnect(t *testing.T) {
	v4 := encodeConnect(&connectOpts{version: protoV311, clientID: "a", keepalive: 60, clean: true})
	mustEqualBytes(t, "v4", v4, []byte{
		0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x01, 'a',
	})
	v5 := encodeConnect(&connectOpts{
		version: protoV5, clientID: "id", keepalive: 10, clean: true, username: "u", password: "p",
	})
	mustEqualBytes(t, "v5", v5, []byte{
		0x10, 0x15, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0xc2, 0x00, 0x0a, 0x00, // flags: user, password, clean
		0x00, 0x02, 'i', 'd', 0x00, 0x01, 'u', 0x00, 0x01, 'p',
	})
	persistent := encodeConnect(&connectOpts{version: protoV311, clientID: "a"})
	if persistent[9] != 0 {
		t.Fatalf("clean=false flags = %#x, want 0", persistent[9])
	}
}

func TestLoadgenEncodeSubscribe(t *testing.T) {
	// [MQTT-3.8.1-1] fixed header flags 0010.
	mustEqualBytes(t, "v4", encodeSubscribe(protoV311, 1, "a/b", 1),
		[]byte{0x82, 0x08, 0x00, 0x01, 0x00, 0x03, 'a', '/', 'b', 0x01})
	mustEqualBytes(t, "v5", encodeSubscribe(protoV5, 7, "a/b", 2),
		[]byte{0x82, 0x09, 0x00, 0x07, 0x00, 0x00, 0x03, 'a', '/', 'b', 0x02})
}

func TestLoadgenEncodePublish(t *testing.T) {
	cases := []struct {
		name           string
		version, qos   byte
		want           []byte
		pidOff, payOff int
	}{
		{"v4 qos0", protoV311, 0, []byte{0x30, 0x05, 0x00, 0x01, 't', 'h', 'i'}, -1, 5},
		{"v4 qos1", protoV311, 1, []byte{0x32, 0x07, 0x00, 0x01, 't', 0x00, 0x00, 'h', 'i'}, 5, 7},
		{"v5 qos2", protoV5, 2, []byte{0x34, 0x08, 0x00, 0x01, 't', 0x00, 0x00, 0x00, 'h', 'i'}, 5, 8},
	}
	for _, c := range cases {
		p := encodePublish(c.version, "t", c.qos, []byte("hi"))
		mustEqualBytes(t, c.name, p.pkt, c.want)
		if p.pidOff != c.pidOff || p.payOff != c.payOff {
			t.Fatalf("%s: offsets %d, %d; want %d, %d", c.name, p.pidOff, p.payOff, c.pidOff, c.payOff)
		}
	}
	big := encodePublish(protoV311, "t", 1, make([]byte, 200))
	if big.pkt[1] != 0xcd || big.pkt[2] != 0x01 || big.pidOff != 6 || big.payOff != 8 || len(big.pkt) != 208 {
		t.Fatalf("two-byte remaining length: % x..., offsets %d, %d", big.pkt[:8], big.pidOff, big.payOff)
	}
}

func TestLoadgenEncodeAcks(t *testing.T) {
	var b []byte
	for _, typ := range []byte{typePuback, typePubrec, typePubrel, typePubcomp} {
		b = appendAck(b, typ, 0x1234)
	}
	mustEqualBytes(t, "acks", b, []byte{
		0x40, 0x02, 0x12, 0x34, 0x50, 0x02, 0x12, 0x34,
		0x62, 0x02, 0x12, 0x34, // [MQTT-3.6.1-1] PUBREL flags 0010
		0x70, 0x02, 0x12, 0x34,
	})
}

func TestLoadgenReadPacket(t *testing.T) {
	stream := append(encodePublish(protoV311, "t", 0, make([]byte, 200)).pkt, 0x20, 0x02, 0x00, 0x00)
	r := bytes.NewReader(stream)
	hdr, body, err := readPacket(r)
	if err != nil || hdr != 0x30 || len(body) != 203 {
		t.Fatalf("first packet: hdr %#x, %d bytes, %v", hdr, len(body), err)
	}
	hdr, body, err = readPacket(r)
	if err != nil || hdr != 0x20 || !bytes.Equal(body, []byte{0, 0}) {
		t.Fatalf("second packet: hdr %#x, % x, %v", hdr, body, err)
	}
	_, _, err = readPacket(bytes.NewReader([]byte{0x20, 0xff, 0xff, 0xff, 0xff, 0x01}))
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("five-byte length: err = %v, want ErrMalformed", err)
	}
}

func TestLoadgenParseConnackV4(t *testing.T) {
	ca, err := parseConnack(protoV311, []byte{0x00, 0x00})
	if err != nil || ca.check() != nil || ca.receiveMax != 65535 || ca.maxQoS != 2 || ca.serverKeepAlive != -1 {
		t.Fatalf("accepted: %+v, %v", ca, err)
	}
	ca, err = parseConnack(protoV311, []byte{0x00, 0x05})
	if err != nil || !errors.Is(ca.check(), ErrRefused) {
		t.Fatalf("not authorized: %+v, check %v", ca, ca.check())
	}
	if _, err := parseConnack(protoV311, []byte{0x00}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short CONNACK: %v", err)
	}
}

func TestLoadgenParseConnackV5(t *testing.T) {
	body := []byte{0x00, 0x00, 0x19,
		0x21, 0x00, 0x14, // Receive Maximum 20
		0x24, 0x01, // Maximum QoS 1
		0x27, 0x00, 0x00, 0x10, 0x00, // Maximum Packet Size 4096
		0x13, 0x00, 0x1e, // Server Keep Alive 30
		0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v', // User Property
		0x1f, 0x00, 0x02, 'o', 'k', // Reason String
	}
	ca, err := parseConnack(protoV5, body)
	if err != nil {
		t.Fatalf("parseConnack: %v", err)
	}
	want := connack{receiveMax: 20, maxQoS: 1, maxPacketSize: 4096, serverKeepAlive: 30, reason: "ok"}
	if ca != want {
		t.Fatalf("got %+v, want %+v", ca, want)
	}
	ca, _ = parseConnack(protoV5, []byte{0x00, 0x87, 0x05, 0x1f, 0x00, 0x02, 'n', 'o'})
	if err := ca.check(); !errors.Is(err, ErrRefused) {
		t.Fatalf("reason 0x87: check = %v", err)
	}
	for _, bad := range [][]byte{
		{0x00, 0x00, 0x02, 0x7f, 0x00},             // unknown property
		{0x00, 0x00, 0x03, 0x21, 0x00},             // property length past the end
		{0x00, 0x00, 0x02, 0x1f, 0x00},             // truncated string
		{0x00, 0x00, 0x04, 0x26, 0x00, 0x05, 0x00}, // truncated pair
		{0x00, 0x00, 0x03, 0x21, 0x00, 0x00},       // Receive Maximum 0
	} {
		if _, err := parseConnack(protoV5, bad); !errors.Is(err, ErrMalformed) {
			t.Fatalf("parseConnack(% x) = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestLoadgenParseSuback(t *testing.T) {
	cases := []struct {
		version byte
		body    []byte
		code    byte
	}{
		{protoV311, []byte{0x00, 0x01, 0x01}, 0x01},
		{protoV311, []byte{0x00, 0x01, 0x80}, 0x80},
		{protoV5, []byte{0x00, 0x01, 0x00, 0x02}, 0x02},
		{protoV5, []byte{0x00, 0x01, 0x03, 0x1f, 0x00, 0x00, 0x87}, 0x87},
	}
	for _, c := range cases {
		code, err := parseSuback(c.version, c.body)
		if err != nil || code != c.code {
			t.Fatalf("parseSuback(v%d, % x) = %#x, %v; want %#x", c.version, c.body, code, err, c.code)
		}
	}
	if _, err := parseSuback(protoV5, []byte{0x00, 0x01, 0x00}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("v5 SUBACK without code: %v", err)
	}
}
