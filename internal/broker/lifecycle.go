package broker

import (
	"errors"
	"strings"
	"time"

	"github.com/herald-mqtt/herald/internal/bufpool"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/mqtt/topic"
)

// openSession attaches c to the session of its client id: it takes over a
// live connection of the same id (which gets DISCONNECT 0x8E
// [MQTT-3.1.4-3]), resumes a persistent session unless clean is set, or
// creates a new one. The CONNACK is written first, then the inflight window
// is resent and the queue drained [MQTT-4.4.0-1], all under the session lock
// so no delivery can overtake the CONNACK.
func (b *Broker) openSession(c *client, clean bool, expiry uint32, will *Will, ack *packet.Connack, username string) {
	id := c.info.ClientID
	lk := b.ids.lock(id)
	defer lk.Unlock()
	var s *session
	stored := false // whether this connect changed stored session state
	if old := b.sessions.get(id); old != nil {
		continues, deleted := b.takeOver(old, clean, c)
		if continues {
			s = old
		}
		stored = deleted
	}
	present := s != nil
	b.registry.Claim(id)
	if s == nil {
		s = newSession(b, id)
		b.sessions.put(s)
		b.stats.Sessions.Add(1)
		b.metrics.Inc(MSessionCreated)
		b.hooks.load().onSession(id, SessionCreated)
	} else {
		b.metrics.Inc(MSessionResumed)
		b.hooks.load().onSession(id, SessionResumed)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.attach(c, expiry, will, username) || stored {
		// The CONNACK acknowledges the session state (a discarded stored
		// session stays discarded, a new persistent one exists): make it
		// durable first, as SUBACK and PUBACK are.
		if err := b.commitSync(nil); err != nil {
			b.log.Error("store commit failed at connect", "clientid", id, "err", err)
		}
	}
	ack.SessionPresent = present // [MQTT-3.2.2-2, 3.2.2-3]
	c.connected = true
	c.writePacket(c.w, ack)
	b.metrics.Inc(MPacketsConnackSent)
	b.metrics.Inc(MPacketsSent)
	b.metrics.Inc(MClientConnack)
	for _, h := range b.hooks.load().connack {
		h.OnConnack(&c.info, packet.Success)
	}
	if present {
		s.resend(c.w, c)
		s.drain(c.w)
	}
}

// takeOver detaches old's live connection, if any, and decides whether the
// session continues: it does unless the new connection asks for a clean start
// (then the old session ends, and its will, if pending, is published).
// deleted reports that the ended session's stored state was deleted.
// Caller holds the id lock.
func (b *Broker) takeOver(old *session, clean bool, by *client) (continues, deleted bool) {
	old.mu.Lock()
	deleted = old.stored
	oc := old.conn
	if oc != nil {
		by.logTakeover(oc)
		old.detach()
		oc.shutdown(packet.SessionTakenOver)
		b.metrics.Inc(MSessionTakenover)
		b.hooks.load().onSession(old.id, SessionTakenOver)
	}
	continues = !clean && !old.closed && old.persistent()
	if continues {
		old.will = nil // a new connection before the will delay: no will [MQTT-3.1.3-9]
	}
	old.mu.Unlock()
	if !continues {
		b.endSession(old, SessionDiscarded)
		return false, deleted
	}
	return true, false
}

// attach binds c to s and reports whether it created or deleted the
// session's stored state. Lock held.
func (s *session) attach(c *client, expiry uint32, will *Will, username string) (stored bool) {
	s.stopTimers()
	s.gen++
	s.conn = c
	s.ackedAt = time.Now().UnixNano()
	s.attached.Store(true)
	c.sess = s
	c.w.self = s
	c.attachedTo.Store(s)
	s.discAt = 0
	s.peer, s.listener, s.connAt, s.lastCtr = c.info.RemoteAddr, c.info.Listener, s.ackedAt, nil
	s.keepalive, s.cleanStart = uint16(c.keepAlive/time.Second), c.cleanStart
	s.version = c.version
	s.username = username
	s.mount = c.info.Mountpoint
	s.will = will
	wasDurable := s.durable()
	s.expiry = expiry
	if s.durable() {
		s.b.store.Commit([]StoreOp{{Kind: OpPutSession, Session: s.record()}}, false, nil)
		created := !s.stored
		s.stored = true
		return created // an update of a resumed session need not hold the CONNACK
	}
	if wasDurable || s.stored {
		s.b.store.Commit([]StoreOp{{Kind: OpDeleteSession, ClientID: s.id}}, false, nil)
		s.stored = false
		return true
	}
	return false
}

// detach unbinds the attached connection. Lock held.
func (s *session) detach() {
	c := s.conn
	s.releaseStalled(true)
	s.conn = nil
	s.attached.Store(false)
	s.discAt = time.Now().UnixNano()
	if c != nil {
		c.aliasOut = nil
		last := c.counters()
		s.lastCtr = &last
	}
}

// cleanup runs when a connection's read loop ends. A v5 client that broke
// the protocol gets a DISCONNECT with the reason code first.
func (c *client) cleanup(err error) {
	if c.rbuf != nil {
		bufpool.Put(c.rbuf)
		c.rbuf = nil
	}
	if c.sess == nil {
		c.endFlushed(c.lingers) // after a refusing CONNACK, written by this goroutine
		c.logClosedEarly(err)
		return
	}
	b := c.b
	lk := b.ids.lock(c.sess.id)
	s := c.sess
	s.mu.Lock()
	byServer := c.end // the server closed it (kick, takeover ...): its reason, not err, is why
	c.lastWord(err)
	if s.conn != c { // taken over or kicked
		s.mu.Unlock()
		lk.Unlock()
		c.logDisconnected(byServer, err)
		c.disconnected(err)
		return
	}
	s.detach()
	if c.normal {
		s.will = nil // [MQTT-3.1.2-10]
	}
	ends := !s.persistent()
	if !ends {
		s.afterDisconnect()
	}
	s.mu.Unlock()
	if ends && !b.closing.Load() {
		b.endSession(s, SessionTerminated)
	}
	lk.Unlock()
	c.logDisconnected(byServer, err)
	c.disconnected(err)
}

// lastWord closes the connection, after a DISCONNECT carrying the reason
// code of a protocol violation for v5 clients. A connection already
// closing is left to its flusher, which ends it once the last packet is
// out (endFlushed). Lock held.
func (c *client) lastWord(err error) {
	if c.closing {
		return
	}
	rc := reasonOf(err)
	if c.version == packet.V5 && rc >= 0x80 && rc != packet.UnspecifiedError && !errors.Is(err, errNormalDisconnect) {
		c.shutdownWith(rc, closeReason(err)) // flushes, then closes
		return
	}
	c.closing = true
	c.releaseOut()
	c.closeConn()
}

// disconnected reports the end of an established connection.
func (c *client) disconnected(err error) {
	b := c.b
	b.stats.Connections.Add(-1)
	b.metrics.Inc(MClientDisconnected)
	if errors.Is(err, errNormalDisconnect) {
		err = nil
	}
	for _, h := range b.hooks.load().disconnected {
		h.OnDisconnected(&c.info, err)
	}
	b.sysClientEvent(&c.info, "disconnected", err)
}

// afterDisconnect persists a persistent session that went offline and arms
// its will delay and expiry timers. During shutdown nothing is armed: the
// session is restored, and its timers armed, at the next start. Lock held.
func (s *session) afterDisconnect() {
	if s.durable() {
		s.b.store.Commit([]StoreOp{{Kind: OpPutSession, Session: s.record()}}, false, nil)
	}
	if s.b.closing.Load() {
		return
	}
	s.armTimers(time.Now().UnixNano())
}

// armTimers schedules the will (after its delay, or at session end if that
// comes first [MQTT-3.1.3-9]) and the session's expiry. Lock held.
func (s *session) armTimers(now int64) {
	gen := s.gen
	left := time.Duration(0)
	if s.expiry != NeverExpire {
		left = time.Duration(s.discAt+int64(s.expiry)*int64(time.Second)-now) + 0
		if left < 0 {
			left = 0
		}
		s.expTimer = time.AfterFunc(left, func() { s.b.expire(s, gen) })
	}
	if s.will != nil {
		d := time.Duration(s.discAt + int64(s.will.Delay)*int64(time.Second) - now)
		if s.expiry != NeverExpire && d > left {
			return // the session ends first; expire publishes the will
		}
		s.willTimer = time.AfterFunc(max(d, 0), func() { s.b.willDue(s, gen) })
	}
}

// expire ends an offline session whose expiry interval has passed.
func (b *Broker) expire(s *session, gen uint64) {
	lk := b.ids.lock(s.id)
	defer lk.Unlock()
	s.mu.Lock()
	live := s.gen == gen && s.conn == nil && !s.closed
	s.mu.Unlock()
	if live {
		b.logExpired(s)
		b.endSession(s, SessionTerminated)
	}
}

// willDue publishes a will whose delay has passed.
func (b *Broker) willDue(s *session, gen uint64) {
	lk := b.ids.lock(s.id)
	defer lk.Unlock()
	s.mu.Lock()
	var will *Will
	if s.gen == gen && s.conn == nil && !s.closed {
		will, s.will = s.will, nil
		if will != nil && s.durable() {
			s.b.store.Commit([]StoreOp{{Kind: OpPutSession, Session: s.record()}}, false, nil)
		}
	}
	s.mu.Unlock()
	if will != nil {
		b.publishWill(will)
	}
}

// endSession discards a session: its subscriptions leave the index, its
// stored state is deleted, and a pending will is published.
// Caller holds the id lock.
func (b *Broker) endSession(s *session, ev SessionEvent) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.gen++
	s.stopTimers()
	subs, will, stored := s.subs, s.will, s.stored
	s.subs, s.will, s.stored = nil, nil, false
	s.inflight.Clear()
	s.queue.Clear()
	s.incoming = nil
	s.mu.Unlock()
	for filter := range subs {
		b.unindex(s, mounted(s.mount, filter))
	}
	b.sessions.remove(s)
	b.registry.Release(s.id)
	b.stats.Sessions.Add(-1)
	if stored {
		b.store.Commit([]StoreOp{{Kind: OpDeleteSession, ClientID: s.id}}, false, nil)
	}
	if ev == SessionDiscarded {
		b.metrics.Inc(MSessionDiscarded)
	} else {
		b.metrics.Inc(MSessionTerminated)
	}
	b.hooks.load().onSession(s.id, ev)
	if will != nil && !b.closing.Load() {
		b.publishWill(will)
	}
}

// unindex removes one of s's subscriptions from the index.
func (b *Broker) unindex(s *session, filter string) {
	group, real, _, err := topic.ParseShare(filter)
	if err != nil {
		return
	}
	if b.subs.remove(s, real, group) {
		if strings.HasPrefix(real, "$") {
			b.dollarSubs.Add(-1)
		}
		b.stats.Subscriptions.Add(-1)
		if group != "" {
			b.stats.SharedSubscriptions.Add(-1)
		}
	}
}

// publishWill routes a will message [MQTT-3.1.2-8].
func (b *Broker) publishWill(w *Will) {
	b.logWill(w.Msg)
	m := *w.Msg
	now := time.Now().UnixNano()
	m.ID, m.Created = b.nextMsgID(), now
	if m.Props != nil && m.Props.Has(packet.PropMessageExpiry) {
		m.Expiry = now + int64(m.Props.MessageExpiry)*int64(time.Second)
		p := *m.Props
		p.Clear(packet.PropMessageExpiry)
		m.Props = &p
	}
	b.Publish(&m)
}
