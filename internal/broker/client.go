package broker

import (
	"crypto/tls"
	"errors"
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
	// attachedTo is sess for goroutines other than the reader (Shutdown's
	// kick), which may run while the CONNECT is being handled.
	attachedTo atomic.Pointer[session]

	// read side
	rbuf       *[]byte
	rlen       int
	readFn     func(fd uintptr) bool
	waitFn     func(fd uintptr) bool
	peek       [1]byte
	writeFn    func(fd uintptr) bool
	wbuf       []byte // the inline write in progress (flushing role held)
	wn         int
	werr       error
	limit      int64 // unix ns: keep alive (or CONNECT) read deadline, 0 = none
	dl         int64 // the read deadline set on the socket, 0 = none
	bursting   bool  // a burst goroutine owns the read side (hotIdle applies)
	stripe     uint32
	rn         int
	rerr       error
	connected  bool
	version    byte
	keepAlive  time.Duration
	aliasIn    map[uint16]string
	w          *work // per-batch scratch: pooled, held only while input is processed
	limiter    *rate.Limiter
	auth       *authExchange     // v5 enhanced authentication in progress
	reauth     *authExchange     // the method and state for re-authentication
	normal     bool              // a DISCONNECT 0x00 was received: no will
	discRC     packet.ReasonCode // the reason code of the client's DISCONNECT
	assigned   bool              // the server assigned the client id
	cleanStart bool              // the CONNECT's Clean Start (Clean Session) flag

	// the peer's limits, fixed at CONNECT
	maxOut      int    // client's Maximum Packet Size, 0 = none
	recvMax     int    // client's Receive Maximum combined with mqtt.max_inflight
	aliasMax    uint16 // client's Topic Alias Maximum
	problemInfo bool   // Request Problem Information

	// our limits as CONNACK states them, fixed at CONNECT (UpdateConfig
	// applies to later connections; mqtt.max_packet_size alone is live)
	maxQoS     byte   // mqtt.max_qos_allowed
	retainOK   bool   // mqtt.retain_available
	aliasInMax uint16 // mqtt.max_topic_alias
	ourRecvMax int    // mqtt.max_inflight: our Receive Maximum
	serverKA   uint16 // Server Keep Alive (v5; mqtt.server_keepalive or max_keepalive), 0 = none

	// outbound, guarded by sess.mu
	outp     *[]byte // pooled backing of out
	writing  int     // bytes handed to the flusher's current write
	flushing bool    // a flusher goroutine runs or is about to
	closing  bool    // no more writes; close once flushed
	lingers  bool    // closing after a DISCONNECT or refusing CONNACK: half-close and linger (linger.go)
	aliasOut map[string]uint16
	drops    int
	held     ring[*ackGroup]
	end      serverClose // why the server closed the connection, first cause (noteEnd)
	out      outCounts   // sent and dropped, next to the state it counts

	ctr connCounters // per-connection traffic counters (see counters.go)

	closeOnce sync.Once
	closed    atomic.Bool  // set by closeConn
	wshut     atomic.Int32 // write-side state: wsOpen, wsShutting, wsShut (linger.go)
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
	c.stripe = b.metrics.stripe()
	if tc, ok := nc.(*net.TCPConn); ok {
		if raw, err := tc.SyscallConn(); err == nil {
			c.raw = raw
			c.readFn = c.rawRead
			c.waitFn = c.peekReady
		}
	}
	return c
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
			return c.tooLarge(fh, buf[off+hn:], total)
		}
		if len(buf)-off < total {
			need = total
			break
		}
		if err := c.handle(fh, buf[off+hn:off+total]); err != nil {
			return err
		}
		off += total
		if c.w.stall != nil || c.w.sleep > 0 {
			break // a congested subscriber or the publish rate: wait before handling more
		}
	}
	c.compact(off, need)
	return nil
}

// tooLarge ends a connection whose packet exceeds mqtt.max_packet_size. A
// first packet that is a v5 CONNECT gets CONNACK 0x95 first, as EMQX does;
// the level is read from the start of its variable header (2-byte protocol
// name length, the name, the level).
func (c *client) tooLarge(fh packet.FixedHeader, head []byte, total int) error {
	err := errTooLarge(total)
	if c.connected || c.version != 0 || fh.Type != packet.CONNECT || len(head) < 2 {
		return err
	}
	if n := int(head[0])<<8 | int(head[1]); len(head) > 2+n && head[2+n] == packet.V5 {
		c.version = packet.V5
		return c.refuse(packet.PacketTooLarge, err)
	}
	return err
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
	c.ctr.inc(rdRecvPkt)
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
	c.ctr.publish()
	c.releaseResponses()
	c.w.kickAll()
	if s := c.w.stall; s != nil {
		c.w.stall = nil
		s.waitDrained()
	}
	if d := c.w.sleep; d > 0 {
		c.w.sleep = 0
		c.pause(d)
	}
}

// pause sleeps for the publish-rate throttle (mqtt.max_publish_rate) before
// the reader handles or reads more, so TCP pushes back on the publisher.
// Shutdown or the connection closing cut it short.
func (c *client) pause(d time.Duration) {
	end := time.Now().Add(d)
	for !c.closed.Load() && !c.b.closing.Load() {
		left := time.Until(end)
		if left <= 0 {
			return
		}
		time.Sleep(min(left, 50*time.Millisecond))
	}
}
