package integration

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// This file holds the byte-level clients of the durability tests: a
// publisher that keeps several QoS 1/2 messages in flight and records which
// ones the broker acknowledged, and helpers that, unlike testutil.Raw's,
// return errors so that they can run on goroutines whose connection the
// test breaks by killing the broker.

// sendPacket encodes p and writes it with one Write (a net.Conn may be
// written from several goroutines).
func sendPacket(conn net.Conn, version byte, p packet.Packet) error {
	b, err := p.Append(nil, version)
	if err != nil {
		return fmt.Errorf("encode %v: %w", p.Type(), err)
	}
	_ = conn.SetWriteDeadline(time.Now().Add(testutil.Timeout))
	if _, err := conn.Write(b); err != nil {
		return fmt.Errorf("write %v: %w", p.Type(), err)
	}
	return nil
}

// connectRaw opens a byte-level session: expiry is the v5 Session Expiry
// Interval (for 3.1.1, clean=false is what makes the session persistent).
func connectRaw(t testing.TB, addr string, version byte, id string, clean bool, expiry uint32) (*testutil.Raw, *packet.Connack) {
	t.Helper()
	c := testutil.DialRaw(t, addr, version)
	cp := &packet.Connect{ClientID: id, CleanStart: clean, KeepAlive: 60}
	if version == packet.V5 && expiry > 0 {
		cp.Props.SessionExpiry = expiry
		cp.Props.Set(packet.PropSessionExpiry)
	}
	ack := c.Connect(cp)
	if ack.ReasonCode != packet.Success {
		t.Fatalf("connect %q: %v", id, ack.ReasonCode)
	}
	return c, ack
}

// subscribeRaw subscribes c to filter and checks the granted QoS.
func subscribeRaw(t testing.TB, c *testutil.Raw, filter string, qos byte) {
	t.Helper()
	c.Send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: filter, QoS: qos}}})
	ack := c.Expect(packet.SUBACK).(*packet.Suback)
	if len(ack.ReasonCodes) != 1 || ack.ReasonCodes[0] != packet.ReasonCode(qos) {
		t.Fatalf("SUBACK for %q: %v", filter, ack.ReasonCodes)
	}
}

// seqPayload and payloadSeq encode a stream's sequence numbers.
func seqPayload(seq int) []byte { return []byte(strconv.Itoa(seq)) }

func payloadSeq(t testing.TB, p []byte) int {
	t.Helper()
	n, err := strconv.Atoi(string(p))
	if err != nil {
		t.Fatalf("payload %q is not a sequence number", p)
	}
	return n
}

// streamConfig describes what a pubStream publishes.
type streamConfig struct {
	QoS    byte
	Total  int // messages, seq 0..Total-1
	Window int // in flight at most
	Retain bool
	// Msg returns the topic and payload of seq; nil means topic "t/<seq%16>"
	// and the seq as payload.
	Msg func(seq int) (string, []byte)
}

// pubStream publishes a sequence over a raw connection and records every
// seq the broker acknowledged with a success code: a PUBACK for QoS 1, a
// PUBREC for QoS 2 (after which it completes the flow with PUBREL).
type pubStream struct {
	cfg  streamConfig
	conn *testutil.Raw
	free chan uint16   // packet ids not in flight
	quit chan struct{} // closed when the reader ends
	done chan struct{} // closed when both goroutines have ended

	mu      sync.Mutex
	pids    map[uint16]int
	sent    []bool
	acked   []bool
	nAcked  int
	waitFor int
	reached chan struct{} // closed once nAcked >= waitFor
	err     error         // why the reader stopped, nil when complete
}

// durStartStream starts publishing on c, a connected raw client the stream now
// owns. reachAt is the ack count at which Reached is closed.
func durStartStream(c *testutil.Raw, cfg streamConfig, reachAt int) *pubStream {
	if cfg.Msg == nil {
		cfg.Msg = func(seq int) (string, []byte) { return "t/" + strconv.Itoa(seq%16), seqPayload(seq) }
	}
	st := &pubStream{
		cfg: cfg, conn: c, free: make(chan uint16, cfg.Window),
		quit: make(chan struct{}), done: make(chan struct{}),
		pids: make(map[uint16]int), sent: make([]bool, cfg.Total), acked: make([]bool, cfg.Total),
		waitFor: reachAt, reached: make(chan struct{}),
	}
	for pid := 1; pid <= cfg.Window; pid++ {
		st.free <- uint16(pid)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); st.write() }()
	go func() { defer wg.Done(); st.read() }()
	go func() { wg.Wait(); close(st.done) }()
	return st
}

// write publishes every seq, waiting for a free packet id each time.
func (st *pubStream) write() {
	for seq := 0; seq < st.cfg.Total; seq++ {
		var pid uint16
		select {
		case pid = <-st.free:
		case <-st.quit:
			return
		}
		topic, payload := st.cfg.Msg(seq)
		st.mu.Lock()
		st.pids[pid], st.sent[seq] = seq, true
		st.mu.Unlock()
		p := &packet.Publish{QoS: st.cfg.QoS, Retain: st.cfg.Retain, Topic: []byte(topic), PacketID: pid, Payload: payload}
		if sendPacket(st.conn.Conn, st.conn.Version, p) != nil {
			return
		}
	}
}

// read handles the acknowledgements until every flow is complete or the
// connection fails.
func (st *pubStream) read() {
	defer close(st.quit)
	for completed := 0; completed < st.cfg.Total; {
		p, err := st.conn.Read(30 * time.Second)
		if err != nil {
			st.stop(err)
			return
		}
		a, ok := p.(*packet.Ack)
		if !ok {
			st.stop(fmt.Errorf("unexpected %v", p.Type()))
			return
		}
		n, err := st.handleAck(a)
		if err != nil {
			st.stop(err)
			return
		}
		completed += n
	}
	_ = st.conn.Conn.Close()
}

// handleAck records one acknowledgement; it returns 1 when a flow is
// complete.
func (st *pubStream) handleAck(a *packet.Ack) (int, error) {
	switch {
	case a.PacketType == packet.PUBACK && st.cfg.QoS == 1:
		st.record(a)
		st.free <- a.PacketID
		return 1, nil
	case a.PacketType == packet.PUBREC && st.cfg.QoS == 2:
		st.record(a)
		if a.ReasonCode.IsError() { // the flow ends here [MQTT-4.3.3-4]
			st.free <- a.PacketID
			return 1, nil
		}
		return 0, sendPacket(st.conn.Conn, st.conn.Version, &packet.Ack{PacketType: packet.PUBREL, PacketID: a.PacketID})
	case a.PacketType == packet.PUBCOMP && st.cfg.QoS == 2:
		st.free <- a.PacketID
		return 1, nil
	}
	return 0, fmt.Errorf("unexpected %v for QoS %d", a.PacketType, st.cfg.QoS)
}

// record marks the seq of an acknowledged packet id.
func (st *pubStream) record(a *packet.Ack) {
	st.mu.Lock()
	defer st.mu.Unlock()
	seq, ok := st.pids[a.PacketID]
	if !ok || a.ReasonCode.IsError() {
		return
	}
	delete(st.pids, a.PacketID)
	st.acked[seq] = true
	st.nAcked++
	if st.nAcked == st.waitFor {
		close(st.reached)
	}
}

func (st *pubStream) stop(err error) {
	st.mu.Lock()
	st.err = err
	st.mu.Unlock()
	_ = st.conn.Conn.Close()
}

// WaitAcked waits until at least n (the reachAt of durStartStream) seqs are
// acknowledged.
func (st *pubStream) WaitAcked(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case <-st.reached:
	case <-st.done:
		t.Fatalf("stream ended after %d acks (want %d): %v", st.AckCount(), st.waitFor, st.err)
	case <-time.After(d):
		t.Fatalf("only %d acks within %v (want %d)", st.AckCount(), d, st.waitFor)
	}
}

// Wait waits for the stream to end (complete, or broken by the broker).
func (st *pubStream) Wait(t testing.TB, d time.Duration) error {
	t.Helper()
	select {
	case <-st.done:
	case <-time.After(d):
		_ = st.conn.Conn.Close()
		t.Fatalf("stream still running after %v", d)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.err
}

// AckCount returns the number of acknowledged seqs so far.
func (st *pubStream) AckCount() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.nAcked
}

// Acked returns the acknowledged seqs in order.
func (st *pubStream) Acked() []int { return st.collect(st.acked) }

// Sent returns the seqs written to the broker in order.
func (st *pubStream) Sent() []int { return st.collect(st.sent) }

func (st *pubStream) collect(marks []bool) []int {
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []int
	for seq, ok := range marks {
		if ok {
			out = append(out, seq)
		}
	}
	return out
}

// missing returns the seqs of want that got does not hold.
func missing(want []int, got map[int]int) []int {
	var out []int
	for _, seq := range want {
		if got[seq] == 0 {
			out = append(out, seq)
		}
	}
	return out
}

// firstFew formats at most 20 seqs for a failure message.
func firstFew(seqs []int) string {
	if len(seqs) > 20 {
		return fmt.Sprint(slices.Clip(seqs[:20])) + "..."
	}
	return fmt.Sprint(seqs)
}
