package httplimit

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// writeChunk is the most one deadline covers: a longer write is made in
// pieces, each with a fresh deadline, so a slow but moving reader is not
// cut off in the middle of a large response.
const writeChunk = 64 << 10

// Listener is a net.Listener whose connections are bounded in number and
// whose writes are bounded in time.
type Listener struct {
	net.Listener
	max      int64
	send     time.Duration
	onRefuse func(total uint64)

	open     atomic.Int64
	accepted atomic.Uint64
	refused  atomic.Uint64
}

// Stats are a Listener's counters.
type Stats struct {
	Open     int64  // connections accepted and not yet closed
	Accepted uint64 // connections accepted (and served) in all
	Refused  uint64 // connections closed at once because Open was at the maximum
}

// New wraps ln. max (> 0) bounds the open connections; send (0 = none)
// bounds how long a write of up to 64 KB may take. onRefuse, if not nil, is
// called after each refused connection with the running total, on the
// accepting goroutine.
func New(ln net.Listener, max int, send time.Duration, onRefuse func(total uint64)) *Listener {
	return &Listener{Listener: ln, max: int64(max), send: send, onRefuse: onRefuse}
}

// Accept returns the next connection under the maximum; connections over
// it are closed as they arrive.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= l.max {
			l.accepted.Add(1)
			return &conn{Conn: c, l: l}, nil
		}
		l.open.Add(-1)
		_ = c.Close()
		n := l.refused.Add(1)
		if l.onRefuse != nil {
			l.onRefuse(n)
		}
	}
}

// Stats returns the counters.
func (l *Listener) Stats() Stats {
	return Stats{Open: l.open.Load(), Accepted: l.accepted.Load(), Refused: l.refused.Load()}
}

// conn frees its slot when closed and puts a deadline on every write.
type conn struct {
	net.Conn
	l    *Listener
	once sync.Once
}

// Write writes b in pieces of at most writeChunk bytes, each of which must
// be taken within the send timeout.
func (c *conn) Write(b []byte) (int, error) {
	if c.l.send <= 0 {
		return c.Conn.Write(b)
	}
	n := 0
	for len(b) > 0 {
		piece := b[:min(len(b), writeChunk)]
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.l.send))
		m, err := c.Conn.Write(piece)
		n += m
		if err != nil {
			return n, err
		}
		b = b[m:]
	}
	return n, nil
}

// Close closes the connection and frees its slot (once).
func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.open.Add(-1) })
	return err
}
