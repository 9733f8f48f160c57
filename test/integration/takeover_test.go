package integration

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// TestSessionTakeoverInFlight takes a persistent session over while QoS 1
// messages stream to it: every message reaches the old or the new
// connection, none is lost [MQTT-4.3.2] [MQTT-4.4.0-1], and the new
// connection gets those still unacknowledged with DUP set.
func TestSessionTakeoverInFlight(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	cp := &paho.Connect{ClientID: "stream", KeepAlive: 30, Properties: &paho.ConnectProperties{SessionExpiryInterval: new(uint32(60))}}
	old, _ := testutil.ConnectV5(t, s.TCP(), cp)
	if _, err := old.Subscribe(testutil.Ctx(t), &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "stream/#", QoS: 1}}}); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	pub, _ := testutil.ConnectRaw(t, s.TCP(), packet.V311, &packet.Connect{ClientID: "stream-pub", CleanStart: true})
	const n = 200
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			pub.Send(&packet.Publish{QoS: 1, PacketID: uint16(i + 1), Topic: []byte("stream/" + strconv.Itoa(i)), Payload: []byte("x")})
		}
	}()
	seen := map[string]bool{}
	for len(seen) < n/4 {
		seen[old.Next(t).Topic] = true
	}
	nw, ack := testutil.ConnectV5(t, s.TCP(), cp)
	if !ack.SessionPresent {
		t.Fatalf("session not present")
	}
	<-done
	drain := func(c *testutil.V5) {
		for {
			select {
			case m := <-c.Msgs:
				seen[m.Topic] = true
			default:
				return
			}
		}
	}
	testutil.Eventually(t, testutil.Timeout, func() error {
		drain(old)
		drain(nw)
		if len(seen) < n {
			return fmt.Errorf("%d of %d messages delivered", len(seen), n)
		}
		return nil
	})
}

// TestSessionTakeoverStorm connects the same client id from several
// goroutines at once, with random Clean Start and expiry: every CONNECT is
// answered, each connection that loses is closed, and at the end the node
// holds exactly one session for the id and one connection [MQTT-3.1.4-3].
func TestSessionTakeoverStorm(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t)
	const workers, rounds = 4, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				if err := stormConnect(s.TCP(), (w+r)%3); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, sessConnect("storm", false, 60))
	rawPingPong(t, c)
	waitSessions(t, s, 1)
	waitAttached(t, s, 1)
}

// stormConnect connects "storm" once, in one of three ways, and leaves the
// connection to be taken over, closed or disconnected.
func stormConnect(addr string, how int) error {
	c, err := dialQuiet(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	p := sessConnect("storm", how == 0, uint32(60*how))
	b, _ := p.Append(nil, packet.V5)
	_ = c.SetDeadline(time.Now().Add(testutil.Timeout))
	if _, err := c.Write(b); err != nil {
		return fmt.Errorf("write CONNECT: %w", err)
	}
	ack, err := readConnack(c)
	if err != nil {
		return err
	}
	if ack.ReasonCode != packet.Success {
		return fmt.Errorf("CONNACK 0x%02x", byte(ack.ReasonCode))
	}
	if how == 2 {
		d, _ := (&packet.Disconnect{}).Append(nil, packet.V5)
		_, _ = c.Write(d)
	}
	return nil
}

// dialQuiet dials addr for use off the test goroutine.
func dialQuiet(addr string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, testutil.Timeout)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	return c, nil
}

// readConnack reads the CONNACK of a v5 connection.
func readConnack(c net.Conn) (*packet.Connack, error) {
	p, err := packet.ReadPacket(bufio.NewReader(c), packet.V5, 0)
	if err != nil {
		return nil, fmt.Errorf("read CONNACK: %w", err)
	}
	ack, ok := p.(*packet.Connack)
	if !ok {
		return nil, fmt.Errorf("got %v, want CONNACK", p.Type())
	}
	return ack, nil
}
