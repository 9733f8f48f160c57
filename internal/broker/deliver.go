package broker

import (
	"time"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

// inbound is one message being routed. On the QoS 0 fast path nothing is
// allocated: subscribers' PUBLISH packets are encoded from tmpl, whose topic
// and payload alias the publisher's read buffer. msg is built on first need
// (queues, inflight windows, retained index, hooks, forwarding).
type inbound struct {
	tmpl   packet.Publish // topic, payload and forwardable properties
	qos    byte
	retain bool
	expiry int64 // unix ns, 0 = never
	now    int64
	from   string // publisher client id
	user   string // publisher username
	msg    *Message
	b      *Broker
}

// message returns the routed message, building it on first call.
func (in *inbound) message() *Message {
	if in.msg != nil {
		return in.msg
	}
	m := &Message{
		ID: in.b.nextMsgID(), Topic: string(in.tmpl.Topic), Payload: append([]byte(nil), in.tmpl.Payload...),
		QoS: in.qos, Retain: in.retain, Created: in.now, Expiry: in.expiry, From: in.from, Node: in.b.conf().NodeName,
		FromUser: in.user,
	}
	if !in.tmpl.Props.Empty() {
		p := in.tmpl.Props.Clone()
		m.Props = &p
	}
	in.msg = m
	return m
}

// fromMessage prepares in to route an existing message.
func (in *inbound) fromMessage(b *Broker, m *Message) {
	*in = inbound{qos: m.QoS, retain: m.Retain, expiry: m.Expiry, now: time.Now().UnixNano(), from: m.From, user: m.FromUser, msg: m, b: b}
	fillTemplate(&in.tmpl, m)
}

// fillTemplate sets a PUBLISH template from a message.
func fillTemplate(t *packet.Publish, m *Message) {
	*t = packet.Publish{Topic: bytesOf(m.Topic), Payload: m.Payload}
	if m.Props != nil {
		t.Props = *m.Props
	}
}

// writePublish encodes one PUBLISH for this client. It returns false when the
// packet exceeds the client's Maximum Packet Size and was dropped
// [MQTT-3.1.2-24]. Lock held.
func (c *client) writePublish(w *work, t *packet.Publish, expiry int64, qos byte, retain, dup bool, pid uint16, ids []uint32, now int64) bool {
	p := *t
	p.QoS, p.Retain, p.Dup, p.PacketID = qos, retain, dup, pid
	p.Topic = stripMount(p.Topic, c.info.Mountpoint)
	var alias uint16
	var newAlias bool
	var name []byte
	if c.version == packet.V5 {
		p.Props.SubscriptionIDs = ids
		if expiry != 0 {
			left := (expiry - now + 1e9 - 1) / 1e9
			p.Props.MessageExpiry = uint32(max(left, 1))
			p.Props.Set(packet.PropMessageExpiry) // [MQTT-3.3.2-6]
		}
		name = p.Topic
		alias, newAlias = c.outAlias(name)
		if alias != 0 {
			p.Props.TopicAlias = alias
			p.Props.Set(packet.PropTopicAlias)
			if !newAlias {
				p.Topic = nil
			}
		}
	}
	size := p.Size(c.version)
	if c.maxOut > 0 && size > c.maxOut {
		c.logTooLarge(t.Topic, size)
		c.out.drop(DropTooLarge)
		w.tally.inc(MDeliveryDroppedTooLarge)
		w.tally.inc(MDeliveryDropped)
		return false
	}
	if newAlias {
		c.aliasOut[string(name)] = alias
	}
	out, err := p.Append(c.reserve(size), c.version)
	if err != nil {
		return false
	}
	*c.outp = out
	c.countSent(w, qos)
	c.wake(w)
	return true
}

// outAlias returns the topic alias to use for topic and whether it is being
// assigned now (then the topic is sent with it). Lock held.
func (c *client) outAlias(topic []byte) (uint16, bool) {
	if c.aliasMax == 0 {
		return 0, false
	}
	if a, ok := c.aliasOut[string(topic)]; ok {
		return a, false
	}
	if len(c.aliasOut) >= int(c.aliasMax) {
		return 0, false
	}
	if c.aliasOut == nil {
		c.aliasOut = make(map[string]uint16)
	}
	return uint16(len(c.aliasOut) + 1), true
}

func (c *client) countSent(w *work, qos byte) {
	c.out.sent(qos)
	t := &w.tally
	t.inc(MPacketsSent)
	t.inc(MPacketsPublishSent)
	t.inc(MMessagesSent)
	t.inc(MMessagesDelivered)
	t.inc(MMessagesQoS0Sent + Metric(2*qos))
}

// writeEntry encodes a queued or inflight entry. Lock held.
func (c *client) writeEntry(w *work, e *QueueEntry, dup bool, now int64) bool {
	var t packet.Publish
	fillTemplate(&t, e.Msg)
	return c.writePublish(w, &t, e.Msg.Expiry, e.QoS, e.RetainFlag, dup, e.PacketID, e.SubIDs, now)
}

// deliver hands one matched message to s.
func (s *session) deliver(w *work, in *inbound, mt *match) {
	qos := min(in.qos, mt.o.qos)
	if s.b.conf().UpgradeQoS {
		qos = max(in.qos, mt.o.qos)
	}
	retain := in.retain && mt.o.rap // [MQTT-3.3.1-12, 3.3.1-13]
	ids := mt.ids
	if ids == nil && mt.o.id != 0 {
		w.ids = append(w.ids[:0], mt.o.id)
		ids = w.ids
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if qos == 0 {
		s.deliverQoS0(w, in, retain, ids)
		return
	}
	e := &QueueEntry{Seq: s.nextSeq, Msg: in.message(), QoS: qos, RetainFlag: retain, queuedAt: in.now}
	if len(ids) > 0 {
		e.SubIDs = append([]uint32(nil), ids...)
	}
	s.nextSeq++
	if c := s.conn; c != nil && !c.closing && s.queue.Len() == 0 && s.inflight.Len() < c.recvMax {
		s.send(w, c, e, in.now, true)
		return
	}
	s.store(w, e)
	s.enqueue(w, e)
	if s.conn != nil && s.queue.Len() >= s.b.stallMark() && s != w.self && w.clock()-s.ackedAt < stallProgress {
		w.stall = s
	}
}

// deliverQoS0 writes a QoS 0 message at once, or queues it for an offline
// persistent session, or behind QoS 0 messages still queued from the time
// the client was offline (they wait for the window to drain): a new message
// must not overtake them [MQTT-4.6.0-5]. Lock held.
func (s *session) deliverQoS0(w *work, in *inbound, retain bool, ids []uint32) {
	if c := s.conn; c != nil && s.queuedQoS0 == 0 {
		if c.closing {
			return
		}
		if c.pending() >= s.b.conf().MaxOutboundBytes {
			c.slowConsumer(w)
			s.b.dropHook(s.id, in, DropSlowConsumer)
			return
		}
		if c.writePublish(w, &in.tmpl, in.expiry, 0, retain, false, 0, ids, in.now) {
			s.delivered(w, in)
		} else {
			s.b.dropHook(s.id, in, DropTooLarge)
		}
		return
	}
	if s.conn == nil && (!s.persistent() || !s.b.conf().MqueueStoreQoS0) {
		return
	}
	e := &QueueEntry{Seq: s.nextSeq, Msg: in.message(), RetainFlag: retain, queuedAt: in.now}
	if len(ids) > 0 {
		e.SubIDs = append([]uint32(nil), ids...)
	}
	s.nextSeq++
	s.enqueue(w, e)
}

func (s *session) delivered(w *work, in *inbound) {
	if hs := s.b.hooks.load(); len(hs.delivered) > 0 {
		hs.onDelivered(s.id, in.message())
	}
}

// wrote runs the delivered hooks for a queued or inflight entry written for
// the first time, or the dropped hooks when it was too large to send.
func (s *session) wrote(e *QueueEntry, ok bool) {
	hs := s.b.hooks.load()
	switch {
	case ok && len(hs.delivered) > 0:
		hs.onDelivered(s.id, e.Msg)
	case !ok:
		hs.onDropped(s.id, e.Msg, DropTooLarge)
	}
}

// slowConsumer applies the slow-consumer policy to a QoS 0 message that does
// not fit the outbound queue. Lock held.
func (c *client) slowConsumer(w *work) {
	w.tally.inc(MDeliveryDroppedQoS0Msg)
	w.tally.inc(MDeliveryDropped)
	c.out.drop(DropSlowConsumer)
	c.drops++
	cfg := c.b.conf()
	if cfg.SlowConsumerPolicy == "disconnect" || (cfg.SlowConsumerMaxDrop > 0 && c.drops > cfg.SlowConsumerMaxDrop) {
		w.tally.inc(MOverloadSlowConsumerDisconnect)
		c.b.log.Warn("disconnecting slow consumer", "clientid", c.info.ClientID, "pending_bytes", c.pending(), "drops", c.drops)
		c.shutdown(packet.QuotaExceeded)
	}
}

// send puts e in the inflight window and writes it. Lock held.
func (s *session) send(w *work, c *client, e *QueueEntry, now int64, fresh bool) {
	s.inflight.Add(e)
	e.State = StatePublish
	e.sentAt = now
	ok := c.writeEntry(w, e, false, now)
	s.wrote(e, ok)
	if !ok {
		s.inflight.Remove(e.PacketID) // too large: as if delivered [MQTT-3.1.2-25]
		if !fresh {
			s.unstore(e)
		}
		return
	}
	if fresh {
		s.store(w, e) // a new entry: the publisher's ack waits for it
	} else {
		s.store(nil, e) // a state change: durable with the next barrier
	}
}

// store persists e's current state for a durable session; with a work, that
// work's acknowledgements wait until it is durable. Lock held.
func (s *session) store(w *work, e *QueueEntry) {
	if e.QoS == 0 || !s.durable() {
		return
	}
	s.b.store.Commit([]StoreOp{{Kind: OpPutQueue, ClientID: s.id, Entry: e}}, false, nil)
	if w != nil {
		w.barrier = true
	}
}

// unstore deletes e from the store. Lock held.
func (s *session) unstore(e *QueueEntry) {
	if e.QoS == 0 || !s.durable() {
		return
	}
	s.b.store.Commit([]StoreOp{{Kind: OpDeleteQueue, ClientID: s.id, Seq: e.Seq}}, false, nil)
}

// enqueue appends e to the session queue, applying max_mqueue_len: a QoS 0
// message is dropped first, else the oldest. Lock held.
func (s *session) enqueue(w *work, e *QueueEntry) {
	if limit := s.b.conf().MaxMqueueLen; limit > 0 && s.queue.Len() >= limit {
		if !s.dropForRoom(w, e) {
			return
		}
	}
	if e.QoS == 0 {
		s.queuedQoS0++
	}
	s.queue.Push(e)
}

// dropForRoom frees one queue slot for e, or drops e itself; it reports
// whether e may be queued. Lock held.
func (s *session) dropForRoom(w *work, e *QueueEntry) bool {
	victim := -1
	if s.queuedQoS0 > 0 {
		for i := 0; i < s.queue.Len(); i++ {
			if s.queue.At(i).QoS == 0 {
				victim = i
				break
			}
		}
	} else if e.QoS == 0 {
		s.dropped(w, e, DropQueueFull)
		return false
	} else {
		victim = 0
	}
	v := s.queue.RemoveAt(victim)
	if v.QoS == 0 {
		s.queuedQoS0--
	}
	s.unstore(v)
	s.dropped(w, v, DropQueueFull)
	return true
}

func (s *session) dropped(w *work, e *QueueEntry, why DropReason) {
	if why == DropQueueFull {
		if s.qdropped == 0 {
			s.logQueueFull(e)
		}
		s.qdropped++
	}
	if c := s.conn; c != nil {
		c.out.drop(why)
	}
	if w != nil {
		w.tally.inc(MDeliveryDropped)
		if why == DropQueueFull {
			w.tally.inc(MDeliveryDroppedQueueFull)
		} else if why == DropExpired {
			w.tally.inc(MDeliveryDroppedExpired)
		}
	}
	s.b.hooks.load().onDropped(s.id, e.Msg, why)
}

// drain sends queued messages while the client's window has room. Lock held.
func (s *session) drain(w *work) {
	c := s.conn
	if c == nil {
		return
	}
	now := w.clock()
	for s.queue.Len() > 0 && !c.closing {
		e := s.queue.Peek()
		if e.QoS > 0 && s.inflight.Len() >= c.recvMax {
			return
		}
		s.queue.Pop()
		if e.Msg.Expired(now) {
			if e.QoS == 0 {
				s.queuedQoS0--
			}
			s.unstore(e)
			s.dropped(w, e, DropExpired)
			continue
		}
		if e.QoS == 0 {
			s.queuedQoS0--
			s.wrote(e, c.writeEntry(w, e, false, now))
			continue
		}
		s.send(w, c, e, now, false)
	}
	s.releaseStalled(false)
}

// resend writes the inflight window again after a reconnect, PUBLISH with
// DUP set and PUBREL as they were [MQTT-4.4.0-1]. A window larger than the
// new connection's Receive Maximum is trimmed first: its newest unsent-again
// PUBLISH entries go back to the front of the queue [MQTT-3.3.4-9]. Lock held.
func (s *session) resend(w *work, c *client) {
	s.trimWindow(c.recvMax)
	s.resendOlder(w, c, time.Now().UnixNano(), 0)
}

// trimWindow re-queues the newest PUBLISH-state inflight entries until the
// window holds at most limit entries. Lock held.
func (s *session) trimWindow(limit int) {
	excess := s.inflight.Len() - limit
	if excess <= 0 {
		return
	}
	var pubs []*QueueEntry
	s.inflight.Each(func(e *QueueEntry) {
		if e.State == StatePublish {
			pubs = append(pubs, e)
		}
	})
	for i := len(pubs) - 1; i >= 0 && excess > 0; i-- {
		e := pubs[i]
		s.inflight.Remove(e.PacketID)
		e.State, e.PacketID = StateQueued, 0
		s.queue.PushFront(e)
		s.store(nil, e)
		excess--
	}
}

// resendOlder resends the inflight entries last sent at or before cutoff
// (all of them for cutoff 0 ... now). Lock held.
func (s *session) resendOlder(w *work, c *client, now, before int64) {
	s.inflight.Each(func(e *QueueEntry) {
		if before != 0 && e.sentAt > before {
			return
		}
		e.sentAt = now
		if e.State == StatePubrel {
			c.writePacket(w, &packet.Ack{PacketType: packet.PUBREL, PacketID: e.PacketID})
			w.tally.inc(MPacketsPubrelSent)
			w.tally.inc(MPacketsSent)
			return
		}
		c.writeEntry(w, e, true, now)
	})
}

// retryLoop resends unacknowledged QoS 1/2 messages to 3.1/3.1.1 clients
// after mqtt.retry_interval, as EMQX does. MQTT 5 forbids resending except on
// reconnect [MQTT-4.4.0-2], so v5 clients are left alone.
func (b *Broker) retryLoop() {
	iv := b.conf().RetryInterval
	if iv <= 0 {
		return
	}
	b.every(min(iv, time.Second), func() { b.retryDue(iv) })
}

func (b *Broker) retryDue(iv time.Duration) {
	var w work
	w.init(b)
	now := time.Now().UnixNano()
	b.sessions.each(func(s *session) bool {
		s.mu.Lock()
		if c := s.conn; c != nil && c.version != packet.V5 && !c.closing && s.inflight.Len() > 0 {
			s.resendOlder(&w, c, now, now-int64(iv))
		}
		s.mu.Unlock()
		return true
	})
	w.finish()
}
