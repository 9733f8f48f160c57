package loadgen

import (
	"encoding/binary"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Payload layout: [0:8] send time in Unix nanoseconds (big endian), [8:12]
// stampMagic, then filler. Wall-clock stamps let a `sub` run measure the
// latency of a `pub` run in another process. Shorter payloads carry no stamp.
const stampLen = 12

var stampMagic = [4]byte{'H', 'B', 'L', 'D'}

// smallWindow is the publisher window below which the publisher writes as
// soon as one slot is free.
const smallWindow = 256

// errStopped ends the publishing loop without being an error.
var errStopped = errors.New("stopped")

// Packet identifier states of a QoS>0 publish.
const (
	idFree      uint32 = iota
	idAwaitAck         // PUBACK (QoS 1) or PUBREC (QoS 2) due
	idAwaitComp        // QoS 2: PUBREL queued, PUBCOMP due
)

// idTable holds the state of every packet identifier of one publisher; the
// publisher takes ids, its receiver releases them.
type idTable struct {
	state []atomic.Uint32
	next  uint16 // publisher goroutine only
}

func newIDTable() *idTable {
	return &idTable{state: make([]atomic.Uint32, 1<<16)}
}

// take returns a non-zero id that is currently unused and marks it awaiting
// its acknowledgement [MQTT-2.2.1-3]. The caller keeps fewer than 65535 in use.
func (t *idTable) take() uint16 {
	for {
		t.next++
		if t.next != 0 && t.state[t.next].CompareAndSwap(idFree, idAwaitAck) {
			return t.next
		}
	}
}

// move changes id from state from to state to; false if it was not in from.
func (t *idTable) move(id uint16, from, to uint32) bool {
	return t.state[id].CompareAndSwap(from, to)
}

// ctrlQueue holds packets the receiver wants written on a publisher's
// connection (PUBREL, acks), so that the publisher stays its only writer
// and the receiver never blocks behind a large write.
type ctrlQueue struct {
	mu  sync.Mutex
	buf []byte
}

func (q *ctrlQueue) add(b []byte) {
	q.mu.Lock()
	q.buf = append(q.buf, b...)
	q.mu.Unlock()
}

// swap returns the queued bytes and keeps spare (emptied) as the new queue.
func (q *ctrlQueue) swap(spare []byte) []byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.buf
	q.buf = spare[:0]
	return out
}

// pubSpec describes what a publisher sends.
type pubSpec struct {
	version    byte
	topic      string
	qos        byte
	size       int
	batchBytes int
	rate       float64 // msgs/s, 0 = as fast as possible
	window     int     // max unacknowledged QoS>0 publishes
	grace      time.Duration
}

// publisher owns the send side of one connection. It writes a batch of
// copies of one pre-encoded PUBLISH, patching only packet ids (QoS>0) and
// send stamps (one clock read per batch).
type publisher struct {
	sess     *session
	qos      byte
	batch    []byte
	pktLen   int
	pidOff   int
	stampOff int // -1: no stamp
	maxMsgs  int
	rate     float64
	window   int64
	minRoom  int64         // QoS>0: write again only once this many slots are free
	grace    time.Duration // how long the last write may block past the end

	sent, acked, rejected, inflight atomic.Int64

	ids    *idTable
	ctrl   ctrlQueue
	spare  []byte
	roomCh chan struct{} // receiver: window slots freed
	ctrlCh chan struct{} // receiver: control packets queued
	timer  *time.Timer
	start  time.Time

	published chan struct{} // closed when the publishing phase ends
	done      chan struct{} // closed when run returns
	err       error
}

func newPublisher(s *session, sp pubSpec) *publisher {
	pp := encodePublish(sp.version, sp.topic, sp.qos, filler(sp.size))
	p := &publisher{
		sess: s, qos: sp.qos, pktLen: len(pp.pkt), pidOff: pp.pidOff, stampOff: -1,
		rate: sp.rate, window: int64(sp.window), grace: sp.grace, ids: newIDTable(),
		roomCh: make(chan struct{}, 1), ctrlCh: make(chan struct{}, 1),
		timer: time.NewTimer(time.Hour), published: make(chan struct{}), done: make(chan struct{}),
	}
	p.timer.Stop()
	if sp.size >= stampLen {
		copy(pp.pkt[pp.payOff+8:], stampMagic[:])
		p.stampOff = pp.payOff
	}
	p.maxMsgs = max(1, sp.batchBytes/len(pp.pkt))
	p.batch = make([]byte, 0, p.maxMsgs*len(pp.pkt))
	for range p.maxMsgs {
		p.batch = append(p.batch, pp.pkt...)
	}
	p.minRoom = p.roomThreshold()
	return p
}

// roomThreshold: at full speed a QoS>0 publisher with a large window waits
// for a quarter of it (at most a batch) to be acknowledged, for fewer,
// larger writes. With a small window (a v5 Receive Maximum) it writes as
// soon as a slot is free: waiting for several acks from a broker that uses
// Nagle's algorithm stalls until our delayed ACK (tens of ms).
func (p *publisher) roomThreshold() int64 {
	if p.rate > 0 || p.window < smallWindow {
		return 1
	}
	return min(p.window/4, int64(p.maxMsgs))
}

func filler(size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = 'x'
	}
	return b
}

// run publishes until endAt, then keeps writing queued control packets
// (QoS 2 PUBRELs of the last publishes) until stop is closed.
func (p *publisher) run(endAt time.Time, stop <-chan struct{}) {
	defer close(p.done)
	err := p.publish(endAt)
	close(p.published)
	if !p.benign(err) {
		p.err = err
		return
	}
	if err = p.serveCtrl(stop); !p.benign(err) {
		p.err = err
	}
}

// benign reports whether err ends the loop normally: no error, the write
// deadline, or the tool closing the connection itself.
func (p *publisher) benign(err error) bool {
	return err == nil || errors.Is(err, errStopped) ||
		(p.sess.closing.Load() && errors.Is(err, net.ErrClosed))
}

func (p *publisher) publish(endAt time.Time) error {
	p.start = time.Now()
	_ = p.sess.conn.SetWriteDeadline(endAt.Add(p.grace))
	defer p.sess.conn.SetWriteDeadline(time.Time{})
	for time.Now().Before(endAt) {
		if err := p.flushCtrl(); err != nil {
			return err
		}
		if n := p.allowance(endAt); n > 0 {
			if err := p.send(n); err != nil {
				return err
			}
		}
	}
	return nil
}

// serveCtrl writes queued control packets until stop is closed.
func (p *publisher) serveCtrl(stop <-chan struct{}) error {
	for {
		select {
		case <-stop:
			return nil
		case <-p.ctrlCh:
			if err := p.writeCtrl(); err != nil {
				return err
			}
		}
	}
}

// allowance returns how many messages may be written now. It returns 0
// after waiting for the rate, for window room or for control packets.
func (p *publisher) allowance(endAt time.Time) int {
	n := p.maxMsgs
	if p.rate > 0 {
		if n = p.dueByRate(endAt); n == 0 {
			return 0
		}
	}
	if p.qos > 0 {
		n = min(n, p.room(endAt))
	}
	return n
}

// dueByRate returns how many messages are due at the open-loop rate, or
// waits until the next one is and returns 0.
func (p *publisher) dueByRate(endAt time.Time) int {
	now := time.Now()
	sent := p.sent.Load()
	due := int64(p.rate*now.Sub(p.start).Seconds()) + 1 - sent
	if due > 0 {
		return int(min(due, int64(p.maxMsgs)))
	}
	next := p.start.Add(time.Duration(float64(sent) / p.rate * float64(time.Second)))
	if next.After(endAt) {
		next = endAt
	}
	p.wait(next.Sub(now), nil)
	return 0
}

// room returns the free window slots, or waits for acknowledgements and
// returns 0 while fewer than minRoom are free.
func (p *publisher) room(endAt time.Time) int {
	if r := p.window - p.inflight.Load(); r >= p.minRoom {
		return int(r)
	}
	p.wait(time.Until(endAt), p.roomCh)
	return 0
}

// wait blocks for d, or until ch (if not nil) or ctrlCh is signalled.
func (p *publisher) wait(d time.Duration, ch chan struct{}) {
	if d <= 0 {
		return
	}
	p.timer.Reset(d)
	select {
	case <-p.timer.C:
	case <-ch:
	case <-p.ctrlCh:
		p.notifyCtrl() // keep the token for flushCtrl's caller
	}
	p.timer.Stop()
}

// send patches and writes n messages.
func (p *publisher) send(n int) error {
	if p.qos > 0 {
		p.assignIDs(n)
	}
	if p.stampOff >= 0 {
		p.stamp(n)
	}
	w, err := p.sess.write(p.batch[:n*p.pktLen])
	p.sent.Add(int64(w / p.pktLen))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return errStopped
	}
	return err
}

func (p *publisher) assignIDs(n int) {
	for j := range n {
		id := p.ids.take()
		off := j*p.pktLen + p.pidOff
		p.batch[off] = byte(id >> 8)
		p.batch[off+1] = byte(id)
	}
	p.inflight.Add(int64(n))
}

func (p *publisher) stamp(n int) {
	st := uint64(time.Now().UnixNano())
	for j := range n {
		binary.BigEndian.PutUint64(p.batch[j*p.pktLen+p.stampOff:], st)
	}
}

// flushCtrl writes the control packets the receiver queued, if it
// signalled any.
func (p *publisher) flushCtrl() error {
	select {
	case <-p.ctrlCh:
		return p.writeCtrl()
	default:
		return nil
	}
}

// writeCtrl writes the queued control packets; the caller has taken the
// ctrlCh token.
func (p *publisher) writeCtrl() error {
	out := p.ctrl.swap(p.spare)
	_, err := p.sess.write(out)
	p.spare = out
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return errStopped
	}
	return err
}

// queueCtrl is called by the receiver with packets to write.
func (p *publisher) queueCtrl(b []byte) {
	p.ctrl.add(b)
	p.notifyCtrl()
}

func (p *publisher) notifyCtrl() {
	select {
	case p.ctrlCh <- struct{}{}:
	default:
	}
}

// settle is called by the receiver after each read: acked and rejected
// publishes, and freed window slots.
func (p *publisher) settle(acked, rejected, freed int64) {
	if acked > 0 {
		p.acked.Add(acked)
	}
	if rejected > 0 {
		p.rejected.Add(rejected)
	}
	if freed > 0 && p.window-p.inflight.Add(-freed) >= p.minRoom {
		select {
		case p.roomCh <- struct{}{}:
		default:
		}
	}
}
