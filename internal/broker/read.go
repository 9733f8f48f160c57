package broker

import (
	"errors"
	"io"
	"net"
	"os"
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
// never grows), and each burst of input is read and handled by a pooled
// burst worker (burstpool.go) until input pauses. An idle connection therefore
// costs one small goroutine stack and its session state, nothing more. Other
// transports (TLS, WebSocket, PROXY) read in a blocking loop.
func (b *Broker) ServeConn(nc net.Conn, meta ConnMeta) {
	if b.closing.Load() {
		nc.Close()
		return
	}
	c := newClient(b, nc, meta)
	b.conns.add(c)
	c.setConnectDeadline()
	if c.raw == nil {
		c.w = new(work)
		c.w.b, c.w.stripe = b, c.stripe
		c.cleanup(c.serve())
	} else {
		c.serveBursts()
	}
	c.awaitClose()
	b.conns.remove(c)
}

// AdoptConn takes a plain TCP connection without blocking (a
// listener.Adopter): its first burst (the CONNECT, as a rule) runs on a
// burst worker at once, and only a connection that lives on gets its
// waiting goroutine, fresh and shallow. That spares a connect the
// goroutine a blocking handler would need, and a hand-off. release is
// called once the connection is closed.
func (b *Broker) AdoptConn(nc *net.TCPConn, meta ConnMeta, release func()) {
	if b.closing.Load() {
		release()
		return
	}
	c := newClient(b, nc, meta)
	if c.raw == nil { // no raw socket access: a blocking read loop
		go func() {
			defer release()
			b.ServeConn(nc, meta)
		}()
		return
	}
	b.conns.add(c)
	c.setConnectDeadline()
	b.bursts.adopt(c, release)
}

// serveAdopted is an adopted connection's goroutine after its first
// burst: it waits for and runs the next bursts unless that one ended it.
func (c *client) serveAdopted(ended bool, release func()) {
	if !ended {
		c.serveBursts()
	}
	c.awaitClose()
	c.b.conns.remove(c)
	release()
}

// awaitClose returns once the connection is closed, so that a last
// DISCONNECT still being flushed is not cut off by a listener closing nc
// when ServeConn returns. The flusher's write deadline bounds the wait.
// A connection whose write side the flusher shut lingers here, on its own
// goroutine, then closes (linger.go).
func (c *client) awaitClose() {
	deadline := time.Now().Add(2 * closeDeadline)
	for !c.closed.Load() && c.wshut.Load() != wsShut {
		if time.Now().After(deadline) {
			c.closeConn()
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !c.closed.Load() {
		c.linger()
	}
}

// setConnectDeadline bounds the wait for CONNECT (mqtt.idle_timeout).
func (c *client) setConnectDeadline() {
	if d := c.b.conf().IdleTimeout; d > 0 {
		c.limit = time.Now().Add(d).UnixNano()
	}
	c.setDeadline(c.limit)
}

// setDeadline sets the socket's read deadline (unix ns, 0 = none) when it
// changes.
func (c *client) setDeadline(t int64) {
	if t == c.dl {
		return
	}
	c.dl = t
	if t == 0 {
		_ = c.nc.SetReadDeadline(time.Time{})
		return
	}
	_ = c.nc.SetReadDeadline(time.Unix(0, t))
}

// armDeadline re-arms the read deadline after a batch: the keep alive
// limit (1.5 x keep alive [MQTT-3.1.2-22], none for keep alive 0
// [MQTT-3.1.2-23]) or, before CONNECT, mqtt.idle_timeout; a burst goroutine
// waits at most hotIdle on top of that.
func (c *client) armDeadline() {
	now := c.w.clock()
	if c.connected {
		c.limit = 0
		if c.keepAlive > 0 {
			c.limit = now + int64(float64(c.keepAlive)*c.b.conf().KeepaliveMultiplier)
		}
	}
	if !c.bursting {
		c.setDeadline(c.limit)
		return
	}
	hot := now + int64(hotIdle)
	if c.limit != 0 && c.limit < hot {
		hot = c.limit
	}
	c.setDeadline(hot)
}

// serve is the blocking read loop of non-TCP transports.
func (c *client) serve() error {
	for {
		if err := c.readEnd(); err != nil {
			return err
		}
		n, err := c.fill()
		if err != nil {
			return c.readErr(err)
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
	c.armDeadline()
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

// serveBursts waits for input and runs a burst goroutine for each arrival,
// one at a time. It returns once a burst (or the final cleanup) ended the
// connection.
func (c *client) serveBursts() {
	done := make(chan bool, 1)
	for {
		c.setDeadline(c.limit)
		if err := c.waitInput(); err != nil {
			go c.finish(err, done)
		} else {
			c.b.bursts.run(c, done)
		}
		if ended := <-done; ended {
			return
		}
	}
}

// waitInput blocks until the socket is readable (or its deadline passes
// or it is closed) without consuming input and without a buffer; it
// reports errServerClosed, without waiting, once the server half-closes
// the connection.
func (c *client) waitInput() error {
	if err := c.readEnd(); err != nil {
		return err
	}
	return c.readErr(c.raw.Read(c.waitFn))
}

// peekReady reports whether the socket has input (or an error or EOF) to
// read. RawRead resets the poller's readiness before calling it, so it must
// look rather than assume: returning false makes RawRead wait for the next
// edge.
func (c *client) peekReady(fd uintptr) bool {
	_, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&c.peek[0])), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	return errno != syscall.EAGAIN && errno != syscall.EINTR
}

// rawSys runs read(2) or write(2) on a non-blocking socket without telling
// the scheduler it entered a system call: such a call never blocks, and the
// usual entersyscall would wake the runtime's sysmon thread (a futex wake on
// the path of every message after a pause). It returns the byte count and a
// nil error, or -1 and the errno.
func rawSys(trap, fd uintptr, p []byte) (int, error) {
	r, _, errno := syscall.RawSyscall(trap, fd, uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

// hotIdle is how long a burst goroutine keeps waiting for more input before
// it hands the connection back to the waiting goroutine. A connection with
// steady traffic thus stays on one goroutine (no goroutine start or hand-off
// per message, which would wake other threads), while an idle one costs
// only the waiter's small stack.
const hotIdle = 20 * time.Millisecond

// errIdle ends a burst: no input for hotIdle.
var errIdle = errors.New("idle")

// runBurst reads and handles input until the connection has been idle for
// hotIdle and reports false; if the connection ended it cleans up and
// reports true. The handshake burst does not linger, nor read again: most
// connections go quiet after CONNECT, 10k of them connecting at once should
// not hold 10k workers for hotIdle, and the waiter looks for more input
// anyway before it waits (a read that would find EAGAIN saved per connect).
func (c *client) runBurst() (ended bool) {
	c.w = c.getWork()
	c.w.now = time.Now().UnixNano()
	c.bursting = c.connected
	c.armDeadline()
	err := c.burstLoop()
	c.bursting = false
	if err != nil {
		c.cleanup(err)
	}
	putWork(c.w)
	c.w = nil
	return err != nil
}

// burstLoop is runBurst's read loop: nil once the burst is over, else the
// error that ends the connection.
func (c *client) burstLoop() error {
	for {
		if err := c.readEnd(); err != nil {
			return err
		}
		n, err := c.readHot()
		switch {
		case err == errIdle:
			return nil
		case err != nil:
			return c.readErr(err)
		}
		if err := c.batch(n); err != nil {
			return err
		}
		if !c.bursting {
			c.dropEmptyBuf()
			return nil
		}
	}
}

// dropEmptyBuf returns the read buffer to its pool unless it holds part
// of a packet.
func (c *client) dropEmptyBuf() {
	if c.rlen == 0 && c.rbuf != nil {
		bufpool.Put(c.rbuf)
		c.rbuf = nil
	}
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

// fill reads more bytes into the read buffer (blocking transports).
func (c *client) fill() (int, error) {
	if c.rbuf == nil {
		c.rbuf = bufpool.Get(firstBufSize)
	}
	n, err := c.nc.Read((*c.rbuf)[c.rlen:])
	c.rlen += n
	if n > 0 {
		c.w.tally.add(MBytesReceived, n)
		c.ctr.inc(rdRecvCnt)
		c.ctr.add(rdRecvOct, n)
		return n, nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return 0, err
}

// readHot reads input, waiting for it until the burst's deadline: errIdle
// when that was the idle limit, a timeout error when it was the keep alive
// (or CONNECT) limit. While waiting it holds no read buffer: the buffer goes
// back to the pool when no partial packet remains.
func (c *client) readHot() (int, error) {
	c.rn, c.rerr = 0, nil
	if err := c.raw.Read(c.readFn); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) && (c.limit == 0 || time.Now().UnixNano() < c.limit) {
			return 0, errIdle
		}
		return 0, err
	}
	if c.rerr == syscall.EAGAIN {
		return 0, errIdle // a burst that does not linger
	}
	if c.rerr != nil {
		return 0, c.rerr
	}
	if c.rn == 0 {
		return 0, io.EOF
	}
	c.rlen += c.rn
	c.w.tally.add(MBytesReceived, c.rn)
	c.ctr.inc(rdRecvCnt)
	c.ctr.add(rdRecvOct, c.rn)
	return c.rn, nil
}

// rawRead is readHot's read: on EAGAIN it waits for readability (false)
// when the burst lingers, and reports EAGAIN otherwise.
func (c *client) rawRead(fd uintptr) bool {
	if c.rbuf == nil {
		c.rbuf = bufpool.Get(readBufSize)
	}
	for {
		n, err := rawSys(syscall.SYS_READ, fd, (*c.rbuf)[c.rlen:])
		switch err {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			c.dropEmptyBuf()
			if !c.bursting {
				c.rn, c.rerr = 0, err
				return true
			}
			return false
		}
		c.rn, c.rerr = max(n, 0), err
		return true
	}
}
