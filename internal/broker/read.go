package broker

import (
	"errors"
	"io"
	"net"
	"runtime"
	"syscall"
	"time"
	"unsafe"

	"github.com/herald-mqtt/herald/internal/bufpool"
)

// ServeConn runs one MQTT connection until it ends. It is the listener's
// handler: it owns nc and closes it.
//
// Plain TCP connections use the burst model: this goroutine only waits for
// the socket to become readable (holding no buffer, on a shallow stack that
// never grows), and each burst of input is read and handled by a short-lived
// goroutine that exits at the first EAGAIN. An idle connection therefore
// costs one small goroutine stack and its session state, nothing more. Other
// transports (TLS, WebSocket, PROXY) read in a blocking loop.
func (b *Broker) ServeConn(nc net.Conn, meta ConnMeta) {
	if b.closing.Load() {
		nc.Close()
		return
	}
	c := newClient(b, nc, meta)
	b.conns.add(c)
	defer b.conns.remove(c)
	c.setConnectDeadline()
	if c.raw == nil {
		c.w = new(work)
		c.w.b, c.w.stripe = b, c.stripe
		c.cleanup(c.serve())
	} else {
		c.serveBursts()
	}
	c.awaitClose()
}

// awaitClose returns once the connection is closed, so that a last
// DISCONNECT still being flushed is not cut off by a listener closing nc
// when ServeConn returns. The flusher's write deadline bounds the wait.
func (c *client) awaitClose() {
	deadline := time.Now().Add(2 * closeDeadline)
	for !c.closed.Load() {
		if time.Now().After(deadline) {
			c.closeConn()
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// setConnectDeadline bounds the wait for CONNECT (mqtt.idle_timeout).
func (c *client) setConnectDeadline() {
	if d := c.b.cfg.IdleTimeout; d > 0 {
		_ = c.nc.SetReadDeadline(time.Now().Add(d))
	}
}

// serve is the blocking read loop of non-TCP transports.
func (c *client) serve() error {
	for {
		n, err := c.fill()
		if err != nil {
			return err
		}
		if err := c.batch(n); err != nil {
			return err
		}
	}
}

// batch handles what one read brought in and ends the batch. When the
// batch stopped early for backpressure, the rest of the buffer is handled
// after the wait, before the socket is read again.
func (c *client) batch(n int) error {
	for {
		c.w.now = time.Now().UnixNano()
		err := c.process()
		stalled := c.w.stall != nil || c.w.sleep > 0
		c.endBatch()
		if err != nil {
			return err
		}
		if !stalled || c.rlen == 0 {
			break
		}
	}
	c.refreshDeadline()
	if n >= yieldBytes {
		// More input is likely waiting: let other connections (a
		// subscriber's acks, above all) run before this reader takes the
		// next batch, as a broker's event loop would.
		runtime.Gosched()
	}
	return nil
}

// yieldBytes is the read size from which a reader yields after its batch.
const yieldBytes = 16 << 10

// errWouldBlock ends a burst: the socket has no more input for now.
var errWouldBlock = errors.New("would block")

// serveBursts waits for input and runs a burst goroutine for each arrival,
// one at a time. It returns once a burst (or the final cleanup) ended the
// connection.
func (c *client) serveBursts() {
	done := make(chan bool, 1)
	for {
		if err := c.waitReadable(); err != nil {
			go c.finish(err, done)
		} else {
			go c.burst(done)
		}
		if ended := <-done; ended {
			return
		}
	}
}

// waitReadable blocks until the socket is readable (or its deadline passes
// or it is closed) without consuming input and without a buffer.
func (c *client) waitReadable() error { return c.raw.Read(c.waitFn) }

// peekReady reports whether the socket has input (or an error or EOF) to
// read. RawRead resets the poller's readiness before calling it, so it must
// look rather than assume: returning false makes RawRead wait for the next
// edge.
func (c *client) peekReady(fd uintptr) bool {
	_, _, errno := syscall.Syscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&c.peek[0])), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	return errno != syscall.EAGAIN && errno != syscall.EINTR
}

// burst reads and handles input until the socket would block, then reports
// done <- false; if the connection ended it cleans up and reports true.
func (c *client) burst(done chan<- bool) {
	c.w = c.getWork()
	for {
		n, err := c.fillRaw()
		if err == errWouldBlock {
			break
		}
		if err == nil {
			err = c.batch(n)
		}
		if err != nil {
			c.cleanup(err)
			putWork(c.w)
			c.w = nil
			done <- true
			return
		}
	}
	putWork(c.w)
	c.w = nil
	done <- false
}

// finish cleans up after the waiting goroutine saw the connection end
// (keep alive deadline, closed by the server, reset).
func (c *client) finish(err error, done chan<- bool) {
	c.w = c.getWork()
	c.cleanup(err)
	putWork(c.w)
	c.w = nil
	done <- true
}

// refreshDeadline re-arms the keep alive deadline (1.5 x keep alive) after a
// read batch [MQTT-3.1.2-22].
func (c *client) refreshDeadline() {
	if !c.connected {
		return
	}
	if c.keepAlive > 0 {
		d := time.Duration(float64(c.keepAlive) * c.b.cfg.KeepaliveMultiplier)
		_ = c.nc.SetReadDeadline(time.Unix(0, c.w.clock()).Add(d))
	} else if !c.noDeadline {
		_ = c.nc.SetReadDeadline(time.Time{}) // keep alive 0: no timeout [MQTT-3.1.2-23]
		c.noDeadline = true
	}
}

// fill reads more bytes into the read buffer (blocking transports).
func (c *client) fill() (int, error) {
	if c.rbuf == nil {
		c.rbuf = bufpool.Get(firstBufSize)
	}
	n, err := c.nc.Read((*c.rbuf)[c.rlen:])
	c.rlen += n
	if n > 0 {
		c.w.tally.add(MBytesReceived, n)
		return n, nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return 0, err
}

// fillRaw reads what the socket has, without waiting: errWouldBlock when
// nothing is there. The read buffer comes from the pool and goes back to it
// when no partial packet remains (see compact).
func (c *client) fillRaw() (int, error) {
	c.rn, c.rerr = 0, nil
	if err := c.raw.Read(c.readFn); err != nil {
		return 0, err
	}
	if c.rerr == syscall.EAGAIN {
		if c.rlen == 0 && c.rbuf != nil {
			bufpool.Put(c.rbuf)
			c.rbuf = nil
		}
		return 0, errWouldBlock
	}
	if c.rerr != nil {
		return 0, c.rerr
	}
	if c.rn == 0 {
		return 0, io.EOF
	}
	c.rlen += c.rn
	c.w.tally.add(MBytesReceived, c.rn)
	return c.rn, nil
}

// rawRead is the one non-blocking read syscall of fillRaw.
func (c *client) rawRead(fd uintptr) bool {
	if c.rbuf == nil {
		c.rbuf = bufpool.Get(readBufSize)
	}
	for {
		n, err := syscall.Read(int(fd), (*c.rbuf)[c.rlen:])
		if err == syscall.EINTR {
			continue
		}
		c.rn, c.rerr = max(n, 0), err
		return true
	}
}
