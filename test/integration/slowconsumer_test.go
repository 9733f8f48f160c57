package integration

import (
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// slowConsumerSetup is a node with a small mqtt.max_outbound_bytes, a QoS 0
// subscriber that stops reading (a 4 KB receive buffer, so the kernel
// absorbs little), a subscriber recording the messages it receives and a
// publisher. The recording subscriber subscribes at QoS 1: at QoS 0 it too
// would, by design, lose messages whenever the machine starves it long
// enough to lag max_outbound_bytes behind; at QoS 1 it may see a message
// twice, so it records which ones it got.
type slowConsumerSetup struct {
	s    *testutil.Server
	rec  *testutil.Clients
	slow *testutil.Raw
	pub  *testutil.V5
	sent int

	mu   sync.Mutex
	fast map[uint64]bool // seqs the fast subscriber received
}

const (
	slowPayload = 64 << 10 // 16 messages fill max_outbound_bytes
	maxSlowSent = 500
)

func newSlowConsumer(t *testing.T, mutate func(*config.Config)) *slowConsumerSetup {
	t.Helper()
	x := &slowConsumerSetup{fast: map[uint64]bool{}}
	x.s = testutil.RunServer(t, func(c *config.Config) {
		c.MQTT.MaxOutboundBytes, c.MQTT.MaxPacketSize = 1<<20, 128<<10
		mutate(c)
	})
	x.rec = testutil.RecordClients(x.s)
	x.slow = dialSmallBuffer(t, x.s.TCP())
	x.slow.Connect(&packet.Connect{ClientID: "slow", CleanStart: true})
	x.slow.SubscribeCodes(1, 0, "sc/#")
	fast, _ := testutil.ConnectV5(t, x.s.TCP(), &paho.Connect{ClientID: "fast", CleanStart: true})
	fast.SubscribeOK(t, "sc/#", 1)
	go func() {
		for m := range fast.Msgs {
			x.mu.Lock()
			x.fast[binary.BigEndian.Uint64(m.Payload)] = true
			x.mu.Unlock()
		}
	}()
	x.pub, _ = testutil.ConnectV5(t, x.s.TCP(), &paho.Connect{ClientID: "pub", CleanStart: true})
	return x
}

// dialSmallBuffer dials a raw v5 client whose socket receive buffer is set
// to 4 KB before connecting.
func dialSmallBuffer(t *testing.T, addr string) *testutil.Raw {
	t.Helper()
	d := net.Dialer{Timeout: testutil.Timeout, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return testutil.WrapRaw(t, conn, packet.V5)
}

// publishUntil publishes 64 KB messages (QoS 1, delivered at QoS 0 to the
// slow consumer; each starts with its seq) until cond holds, then more
// more; it fails after maxSlowSent messages.
func (x *slowConsumerSetup) publishUntil(t *testing.T, cond func() bool, more int) {
	t.Helper()
	payload := make([]byte, slowPayload)
	for extra := -1; extra < more; {
		if extra < 0 && cond() {
			extra = 0
		}
		if extra >= 0 {
			extra++
		}
		if x.sent >= maxSlowSent {
			t.Fatalf("condition not reached after %d messages", x.sent)
		}
		binary.BigEndian.PutUint64(payload, uint64(x.sent))
		if _, err := x.pub.Publish(testutil.Ctx(t), &paho.Publish{Topic: "sc/x", QoS: 1, Payload: payload}); err != nil {
			t.Fatalf("publish %d: %v", x.sent, err)
		}
		x.sent++
	}
}

// fastGotAll waits until the fast subscriber has every message at least
// once.
func (x *slowConsumerSetup) fastGotAll(t *testing.T) {
	t.Helper()
	testutil.Eventually(t, testutil.Timeout, func() error {
		x.mu.Lock()
		defer x.mu.Unlock()
		for seq := range x.sent {
			if !x.fast[uint64(seq)] {
				return fmt.Errorf("fast subscriber has %d of %d messages, not %d", len(x.fast), x.sent, seq)
			}
		}
		return nil
	})
}

// TestLimitSlowConsumerDrop checks mqtt.max_outbound_bytes with the default
// slow_consumer_policy "drop" (EMQX: QoS 0 messages to a consumer whose
// queue is full are dropped and counted in delivery.dropped.qos0_msg): the
// subscriber that stopped reading loses messages but stays connected, the
// other subscriber gets every one.
func TestLimitSlowConsumerDrop(t *testing.T) {
	x := newSlowConsumer(t, func(*config.Config) {})
	x.publishUntil(t, func() bool { return x.s.Metric(t, "delivery.dropped.qos0_msg") > 0 }, 50)
	x.fastGotAll(t)
	dropped := x.s.Metric(t, "delivery.dropped.qos0_msg")
	// The slow one is still connected: it gets what was not dropped, then
	// the PINGRESP.
	x.slow.Send(&packet.Pingreq{})
	got := 0
	for {
		p, err := x.slow.Read(testutil.Timeout)
		if err != nil {
			t.Fatalf("slow consumer after %d messages: %v", got, err)
		}
		if p.Type() == packet.PINGRESP {
			break
		}
		got++
	}
	if got+int(dropped) != x.sent || dropped == 0 {
		t.Fatalf("slow consumer got %d, %d dropped, of %d sent", got, dropped, x.sent)
	}
	if n := x.s.Metric(t, "overload_protection.slow_consumer.disconnect"); n != 0 {
		t.Fatalf("slow consumer disconnected %d times under policy drop", n)
	}
}

// TestLimitSlowConsumerDisconnect checks slow_consumer_policy "disconnect":
// the consumer whose outbound queue is full is closed (DISCONNECT 0x97 when
// it can still be written), and the other subscriber is unaffected.
func TestLimitSlowConsumerDisconnect(t *testing.T) {
	x := newSlowConsumer(t, func(c *config.Config) { c.MQTT.SlowConsumerPolicy = "disconnect" })
	x.publishUntil(t, func() bool { return x.s.Metric(t, "overload_protection.slow_consumer.disconnect") > 0 }, 20)
	reason := x.rec.Disconnected(t, "slow", testutil.Timeout)
	t.Logf("slow consumer disconnected: %v", reason)
	x.fastGotAll(t)
	got := x.slow.ExpectClosed(testutil.Timeout)
	if n := len(got); n > 0 {
		if d, ok := got[n-1].(*packet.Disconnect); ok && d.ReasonCode != packet.QuotaExceeded {
			t.Fatalf("DISCONNECT %#x, want 0x97", byte(d.ReasonCode))
		}
	}
}

// TestLimitSendTimeout checks mqtt.send_timeout: a consumer whose socket
// takes no bytes for that long is closed, even under policy "drop" where
// full queues only drop QoS 0 messages (EMQX send_timeout). Once messages
// to it are dropped its socket is full, and it never reads: the close must
// come (when is up to the machine's load; the bound is a failure bound).
func TestLimitSendTimeout(t *testing.T) {
	x := newSlowConsumer(t, func(c *config.Config) { c.MQTT.SendTimeout = time.Second })
	x.publishUntil(t, func() bool { return x.s.Metric(t, "delivery.dropped.qos0_msg") > 0 }, 0)
	reason := x.rec.Disconnected(t, "slow", testutil.Timeout)
	t.Logf("stuck consumer disconnected: %v", reason)
	if n := x.s.Metric(t, "overload_protection.slow_consumer.disconnect"); n != 0 {
		t.Fatalf("closed as a slow consumer (%d) under policy drop, not by send_timeout", n)
	}
	x.fastGotAll(t)
	x.slow.ExpectClosed(testutil.Timeout)
}
