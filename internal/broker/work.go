package broker

import (
	"sync"
	"time"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

// work is the scratch state of one goroutine that routes messages: a
// connection's reader, or a short-lived internal publisher (API, will, $SYS).
// It batches what can wait until the end of a read batch: counter updates,
// flusher start-ups (one per subscriber per batch, not per message) and the
// durable commit that gates acknowledgements.
type work struct {
	b       *Broker
	pub     packet.Publish // decode target of a reader's PUBLISH
	tally   tally
	stripe  uint32
	kicks   []*client
	matches []match
	seen    map[*session]int
	barrier bool   // a store commit was issued: acks wait for a durable barrier
	resp    []byte // responses of the current read batch (PUBACK, SUBACK, ...)
	ids     []uint32
	in      inbound       // the message being routed by a reader
	sleep   time.Duration // publish-rate throttle to apply after the batch
	now     int64         // unix ns, read once per batch; 0 = not read yet
	self    *session      // the reader's own session (never waited on)
	stall   *session      // a congested subscriber to wait for after the batch
}

// clock returns the batch's time, reading the clock at most once per batch.
func (w *work) clock() int64 {
	if w.now == 0 {
		w.now = time.Now().UnixNano()
	}
	return w.now
}

func (w *work) init(b *Broker) {
	w.b = b
	w.stripe = b.metrics.stripe()
}

var workPool = sync.Pool{New: func() any { return new(work) }}

// getWork takes a work for a connection's read burst.
func (c *client) getWork() *work {
	w := workPool.Get().(*work)
	w.b, w.stripe, w.self = c.b, c.stripe, c.sess
	return w
}

// putWork returns a work once its batch has ended (nothing is pending in it).
func putWork(w *work) {
	w.self, w.in.msg, w.now = nil, nil, 0
	w.pub.Topic, w.pub.Payload = nil, nil
	w.in.tmpl.Topic, w.in.tmpl.Payload = nil, nil
	if cap(w.resp) > 64<<10 {
		w.resp = nil
	}
	if cap(w.matches) > 1024 {
		w.matches = nil
	}
	workPool.Put(w)
}

// kick records that c has bytes to write and no running flusher.
// c's session lock is held on entry and c.flushing was just set.
func (w *work) kick(c *client) { w.kicks = append(w.kicks, c) }

// kickAll starts the flushers recorded during the batch.
// A batch that woke few connections writes to them itself (one non-blocking
// write each), which saves waking a thread for a flusher and so cuts latency;
// a wider batch hands the writes to flusher goroutines that run in parallel.
func (w *work) kickAll() {
	inline := len(w.kicks) <= inlineKicks
	for i, c := range w.kicks {
		if inline {
			c.flushNow()
		} else {
			go c.flushLoop()
		}
		w.kicks[i] = nil
	}
	w.kicks = w.kicks[:0]
}

// inlineKicks is the most connections a batch writes to inline.
const inlineKicks = 2

// finish ends a one-shot work (not a connection's reader).
func (w *work) finish() {
	w.tally.flush(&w.b.metrics, w.stripe)
	w.kickAll()
}
