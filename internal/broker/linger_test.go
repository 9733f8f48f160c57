package broker

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

// TestBrokerShutdownCutsLinger: Shutdown does not wait for a connection
// lingering after its DISCONNECT whose client never closes: it closes it.
// With the linger made an hour long, a Shutdown that waited would end
// with its context's error instead of nil.
func TestBrokerShutdownCutsLinger(t *testing.T) {
	defer func(d time.Duration) { lingerTime = d }(lingerTime)
	lingerTime = time.Hour
	tb := startBroker(t, testConfig(), Options{})
	nc, err := net.DialTimeout("tcp", tb.addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	send := func(p packet.Packet) error {
		b, err := p.Append(nil, packet.V5)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		_, err = nc.Write(b)
		return err
	}
	if err := send(&packet.Connect{ProtocolVersion: packet.V5, ClientID: "lingerer", CleanStart: true}); err != nil {
		t.Fatalf("write CONNECT: %v", err)
	}
	r := bufio.NewReader(nc)
	if p, err := packet.ReadPacket(r, packet.V5, 0); err != nil || p.Type() != packet.CONNACK {
		t.Fatalf("CONNACK: %v %v", p, err)
	}
	if err := tb.Kick("lingerer"); err != nil {
		t.Fatalf("Kick: %v", err)
	}
	if p, err := packet.ReadPacket(r, packet.V5, 0); err != nil || p.(*packet.Disconnect).ReasonCode != packet.AdministrativeAction {
		t.Fatalf("DISCONNECT 0x98: %v %v", p, err)
	}
	if _, err := packet.ReadPacket(r, packet.V5, 0); !errors.Is(err, io.EOF) {
		t.Fatalf("after the DISCONNECT: %v, want EOF (the server's write side shut)", err)
	}
	if err := send(&packet.Pingreq{}); err != nil {
		t.Fatalf("write while the server lingers: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tb.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v (it waited for the linger)", err)
	}
}
