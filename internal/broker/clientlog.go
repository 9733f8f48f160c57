package broker

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

// The client log: what happened to a connection or session, so an operator
// can answer "why was my device kicked". Keys have one spelling across the
// code base: clientid, username, peername, reason_code (0x95), reason.
// Lifecycle lines are at debug; abnormal endings, refused CONNECTs and
// oversize drops at info; authentication failures and a session's first
// queue overflow at warning. The broker's handler is rate-limited per
// message (internal/lograte), and every function checks Enabled before it
// builds its attributes, so a disabled level costs one atomic load.
const (
	msgConnected     = "client connected"
	msgDisconnected  = "client disconnected"
	msgConnLost      = "client connection lost"
	msgProtocolError = "client protocol error"
	msgRefused       = "client connect refused"
	msgClosedEarly   = "connection closed before CONNECT"
	msgAuthFailed    = "client authentication failed"
	msgTakenOver     = "client session taken over"
	msgWill          = "will message published"
	msgExpired       = "session expired"
	msgTooLarge      = "message dropped: larger than the client's maximum packet size"
	msgQueueFull     = "session message queue full: dropping messages"
)

var logCtx = context.Background()

func (b *Broker) logs(level slog.Level) bool { return b.log.Enabled(logCtx, level) }

// rcAttr formats a reason code as reason_code=0x95.
func rcAttr(rc packet.ReasonCode) slog.Attr {
	const hex = "0123456789abcdef"
	return slog.String("reason_code", string([]byte{'0', 'x', hex[rc>>4], hex[rc&15]}))
}

// peername is the client's address as ip:port.
func (c *client) peername() slog.Attr {
	return slog.String("peername", c.info.RemoteAddr.String())
}

// who are the attributes naming the client.
func (c *client) who() (id, user, peer slog.Attr) {
	return slog.String("clientid", c.info.ClientID), slog.String("username", c.info.Username), c.peername()
}

// logConnected reports an accepted CONNECT (debug).
func (c *client) logConnected(present bool, expiry uint32) {
	if !c.b.logs(slog.LevelDebug) {
		return
	}
	id, user, peer := c.who()
	c.b.log.LogAttrs(logCtx, slog.LevelDebug, msgConnected, id, user, peer,
		slog.String("listener", c.info.Listener), slog.Int("proto_ver", int(c.version)),
		slog.Int("keepalive", int(c.keepAlive/time.Second)), slog.Bool("clean_start", c.cleanStart),
		slog.Bool("session_present", present), slog.Uint64("expiry_interval", uint64(expiry)))
}

// serverClose is why the server closed a connection (kick, takeover, slow
// consumer, shutdown, a protocol error it answered, a failed write): a
// reason code, a text, or both; the zero value means it did not.
type serverClose struct {
	rc  packet.ReasonCode
	why string
}

// noteEnd records why the server is closing the connection; the first
// cause wins. Lock held (once attached).
func (c *client) noteEnd(rc packet.ReasonCode, why string) {
	if c.end == (serverClose{}) {
		c.end = serverClose{rc, why}
	}
}

// writeFailed is the text recorded when a write to the client fails.
func writeFailed(err error) string {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return "send timeout: the client took nothing for mqtt.send_timeout"
	}
	return "socket write failed: " + err.Error()
}

// ending is how an established connection ended, as the log says it:
// reason is fixed text, cause (when set) is appended to it once the line
// is known to be written, so classifying costs no allocation.
type ending struct {
	level  slog.Level
	msg    string
	rc     packet.ReasonCode
	hasRC  bool
	reason string
	cause  error
}

// endingOf classifies the end of an established connection: what the
// server recorded when it closed the connection comes first, then err,
// what ended the read loop.
func (c *client) endingOf(server serverClose, err error) ending {
	switch {
	case server != serverClose{}:
		return serverEnding(server)
	case errors.Is(err, errNormalDisconnect):
		return c.clientEnding()
	case errors.Is(err, os.ErrDeadlineExceeded):
		return ending{level: slog.LevelInfo, msg: msgConnLost, rc: packet.KeepAliveTimeout, hasRC: true,
			reason: packet.KeepAliveTimeout.String()}
	case errors.Is(err, io.EOF):
		return ending{level: slog.LevelInfo, msg: msgConnLost, reason: "closed by the client without DISCONNECT"}
	case errors.Is(err, net.ErrClosed):
		return ending{level: slog.LevelInfo, msg: msgConnLost, reason: "closed by the server"}
	}
	return readEnding(err)
}

// clientEnding is the end of a connection by the client's DISCONNECT:
// debug, unless its reason code reports an error.
func (c *client) clientEnding() ending {
	e := ending{level: slog.LevelDebug, msg: msgDisconnected, rc: c.discRC, hasRC: true, reason: c.discRC.String()}
	if c.discRC == packet.Success {
		e.reason = "normal disconnection"
	}
	if c.discRC.IsError() {
		e.level = slog.LevelInfo
	}
	return e
}

// readEnding is the end of a connection by a read or protocol error.
func readEnding(err error) ending {
	var rc packet.ReasonCode
	if errors.As(err, &rc) && rc.IsError() {
		return ending{level: slog.LevelInfo, msg: msgProtocolError, rc: rc, hasRC: true, cause: err}
	}
	return ending{level: slog.LevelInfo, msg: msgConnLost, reason: "socket error", cause: err}
}

// serverEnding classifies a connection the server closed. A takeover and a
// node shutting down are routine (debug: the takeover has its own line).
func serverEnding(sc serverClose) ending {
	if sc.rc == 0 {
		return ending{level: slog.LevelInfo, msg: msgConnLost, reason: sc.why}
	}
	e := ending{level: slog.LevelInfo, msg: msgDisconnected, rc: sc.rc, hasRC: true, reason: sc.rc.String()}
	if sc.why != "" {
		e.cause = errors.New(sc.why)
	}
	switch sc.rc {
	case packet.SessionTakenOver, packet.ServerShuttingDown:
		e.level = slog.LevelDebug
	case packet.KeepAliveTimeout:
		e.msg = msgConnLost
	}
	return e
}

// text is the reason= of an ending.
func (e *ending) text() string {
	switch {
	case e.cause == nil:
		return e.reason
	case e.reason == "":
		return reasonText(e.cause)
	}
	return e.reason + ": " + reasonText(e.cause)
}

// reasonText is the text of a cause: "packet too large: packet of 3000
// bytes exceeds mqtt.max_packet_size", "administrative action".
func reasonText(err error) string {
	var ce *closeError
	if errors.As(err, &ce) && ce.msg == "" {
		return ce.code.String()
	}
	return err.Error()
}

// logDisconnected reports the end of an established connection; server
// and err as for endingOf.
func (c *client) logDisconnected(server serverClose, err error) {
	if !c.b.logs(slog.LevelInfo) { // the higher of the two levels an ending has
		return
	}
	e := c.endingOf(server, err)
	if !c.b.logs(e.level) {
		return
	}
	id, user, peer := c.who()
	attrs := []slog.Attr{id, user, peer}
	if e.hasRC {
		attrs = append(attrs, rcAttr(e.rc))
	}
	c.b.log.LogAttrs(logCtx, e.level, e.msg, append(attrs, slog.String("reason", e.text()))...)
}

// logClosedEarly reports a connection that ended before it was
// established: a refusal already logged says nothing more; a packet error
// (a v3 CONNECT over mqtt.max_packet_size) is a refusal (info); anything
// else (a port probe, the CONNECT timeout) is debug.
func (c *client) logClosedEarly(err error) {
	switch {
	case errors.Is(err, errRefused):
	case !c.b.logs(slog.LevelDebug):
		if rc, ok := errorCode(err); ok {
			c.logRefused(rc, err)
		}
	default:
		if rc, ok := errorCode(err); ok {
			c.logRefused(rc, err)
			return
		}
		why := reasonText(err)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			why = "no CONNECT within mqtt.idle_timeout"
		} else if errors.Is(err, io.EOF) {
			why = "closed by the client"
		}
		c.b.log.LogAttrs(logCtx, slog.LevelDebug, msgClosedEarly, c.peername(),
			slog.String("listener", c.info.Listener), slog.String("reason", why))
	}
}

// errorCode is the MQTT error code err carries, if any (not 0x80, which
// stands for "none" in reasonOf).
func errorCode(err error) (packet.ReasonCode, bool) {
	var rc packet.ReasonCode
	ok := errors.As(err, &rc) && rc.IsError() && rc != packet.UnspecifiedError
	return rc, ok
}

// logRefused reports a refused CONNECT (info): a ban, an invalid client
// id, a malformed or oversize CONNECT, a will the broker cannot take.
func (c *client) logRefused(rc packet.ReasonCode, cause error) {
	c.logConnectFailure(slog.LevelInfo, msgRefused, rc, cause)
}

// logAuthFailed reports a CONNECT the authenticator refused (warning). The
// cause is the authenticator's error, which never holds the password.
func (c *client) logAuthFailed(rc packet.ReasonCode, cause error) {
	c.logConnectFailure(slog.LevelWarn, msgAuthFailed, rc, cause)
}

func (c *client) logConnectFailure(level slog.Level, msg string, rc packet.ReasonCode, cause error) {
	if !c.b.logs(level) {
		return
	}
	id, user, peer := c.who()
	c.b.log.LogAttrs(logCtx, level, msg, id, user, peer, slog.Int("proto_ver", int(c.version)),
		rcAttr(rc), slog.String("reason", reasonText(cause)))
}

// logTakeover reports a connection taking over a live one of the same
// client id (info), with both addresses.
func (c *client) logTakeover(old *client) {
	if !c.b.logs(slog.LevelInfo) {
		return
	}
	id, user, peer := c.who()
	c.b.log.LogAttrs(logCtx, slog.LevelInfo, msgTakenOver, id, user, peer,
		slog.String("old_peername", old.info.RemoteAddr.String()), rcAttr(packet.SessionTakenOver))
}

// logWill reports a will message being published (debug).
func (b *Broker) logWill(m *Message) {
	if !b.logs(slog.LevelDebug) {
		return
	}
	b.log.LogAttrs(logCtx, slog.LevelDebug, msgWill, slog.String("clientid", m.From),
		slog.String("username", m.FromUser), slog.String("topic", m.Topic), slog.Int("qos", int(m.QoS)),
		slog.Bool("retain", m.Retain))
}

// logExpired reports an offline session ending at its expiry (debug).
func (b *Broker) logExpired(s *session) {
	if !b.logs(slog.LevelDebug) {
		return
	}
	b.log.LogAttrs(logCtx, slog.LevelDebug, msgExpired, slog.String("clientid", s.id),
		slog.Uint64("expiry_interval", uint64(s.expiry)))
}

// logTooLarge reports a message not sent because it exceeds the client's
// Maximum Packet Size (info; counted in delivery.dropped.too_large).
func (c *client) logTooLarge(topic []byte, size int) {
	if !c.b.logs(slog.LevelInfo) {
		return
	}
	id, user, peer := c.who()
	c.b.log.LogAttrs(logCtx, slog.LevelInfo, msgTooLarge, id, user, peer, slog.String("topic", string(topic)),
		slog.Int("size", size), slog.Int("max_packet_size", c.maxOut))
}

// logQueueFull reports the first message a session's queue drops because
// it holds mqtt.max_mqueue_len messages (warning); the later drops of the
// session are counted in mqueue_dropped. Lock held.
func (s *session) logQueueFull(e *QueueEntry) {
	if !s.b.logs(slog.LevelWarn) {
		return
	}
	s.b.log.LogAttrs(logCtx, slog.LevelWarn, msgQueueFull, slog.String("clientid", s.id),
		slog.Bool("connected", s.conn != nil), slog.Int("max_mqueue_len", s.b.conf().MaxMqueueLen),
		slog.String("topic", e.Msg.Topic), slog.Int("qos", int(e.QoS)))
}
