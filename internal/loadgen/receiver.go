package loadgen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// Errors a receiver ends with.
var (
	// ErrServerDisconnect is a DISCONNECT sent by the broker (v5).
	ErrServerDisconnect = errors.New("broker sent DISCONNECT")
	// ErrClosedByBroker is a connection the broker closed during the run.
	ErrClosedByBroker = errors.New("connection closed by broker")
)

// ackFor is the packet a receiver answers a PUBLISH of each QoS with.
var ackFor = [3]byte{0, typePuback, typePubrec}

// window bounds the send stamps (Unix ns) whose latency is recorded:
// messages sent in [from, to).
type window struct{ from, to atomic.Int64 }

func newWindow() *window {
	w := &window{}
	w.set(math.MaxInt64, math.MaxInt64) // nothing until publishing starts
	return w
}

func (w *window) set(from, to int64) {
	w.from.Store(from)
	w.to.Store(to)
}

// tally accumulates one read's worth of packets before the counters are
// updated once.
type tally struct {
	now, from, to          int64
	delivered, foreign     int64
	acked, rejected, freed int64
}

// receiver owns the receive side of one connection: it counts PUBLISH
// deliveries and their latency, answers QoS 1 and 2 deliveries (all
// answers of one read in one write), and settles the acknowledgements of
// the publisher sharing the connection.
type receiver struct {
	sess     *session
	win      *window
	pub      *publisher // non-nil on a publisher's connection
	countAll bool       // count publishes without our stamp as delivered
	maxWait  time.Duration

	delivered, foreign, reads, waitReads atomic.Int64

	lat  histogram
	out  []byte
	err  error
	done chan struct{}
}

func newReceiver(s *session, win *window, pub *publisher) *receiver {
	return &receiver{sess: s, win: win, pub: pub, out: make([]byte, 0, 4096), done: make(chan struct{})}
}

// rxBuf is the receiver's buffer: bytes [start, end) are not parsed yet.
type rxBuf struct {
	b          []byte
	start, end int
}

// free returns the space to read into, first making room if there is none.
func (x *rxBuf) free() []byte {
	if x.end == len(x.b) {
		if x.start > 0 {
			x.end = copy(x.b, x.b[x.start:x.end])
			x.start = 0
		} else { // a packet larger than the buffer
			nb := make([]byte, 2*len(x.b))
			copy(nb, x.b[:x.end])
			x.b = nb
		}
	}
	return x.b[x.end:]
}

func (x *rxBuf) consumed(n int) {
	x.start += n
	if x.start == x.end {
		x.start, x.end = 0, 0
	}
}

// run reads until the connection is closed.
func (r *receiver) run(bufSize int) {
	defer close(r.done)
	x := &rxBuf{b: make([]byte, bufSize)}
	waited := false
	for {
		n, err := r.read(x.free())
		if r.maxWait > 0 && errors.Is(err, os.ErrDeadlineExceeded) {
			waited = true // below the low-water mark: the next read takes what is there
			continue
		}
		if n > 0 {
			r.countRead(waited)
			waited = false
			x.end += n
			used, perr := r.consume(x.b[x.start:x.end])
			x.consumed(used)
			err = errors.Join(perr, err)
		}
		if err != nil {
			r.err = r.classify(err)
			return
		}
	}
}

func (r *receiver) read(b []byte) (int, error) {
	if r.maxWait > 0 {
		_ = r.sess.conn.SetReadDeadline(time.Now().Add(r.maxWait))
	}
	return r.sess.conn.Read(b)
}

func (r *receiver) countRead(waited bool) {
	r.reads.Add(1)
	if waited {
		r.waitReads.Add(1)
	}
}

// classify turns the error that ended the loop into the receiver's result:
// nil when the tool closed the connection itself.
func (r *receiver) classify(err error) error {
	closed := errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
	switch {
	case r.sess.closing.Load() && closed:
		return nil
	case closed:
		return ErrClosedByBroker
	}
	return err
}

// consume handles every complete packet at the start of b and returns how
// many bytes it used.
func (r *receiver) consume(b []byte) (int, error) {
	t := tally{now: time.Now().UnixNano(), from: r.win.from.Load(), to: r.win.to.Load()}
	i := 0
	var err error
	for len(b)-i >= 2 && err == nil {
		rl, hl := decodeVarint(b[i+1:])
		if hl < 0 {
			err = fmt.Errorf("remaining length: %w", ErrMalformed)
			break
		}
		if hl == 0 || len(b)-i-1-hl < rl {
			break
		}
		err = r.handle(b[i], b[i+1+hl:i+1+hl+rl], &t)
		i += 1 + hl + rl
	}
	r.settle(&t)
	return i, errors.Join(err, r.flush())
}

// handle processes one packet.
func (r *receiver) handle(hdr byte, body []byte, t *tally) error {
	switch hdr >> 4 {
	case typePublish:
		return r.onPublish(hdr, body, t)
	case typePuback:
		r.onPuback(body, t)
	case typePubrec:
		r.onPubrec(body, t)
	case typePubrel:
		if len(body) >= 2 {
			r.out = appendAck(r.out, typePubcomp, binary.BigEndian.Uint16(body))
		}
	case typePubcomp:
		r.onPubcomp(body, t)
	case typeDisconnect:
		return disconnectError(body)
	}
	return nil
}

// onPublish counts a delivery and queues its PUBACK or PUBREC.
func (r *receiver) onPublish(hdr byte, body []byte, t *tally) error {
	if len(body) < 2 {
		return fmt.Errorf("PUBLISH: %w", ErrMalformed)
	}
	p := 2 + int(binary.BigEndian.Uint16(body))
	if qos := hdr >> 1 & 3; qos > 0 && qos < 3 {
		if p+2 > len(body) {
			return fmt.Errorf("PUBLISH packet id: %w", ErrMalformed)
		}
		r.out = appendAck(r.out, ackFor[qos], binary.BigEndian.Uint16(body[p:]))
		p += 2
	}
	if r.sess.version == protoV5 && p < len(body) {
		n, used := decodeVarint(body[p:])
		if used <= 0 {
			return fmt.Errorf("PUBLISH properties: %w", ErrMalformed)
		}
		p += used + n
	}
	if p > len(body) {
		return fmt.Errorf("PUBLISH: %w", ErrMalformed)
	}
	r.count(body[p:], t)
	return nil
}

// count tallies one payload: ours carry a stamp, whose latency is recorded
// if it was sent inside the measured window.
func (r *receiver) count(pay []byte, t *tally) {
	if len(pay) < stampLen {
		t.delivered++ // too short for a stamp (-size < 12)
		return
	}
	if [4]byte(pay[8:12]) != stampMagic {
		if r.countAll {
			t.delivered++
		} else {
			t.foreign++ // not ours: e.g. a retained leftover
		}
		return
	}
	t.delivered++
	st := int64(binary.BigEndian.Uint64(pay))
	if st >= t.from && st < t.to && t.now >= st {
		r.lat.record(uint64(t.now-st) / 1000)
	}
}

// ackInfo splits a PUBACK/PUBREC/PUBCOMP body into packet id and reason
// code (0 when omitted); ok is false without a publisher or an id.
func (r *receiver) ackInfo(body []byte) (id uint16, reason byte, ok bool) {
	if r.pub == nil || len(body) < 2 {
		return 0, 0, false
	}
	if len(body) > 2 {
		reason = body[2]
	}
	return binary.BigEndian.Uint16(body), reason, true
}

// onPuback ends a QoS 1 flow; a v5 reason code >= 0x80 is a refusal.
func (r *receiver) onPuback(body []byte, t *tally) {
	id, reason, ok := r.ackInfo(body)
	if !ok || !r.pub.ids.move(id, idAwaitAck, idFree) {
		return
	}
	t.freed++
	if reason >= 0x80 {
		t.rejected++
	} else {
		t.acked++
	}
}

// onPubrec answers with PUBREL, or ends the flow on a refusal: a PUBREC
// with reason >= 0x80 frees its slot [MQTT-3.3.4-7].
func (r *receiver) onPubrec(body []byte, t *tally) {
	id, reason, ok := r.ackInfo(body)
	if !ok {
		return
	}
	if reason >= 0x80 {
		if r.pub.ids.move(id, idAwaitAck, idFree) {
			t.freed++
			t.rejected++
		}
		return
	}
	if r.pub.ids.move(id, idAwaitAck, idAwaitComp) {
		r.out = appendAck(r.out, typePubrel, id)
	}
}

// onPubcomp ends a QoS 2 flow.
func (r *receiver) onPubcomp(body []byte, t *tally) {
	id, _, ok := r.ackInfo(body)
	if ok && r.pub.ids.move(id, idAwaitComp, idFree) {
		t.freed++
		t.acked++
	}
}

func disconnectError(body []byte) error {
	var reason byte
	if len(body) > 0 {
		reason = body[0]
	}
	return fmt.Errorf("%w: reason 0x%02x", ErrServerDisconnect, reason)
}

// settle adds one read's tally to the counters.
func (r *receiver) settle(t *tally) {
	if t.delivered > 0 {
		r.delivered.Add(t.delivered)
	}
	if t.foreign > 0 {
		r.foreign.Add(t.foreign)
	}
	if r.pub != nil && t.freed > 0 {
		r.pub.settle(t.acked, t.rejected, t.freed)
	}
}

// flush writes the answers of one read: directly on a subscriber's
// connection, through the publisher on a publisher's.
func (r *receiver) flush() error {
	if len(r.out) == 0 {
		return nil
	}
	var err error
	if r.pub != nil {
		r.pub.queueCtrl(r.out)
	} else {
		_, err = r.sess.write(r.out)
	}
	r.out = r.out[:0]
	return err
}
