package testutil

import (
	"bufio"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

// Raw is a byte-level MQTT client built on the codec, for tests that need
// exact packets (malformed input, protocol edge cases, MQTT 3.1).
type Raw struct {
	t       testing.TB
	Conn    net.Conn
	Version byte
	r       *bufio.Reader
}

// DialRaw opens a TCP connection for a raw client speaking version.
func DialRaw(t testing.TB, addr string, version byte) *Raw {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, Timeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	return WrapRaw(t, conn, version)
}

// WrapRaw makes a raw client of an open connection (TLS, WebSocket, a TCP
// connection that sent a PROXY header); it is closed in t.Cleanup.
func WrapRaw(t testing.TB, conn net.Conn, version byte) *Raw {
	t.Cleanup(func() { conn.Close() })
	return &Raw{t: t, Conn: conn, Version: version, r: bufio.NewReader(conn)}
}

// Send encodes and writes p.
func (c *Raw) Send(p packet.Packet) {
	c.t.Helper()
	b, err := p.Append(nil, c.Version)
	if err != nil {
		c.t.Fatalf("encode %v: %v", p.Type(), err)
	}
	c.SendBytes(b)
}

// SendBytes writes raw bytes.
func (c *Raw) SendBytes(b []byte) {
	c.t.Helper()
	_ = c.Conn.SetWriteDeadline(time.Now().Add(Timeout))
	if _, err := c.Conn.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// Read returns the next packet, or the read error (io.EOF when the server
// closed the connection).
func (c *Raw) Read(d time.Duration) (packet.Packet, error) {
	_ = c.Conn.SetReadDeadline(time.Now().Add(d))
	return packet.ReadPacket(c.r, c.Version, 0)
}

// Expect reads the next packet and fails unless it has type typ.
func (c *Raw) Expect(typ packet.Type) packet.Packet {
	c.t.Helper()
	p, err := c.Read(Timeout)
	if err != nil {
		c.t.Fatalf("expected %v, got error %v", typ, err)
	}
	if p.Type() != typ {
		c.t.Fatalf("expected %v, got %v %+v", typ, p.Type(), p)
	}
	return p
}

// Connect sends CONNECT (filling the version) and returns the CONNACK.
func (c *Raw) Connect(p *packet.Connect) *packet.Connack {
	c.t.Helper()
	p.ProtocolVersion = c.Version
	c.Send(p)
	return c.Expect(packet.CONNACK).(*packet.Connack)
}

// ExpectClosed reads until the server closes the connection within d and
// returns the packets received before that (a v5 DISCONNECT, typically).
func (c *Raw) ExpectClosed(d time.Duration) []packet.Packet {
	c.t.Helper()
	var got []packet.Packet
	deadline := time.Now().Add(d)
	for {
		p, err := c.Read(time.Until(deadline))
		if err == nil {
			got = append(got, p)
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.t.Fatalf("connection still open after %v (got %d packets)", d, len(got))
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
			return got
		}
		return got // a decode error on a closing connection also ends it
	}
}

func isReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe)
}

// ConnectRawV5 dials a raw v5 client and connects it with a clean start,
// failing unless the CONNACK is a success.
func ConnectRawV5(t testing.TB, addr, clientID string) (*Raw, *packet.Connack) {
	t.Helper()
	c := DialRaw(t, addr, packet.V5)
	ack := c.Connect(&packet.Connect{ClientID: clientID, CleanStart: true})
	if ack.ReasonCode != packet.Success {
		t.Fatalf("CONNACK %#x for %q", byte(ack.ReasonCode), clientID)
	}
	return c, ack
}

// SubscribeCodes sends a SUBSCRIBE with the filters at qos and returns the
// SUBACK reason codes.
func (c *Raw) SubscribeCodes(pid uint16, qos byte, filters ...string) []packet.ReasonCode {
	c.t.Helper()
	p := &packet.Subscribe{PacketID: pid}
	for _, f := range filters {
		p.Subscriptions = append(p.Subscriptions, packet.Subscription{Filter: f, QoS: qos})
	}
	c.Send(p)
	ack := c.Expect(packet.SUBACK).(*packet.Suback)
	if ack.PacketID != pid {
		c.t.Fatalf("SUBACK for packet id %d, want %d", ack.PacketID, pid)
	}
	return ack.ReasonCodes
}

// None asserts that no packet arrives within d.
func (c *Raw) None(d time.Duration) {
	c.t.Helper()
	if p, err := c.Read(d); err == nil {
		c.t.Fatalf("unexpected %v %+v", p.Type(), p)
	}
}

// ExpectDisconnect expects a DISCONNECT with reason code rc as the last
// packet before the server closes the connection.
func (c *Raw) ExpectDisconnect(rc packet.ReasonCode) {
	c.t.Helper()
	got := c.ExpectClosed(Timeout)
	if len(got) == 0 {
		c.t.Fatalf("closed without DISCONNECT, want reason %#x", byte(rc))
	}
	d, ok := got[len(got)-1].(*packet.Disconnect)
	if !ok || d.ReasonCode != rc {
		c.t.Fatalf("last packet before close %+v, want DISCONNECT %#x", got[len(got)-1], byte(rc))
	}
}
