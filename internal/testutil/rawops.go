package testutil

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

// ConnectRaw dials addr with a raw client speaking version and connects with
// p; it fails the test unless the CONNACK is a success.
func ConnectRaw(t testing.TB, addr string, version byte, p *packet.Connect) (*Raw, *packet.Connack) {
	t.Helper()
	c := DialRaw(t, addr, version)
	ack := c.Connect(p)
	if ack.ReasonCode != packet.Success {
		t.Fatalf("connect %q: CONNACK 0x%02x", p.ClientID, byte(ack.ReasonCode))
	}
	return c, ack
}

// Subscribe sends a SUBSCRIBE for one filter and returns the SUBACK.
func (c *Raw) Subscribe(pid uint16, filter string, qos byte) *packet.Suback {
	c.t.Helper()
	c.Send(&packet.Subscribe{PacketID: pid, Subscriptions: []packet.Subscription{{Filter: filter, QoS: qos}}})
	ack := c.Expect(packet.SUBACK).(*packet.Suback)
	if ack.PacketID != pid {
		c.t.Fatalf("SUBACK for packet id %d, want %d", ack.PacketID, pid)
	}
	return ack
}

// ExpectPublish reads the next packet and fails unless it is a PUBLISH.
func (c *Raw) ExpectPublish() *packet.Publish {
	c.t.Helper()
	return c.Expect(packet.PUBLISH).(*packet.Publish)
}

// ExpectNothing asserts that no packet arrives within d and that the
// connection is still open.
func (c *Raw) ExpectNothing(d time.Duration) {
	c.t.Helper()
	p, err := c.Read(d)
	if err == nil {
		c.t.Fatalf("unexpected %v %+v", p.Type(), p)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		c.t.Fatalf("connection ended: %v", err)
	}
}
