package broker

import "time"

// work is the scratch state of one goroutine that routes messages: a
// connection's reader, or a short-lived internal publisher (API, will, $SYS).
// It batches what can wait until the end of a read batch: counter updates,
// flusher start-ups (one per subscriber per batch, not per message) and the
// durable commit that gates acknowledgements.
type work struct {
	b       *Broker
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
}

func (w *work) init(b *Broker) {
	w.b = b
	w.stripe = b.metrics.stripe()
}

// kick records that c has bytes to write and no running flusher.
// c's session lock is held on entry and c.flushing was just set.
func (w *work) kick(c *client) { w.kicks = append(w.kicks, c) }

// kickAll starts the flushers recorded during the batch.
func (w *work) kickAll() {
	for i, c := range w.kicks {
		go c.flushLoop()
		w.kicks[i] = nil
	}
	w.kicks = w.kicks[:0]
}

// finish ends a one-shot work (not a connection's reader).
func (w *work) finish() {
	w.tally.flush(&w.b.metrics, w.stripe)
	w.kickAll()
}
