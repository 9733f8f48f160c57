package broker

import (
	"errors"
	"time"

	"github.com/herald-mqtt/herald/internal/bufpool"
)

// The linger after a server-initiated close.
//
// When the server ends a connection with a DISCONNECT (v5) or a refusing
// CONNACK, the client may still be writing packets it sent before it read
// that last one (PUBRELs for PUBRECs it got earlier, a pipelined SUBSCRIBE).
// Were the socket closed at once, the kernel would answer them with a reset:
// the client's next write fails (broken pipe) and a client that gives up
// then never reads why it was disconnected. So once the last packet is
// flushed the server shuts its write side only (TCP FIN; for TLS,
// close_notify): the client reads the packet, then EOF. It keeps reading and
// discarding, on the connection's own goroutine (never a burst worker),
// until the client closes, lingerTime passes or lingerBytes arrived, and
// then closes. WebSocket connections need none of this: their close
// handshake (wsConn.Close) already discards data until the peer's close
// frame. Shutdown does not wait for lingering connections: it closes them.
const (
	lingerBytes   = 64 << 10 // what a client may still have in flight: a socket buffer's worth
	lingerBufSize = 2 << 10  // the discard buffer, pooled; held only while lingering
)

// lingerTime bounds a linger (a variable so that a test can lengthen it).
var lingerTime = 2 * time.Second

// Write-side states of a connection (client.wshut).
const (
	wsOpen     int32 = iota
	wsShutting       // the flusher is half-closing: readers stop handling input
	wsShut           // the write side is shut: awaitClose lingers, then closes
)

// errServerClosed ends the read side of a connection the server closed.
var errServerClosed = errors.New("closed by the server")

// closeWriter is a connection that can shut its write side alone
// (*net.TCPConn, *tls.Conn, the PROXY protocol wrappers).
type closeWriter interface{ CloseWrite() error }

// aLongTimeAgo is a read deadline in the past: it wakes a blocked reader.
var aLongTimeAgo = time.Unix(1, 0)

// endFlushed ends a closing connection whose last packet has been written:
// a half-close and a linger when lingers (a DISCONNECT or a refusing
// CONNACK was sent, and no write failed), a close otherwise. During
// Shutdown it closes.
func (c *client) endFlushed(lingers bool) {
	cw, ok := c.nc.(closeWriter)
	if !lingers || !ok || c.b.closing.Load() {
		c.closeConn()
		return
	}
	c.wshut.Store(wsShutting) // before the deadline below: see readEnd
	if cw.CloseWrite() != nil {
		c.closeConn()
		return
	}
	_ = c.nc.SetReadDeadline(aLongTimeAgo)
	c.wshut.Store(wsShut)
}

// readEnd reports errServerClosed once the server has begun to half-close
// the connection: the reader then stops handling input and the connection's
// goroutine lingers. A reader checks it after setting its read deadline and
// before it waits: endFlushed sets the state before it moves the deadline
// into the past, so either the reader sees the state or its wait is woken.
func (c *client) readEnd() error {
	if c.wshut.Load() != wsOpen {
		return errServerClosed
	}
	return nil
}

// readErr is the error that ended a read (or nil): errServerClosed once
// the server half-closes the connection, since its wake-up deadline (or
// the client's reaction) is not the reason the connection ends.
func (c *client) readErr(err error) error {
	if end := c.readEnd(); end != nil {
		return end
	}
	return err
}

// linger reads and discards what the client still sends after the
// server's last packet, until the client closes, lingerTime passes or
// lingerBytes arrived, then closes the connection. Shutdown cuts it short
// (cutLinger).
func (c *client) linger() {
	defer c.closeConn()
	if c.b.closing.Load() {
		return
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(lingerTime))
	bp := bufpool.Get(lingerBufSize)
	defer bufpool.Put(bp)
	for n := 0; n < lingerBytes; {
		k, err := c.nc.Read(*bp)
		if err != nil {
			return
		}
		n += k
	}
}

// cutLinger closes a connection whose write side is shut or being shut,
// lingering or about to: Shutdown does not wait for lingers. A linger that
// starts after this looks at b.closing and does not begin.
func (c *client) cutLinger() {
	if c.wshut.Load() != wsOpen {
		c.closeConn()
	}
}
