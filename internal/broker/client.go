package broker

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/herald-mqtt/herald/internal/bufpool"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"golang.org/x/time/rate"
)

// ConnMeta describes a connection handed to ServeConn by a listener.
type ConnMeta struct {
	Listener   string // listener id, "tcp:default"
	RemoteAddr netip.AddrPort
	LocalAddr  netip.AddrPort
	TLS        *tls.ConnectionState
}

const (
	readBufSize  = 64 << 10 // read buffer taken from the pool when data arrives
	firstBufSize = 4 << 10  // buffer for non-TCP transports and the CONNECT
)

// client is one MQTT connection. The read side (everything the read goroutine
// touches) needs no lock. The outbound side (out, flushing, closing, aliasOut,
// held acks) is guarded by sess.mu once the client is attached to its session;
// before that only the read goroutine writes to the connection.
type client struct {
	b    *Broker
	nc   net.Conn
	raw  syscall.RawConn // set for TCP: reads wait for readability with no buffer held
	meta ConnMeta
	info ClientInfo
	sess *session // set once, at attach
	// shared is sess for goroutines other than the reader (Shutdown kicks
	// every connection, attached or not).
	shared atomic.Pointer[session]

	// read side
	rbuf      *[]byte
	rlen      int
	readFn    func(fd uintptr) bool
	rn        int
	rerr      error
	connected bool
	version   byte
	keepAlive time.Duration
	aliasIn   map[uint16]string
	pub       packet.Publish
	w         work
	limiter   *rate.Limiter
	auth      *authExchange // v5 enhanced authentication in progress
	reauth    *authExchange // the method and state for re-authentication
	normal    bool          // a DISCONNECT 0x00 was received: no will
	assigned  bool          // the server assigned the client id

	// the peer's limits, fixed at CONNECT
	maxOut      int    // client's Maximum Packet Size, 0 = none
	recvMax     int    // client's Receive Maximum combined with mqtt.max_inflight
	aliasMax    uint16 // client's Topic Alias Maximum
	problemInfo bool   // Request Problem Information

	// outbound, guarded by sess.mu
	outp     *[]byte // pooled backing of out
	writing  int     // bytes handed to the flusher's current write
	flushing bool    // a flusher goroutine runs or is about to
	closing  bool    // no more writes; close once flushed
	aliasOut map[string]uint16
	drops    int
	held     ring[*ackGroup]

	closeOnce sync.Once
}

// ackGroup is a run of responses held until a durable commit completes, so
// that a PUBACK is never sent before the message it acknowledges is durable.
type ackGroup struct {
	buf   []byte
	ready bool
}

func newClient(b *Broker, nc net.Conn, meta ConnMeta) *client {
	c := &client{b: b, nc: nc, meta: meta}
	c.info.Listener = meta.Listener
	c.info.RemoteAddr = meta.RemoteAddr
	c.w.init(b)
	if tc, ok := nc.(*net.TCPConn); ok {
		if raw, err := tc.SyscallConn(); err == nil {
			c.raw = raw
			c.readFn = c.rawRead
		}
	}
	return c
}

// ServeConn runs one MQTT connection until it ends. It is the listener's
// handler: it owns nc and closes it.
func (b *Broker) ServeConn(nc net.Conn, meta ConnMeta) {
	if b.closing.Load() {
		nc.Close()
		return
	}
	c := newClient(b, nc, meta)
	b.conns.add(c)
	defer b.conns.remove(c)
	err := c.serve()
	c.cleanup(err)
}

func (c *client) serve() error {
	deadline := time.Time{}
	if c.b.cfg.IdleTimeout > 0 {
		deadline = time.Now().Add(c.b.cfg.IdleTimeout)
	}
	_ = c.nc.SetReadDeadline(deadline)
	for {
		if err := c.fill(); err != nil {
			return err
		}
		err := c.process()
		c.endBatch()
		if err != nil {
			return err
		}
		c.refreshDeadline()
	}
}

// refreshDeadline re-arms the keep alive deadline (1.5 x keep alive) after a
// read batch [MQTT-3.1.2-22].
func (c *client) refreshDeadline() {
	if c.connected && c.keepAlive > 0 {
		d := time.Duration(float64(c.keepAlive) * c.b.cfg.KeepaliveMultiplier)
		_ = c.nc.SetReadDeadline(time.Now().Add(d))
	}
}

// fill reads more bytes into the read buffer.
func (c *client) fill() error {
	if c.raw != nil {
		return c.fillRaw()
	}
	if c.rbuf == nil {
		c.rbuf = bufpool.Get(firstBufSize)
	}
	n, err := c.nc.Read((*c.rbuf)[c.rlen:])
	c.rlen += n
	if n > 0 {
		c.w.tally.add(MBytesReceived, n)
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// fillRaw waits for readability holding no buffer, so an idle connection costs
// no read buffer; it takes one from the pool when bytes arrive.
func (c *client) fillRaw() error {
	c.rn, c.rerr = 0, nil
	if err := c.raw.Read(c.readFn); err != nil {
		return err
	}
	if c.rerr != nil {
		return c.rerr
	}
	if c.rn == 0 {
		return io.EOF
	}
	c.rlen += c.rn
	c.w.tally.add(MBytesReceived, c.rn)
	return nil
}

func (c *client) rawRead(fd uintptr) bool {
	if c.rbuf == nil {
		c.rbuf = bufpool.Get(readBufSize)
	}
	n, err := syscall.Read(int(fd), (*c.rbuf)[c.rlen:])
	if err == syscall.EAGAIN {
		if c.rlen == 0 {
			bufpool.Put(c.rbuf)
			c.rbuf = nil
		}
		return false
	}
	if err == syscall.EINTR {
		return false
	}
	if n < 0 {
		n = 0
	}
	c.rn, c.rerr = n, err
	return true
}

// process handles every complete packet in the read buffer and keeps a
// partial one, growing the buffer when a packet is larger than it.
func (c *client) process() error {
	buf := (*c.rbuf)[:c.rlen]
	off := 0
	need := 0
	for off < len(buf) {
		fh, hn, err := packet.ParseFixedHeader(buf[off:])
		if errors.Is(err, packet.ErrShortBuffer) {
			break
		}
		if err != nil {
			return err
		}
		total := hn + fh.Remaining
		if total > c.b.maxPacketSize() {
			return errTooLarge(total)
		}
		if len(buf)-off < total {
			need = total
			break
		}
		if err := c.handle(fh, buf[off+hn:off+total]); err != nil {
			return err
		}
		off += total
	}
	c.compact(off, need)
	return nil
}

// compact drops consumed bytes and makes room for a packet of need bytes.
func (c *client) compact(off, need int) {
	rest := c.rlen - off
	if rest == 0 {
		c.rlen = 0
		if c.raw != nil || cap(*c.rbuf) > readBufSize {
			bufpool.Put(c.rbuf)
			c.rbuf = nil
		}
		return
	}
	if need > len(*c.rbuf) || (need == 0 && rest == len(*c.rbuf)) {
		size := max(need, 2*len(*c.rbuf))
		nb := bufpool.Get(size)
		copy(*nb, (*c.rbuf)[off:c.rlen])
		bufpool.Put(c.rbuf)
		c.rbuf, c.rlen = nb, rest
		return
	}
	if off > 0 {
		copy(*c.rbuf, (*c.rbuf)[off:c.rlen])
		c.rlen = rest
	}
}

// handle dispatches one packet.
func (c *client) handle(fh packet.FixedHeader, body []byte) error {
	c.w.tally.inc(MPacketsReceived)
	if !c.connected {
		return c.handleHandshake(fh, body)
	}
	switch fh.Type {
	case packet.PUBLISH:
		return c.handlePublish(fh, body)
	case packet.PUBACK, packet.PUBREC, packet.PUBCOMP:
		return c.handleOutboundAck(fh, body)
	case packet.PUBREL:
		return c.handlePubrel(fh, body)
	case packet.SUBSCRIBE:
		return c.handleSubscribe(fh, body)
	case packet.UNSUBSCRIBE:
		return c.handleUnsubscribe(fh, body)
	case packet.PINGREQ:
		return c.handlePingreq(fh, body)
	case packet.DISCONNECT:
		return c.handleDisconnect(fh, body)
	case packet.AUTH:
		return c.handleAuth(fh, body)
	case packet.CONNECT:
		return protoErr("second CONNECT") // [MQTT-3.1.0-2]
	}
	return protoErr("unexpected " + fh.Type.String() + " from a client")
}

// endBatch runs after each read batch: flush counters, release held responses
// (after a durable commit when the batch queued anything for persistent
// sessions) and start the flushers of the clients this batch wrote to.
func (c *client) endBatch() {
	c.w.tally.flush(&c.b.metrics, c.w.stripe)
	c.releaseResponses()
	c.w.kickAll()
}
