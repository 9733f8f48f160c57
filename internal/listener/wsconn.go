package listener

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// wsCloseTimeout bounds the WebSocket close handshake in wsConn.Close.
const wsCloseTimeout = time.Second

// wsConn is the net.Conn a WebSocket Handler gets. Read returns the
// payloads of binary messages as one byte stream [MQTT-6.0.0-2]; a text
// message closes the connection with 1003 [MQTT-6.0.0-1]; each Write is
// sent as one binary message. Write and Close may run concurrently.
//
// Deadlines work, but unlike TCP a deadline that expires while a Read or
// Write is blocked closes the connection (coder/websocket semantics). The
// returned error then wraps os.ErrDeadlineExceeded.
type wsConn struct {
	net.Conn      // websocket.NetConn
	ws            *websocket.Conn
	raw           net.Conn // the hijacked transport
	remote, local net.Addr
	readDL        atomic.Int64 // unix nanos, 0 = none
	writeDL       atomic.Int64
}

func newWSConn(ws *websocket.Conn, raw net.Conn, meta ConnMeta) *wsConn {
	return &wsConn{
		Conn:   websocket.NetConn(context.Background(), ws, websocket.MessageBinary),
		ws:     ws,
		raw:    raw,
		remote: net.TCPAddrFromAddrPort(meta.RemoteAddr),
		local:  net.TCPAddrFromAddrPort(meta.LocalAddr),
	}
}

func (c *wsConn) RemoteAddr() net.Addr { return c.remote }
func (c *wsConn) LocalAddr() net.Addr  { return c.local }

func (c *wsConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	return n, deadlineErr(err, &c.readDL)
}

func (c *wsConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	return n, deadlineErr(err, &c.writeDL)
}

// deadlineErr marks err as a timeout when the deadline dl has passed.
func deadlineErr(err error, dl *atomic.Int64) error {
	if err == nil {
		return nil
	}
	if d := dl.Load(); d != 0 && time.Now().UnixNano() >= d {
		return fmt.Errorf("%w: %w", os.ErrDeadlineExceeded, err)
	}
	return err
}

func storeDL(dl *atomic.Int64, t time.Time) {
	if t.IsZero() {
		dl.Store(0)
		return
	}
	dl.Store(t.UnixNano())
}

func (c *wsConn) SetDeadline(t time.Time) error {
	storeDL(&c.readDL, t)
	storeDL(&c.writeDL, t)
	return c.Conn.SetDeadline(t)
}

func (c *wsConn) SetReadDeadline(t time.Time) error {
	storeDL(&c.readDL, t)
	return c.Conn.SetReadDeadline(t)
}

func (c *wsConn) SetWriteDeadline(t time.Time) error {
	storeDL(&c.writeDL, t)
	return c.Conn.SetWriteDeadline(t)
}

// Close sends a close frame and waits for the peer's, at most
// wsCloseTimeout, then closes the transport.
func (c *wsConn) Close() error {
	_ = c.raw.SetDeadline(time.Now().Add(wsCloseTimeout))
	err := c.ws.Close(websocket.StatusNormalClosure, "")
	_ = c.Conn.Close() // stops the deadline timers
	_ = c.raw.Close()
	return err
}
