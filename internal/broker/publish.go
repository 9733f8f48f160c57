package broker

import (
	"bytes"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/mqtt/topic"
)

// handlePublish handles an inbound PUBLISH [MQTT-3.3].
func (c *client) handlePublish(fh packet.FixedHeader, body []byte) error {
	p := &c.w.pub
	if err := packet.DecodePublish(fh, body, c.version, p); err != nil {
		return err
	}
	if len(p.Props.SubscriptionIDs) > 0 {
		return protoErr("Subscription Identifier in a PUBLISH from a client") // [MQTT-3.3.4-6]
	}
	t := &c.w.tally
	t.inc(MPacketsPublishReceived)
	t.inc(MMessagesReceived)
	t.inc(MMessagesQoS0Received + Metric(2*p.QoS))
	c.ctr.inc(rdRecvMsg)
	c.ctr.inc(rdRecvQoS0 + int(p.QoS))
	if p.QoS > c.maxQoS {
		return reasonErr(packet.QoSNotSupported, "QoS above mqtt.max_qos_allowed") // [MQTT-3.2.2-11]
	}
	if p.Retain && !c.retainOK {
		return reasonErr(packet.RetainNotSupported, "retain not available") // [MQTT-3.2.2-14]
	}
	tp, err := c.resolveTopic(p)
	if err != nil {
		return err
	}
	if c.limiter != nil {
		c.throttle(p)
	}
	if p.QoS == 2 {
		dup, err := c.awaitRel(p.PacketID)
		if err != nil {
			return err
		}
		if dup {
			t.inc(MPacketsPublishInuse)
			c.ackPublish(p, packet.Success) // [MQTT-4.3.3-10] no second delivery
			return nil
		}
	}
	rc := c.checkPublish(tp, p)
	if rc == packet.Success {
		rc = c.routePublish(tp, p)
	} else {
		t.inc(MPacketsPublishDropped)
		t.inc(MMessagesDropped)
		c.ctr.inc(rdRecvDropped)
		c.dropRefused(tp, p, rc)
		if rc == packet.NotAuthorized && c.b.conf().AuthzDenyDisconnect {
			return reasonErr(packet.NotAuthorized, "publish not authorized")
		}
		if p.QoS == 2 {
			c.sess.releaseRel(c.w, p.PacketID) // an error PUBREC ends the flow
		}
	}
	c.ackPublish(p, rc)
	return nil
}

// dropRefused runs the dropped hooks for a PUBLISH refused by authorization.
func (c *client) dropRefused(tp []byte, p *packet.Publish, rc packet.ReasonCode) {
	if rc != packet.NotAuthorized || len(c.b.hooks.load().dropped) == 0 {
		return
	}
	in := inbound{qos: p.QoS, retain: p.Retain, now: time.Now().UnixNano(), from: c.info.ClientID, b: c.b}
	in.tmpl = packet.Publish{Topic: tp, Payload: p.Payload, Props: p.Props}
	forwardable(&in.tmpl.Props)
	c.b.dropHook("", &in, DropNotAuthorized)
}

// releaseRel forgets an inbound QoS 2 packet id. For a durable session, w's
// acknowledgements (the PUBCOMP, or the error PUBREC, that frees the id)
// wait until that is durable: a crash must not bring the id back, or a new
// message reusing it would be taken for a retransmission and dropped
// [MQTT-4.3.3-12].
func (s *session) releaseRel(w *work, pid uint16) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.incoming[pid]; !ok {
		return false
	}
	delete(s.incoming, pid)
	if s.durable() {
		s.b.store.Commit([]StoreOp{{Kind: OpDeleteIncoming, ClientID: s.id, PacketID: pid}}, false, nil)
		w.barrier = true
	}
	return true
}

// resolveTopic applies the topic alias [MQTT-3.3.2.3.4] and the listener's
// mountpoint, and validates the name.
func (c *client) resolveTopic(p *packet.Publish) ([]byte, error) {
	tp := p.Topic
	if p.Props.Has(packet.PropTopicAlias) {
		a := p.Props.TopicAlias
		if a == 0 || a > c.aliasInMax {
			return nil, reasonErr(packet.TopicAliasInvalid, "topic alias out of range") // [MQTT-3.3.2-9, 3.3.2-10]
		}
		if len(tp) > 0 {
			if c.aliasIn == nil {
				c.aliasIn = make(map[uint16]string)
			}
			c.aliasIn[a] = string(tp)
		} else if name, ok := c.aliasIn[a]; ok {
			tp = bytesOf(name)
		} else {
			return nil, protoErr("unknown topic alias")
		}
	}
	if err := topic.ValidateNameBytes(tp); err != nil {
		return nil, reasonErr(packet.TopicNameInvalid, err.Error()) // [MQTT-3.3.2-2]
	}
	if mp := c.info.Mountpoint; mp != "" {
		tp = append([]byte(mp), tp...)
	}
	return tp, nil
}

// checkPublish applies limits and authorization; the result is the reason
// code for the acknowledgement (Success to route the message).
func (c *client) checkPublish(tp []byte, p *packet.Publish) packet.ReasonCode {
	if c.b.conf().MaxTopicLevels > 0 && levelsOver(tp, c.b.conf().MaxTopicLevels) {
		return packet.TopicNameInvalid
	}
	if c.b.conf().StrictMode && p.Props.PayloadFormat == 1 && !utf8.Valid(p.Payload) {
		return packet.PayloadFormatInvalid // [MQTT-3.3.2-4] the receiver may check
	}
	if bytes.HasPrefix(tp, []byte("$SYS/")) && !c.info.Superuser {
		c.w.tally.inc(MPacketsPublishAuthError)
		return packet.NotAuthorized
	}
	if !c.b.authorize(c.w, &c.info, ActionPublish, tp, p.QoS, p.Retain) {
		c.w.tally.inc(MPacketsPublishAuthError)
		return packet.NotAuthorized
	}
	return packet.Success
}

func levelsOver(tp []byte, limit int) bool {
	return bytes.Count(tp, []byte{'/'})+1 > limit
}

// authorize asks the Authorizer and the authorize hooks.
func (b *Broker) authorize(w *work, ci *ClientInfo, act Action, tp []byte, qos byte, retain bool) bool {
	hs := b.hooks.load()
	if b.authz == nil && len(hs.authorize) == 0 {
		return true
	}
	name := string(tp)
	ok := ci.Superuser || b.authz == nil || b.authz.Authorize(ci, act, name, qos, retain)
	for _, h := range hs.authorize {
		ok = h.OnAuthorize(ci, act, name, ok)
	}
	w.tally.inc(MClientAuthorize)
	if ok {
		w.tally.inc(MAuthorizationAllow)
	} else {
		w.tally.inc(MAuthorizationDeny)
	}
	return ok
}

// awaitRel records an inbound QoS 2 packet id; dup is true when the id is
// already awaiting PUBREL (a retransmission: ack, do not route again).
func (c *client) awaitRel(pid uint16) (dup bool, err error) {
	s := c.sess
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.incoming[pid]; ok {
		return true, nil
	}
	if limit := c.relLimit(); limit > 0 && len(s.incoming) >= limit {
		n := s.purgeRel(c.b.conf().AwaitRelTimeout)
		c.w.tally.add(MMessagesDroppedAwaitPubrelTimeout, n)
		c.ctr.add(rdRecvDroppedRel, n)
		if len(s.incoming) >= limit {
			return false, reasonErr(packet.ReceiveMaximumExceeded, "too many QoS 2 messages awaiting PUBREL") // [MQTT-3.3.4-7]
		}
	}
	if s.incoming == nil {
		s.incoming = make(map[uint16]int64)
	}
	s.incoming[pid] = time.Now().UnixNano()
	if s.durable() {
		c.b.store.Commit([]StoreOp{{Kind: OpPutIncoming, ClientID: s.id, PacketID: pid}}, false, nil)
		c.w.barrier = true
	}
	return false, nil
}

// relLimit is how many inbound QoS 2 messages may await PUBREL: our Receive
// Maximum for v5, mqtt.max_awaiting_rel otherwise (0 = unlimited).
func (c *client) relLimit() int {
	if c.version == packet.V5 {
		return c.ourRecvMax
	}
	return c.b.conf().MaxAwaitingRel
}

// purgeRel drops inbound QoS 2 ids older than mqtt.await_rel_timeout and
// returns how many. Lock held.
func (s *session) purgeRel(timeout time.Duration) int {
	if timeout <= 0 {
		return 0
	}
	old := time.Now().Add(-timeout).UnixNano()
	n := 0
	for pid, at := range s.incoming {
		if at < old {
			delete(s.incoming, pid)
			n++
		}
	}
	return n
}

// routePublish routes a client's message and returns the ack reason code.
func (c *client) routePublish(tp []byte, p *packet.Publish) packet.ReasonCode {
	in := &c.w.in // reused: no per-message allocation or large zeroing
	in.qos, in.retain, in.now, in.from, in.user, in.b = p.QoS, p.Retain, c.w.clock(), c.info.ClientID, c.info.Username, c.b
	in.expiry, in.msg = 0, nil
	in.tmpl.Topic, in.tmpl.Payload = tp, p.Payload
	if c.version == packet.V5 {
		in.tmpl.Props = p.Props
		forwardable(&in.tmpl.Props)
		if p.Props.Has(packet.PropMessageExpiry) {
			in.expiry = in.now + int64(p.Props.MessageExpiry)*int64(time.Second)
		}
	} else if !in.tmpl.Props.Empty() {
		in.tmpl.Props = packet.Properties{} // left by a hook's replacement message
	}
	n := c.b.route(c.w, in, &c.info)
	in.msg, in.tmpl.Topic, in.tmpl.Payload = nil, nil, nil
	if n == 0 {
		c.ctr.inc(rdRecvDropped) // no subscribers, or dropped by a hook
		if c.version == packet.V5 {
			return packet.NoMatchingSubscribers
		}
	}
	return packet.Success
}

// forwardable strips the properties that are not passed on to subscribers.
func forwardable(p *packet.Properties) {
	p.Clear(packet.PropTopicAlias)
	p.Clear(packet.PropMessageExpiry)
	p.SubscriptionIDs = nil
}

// ackPublish queues the PUBACK or PUBREC for a QoS 1/2 PUBLISH.
func (c *client) ackPublish(p *packet.Publish, rc packet.ReasonCode) {
	if p.QoS == 0 {
		return
	}
	typ, m := packet.PUBACK, MPacketsPubackSent
	if p.QoS == 2 {
		typ, m = packet.PUBREC, MPacketsPubrecSent
	}
	c.w.tally.inc(m)
	if c.version != packet.V5 {
		rc = packet.Success
	}
	c.w.tally.inc(MPacketsSent)
	ack := &packet.Ack{PacketType: typ, PacketID: p.PacketID, ReasonCode: rc}
	if rc.IsError() && c.problemInfo {
		ack.Props.ReasonString = []byte(rc.String()) // [MQTT-3.1.2-29] only when problem information is wanted
		ack.Props.Set(packet.PropReasonString)
	}
	c.queueResponse(ack)
}

// throttle applies the per-client publish rate: once the bucket is empty the
// reader stops after this packet and sleeps until its token is due (see
// pause), so TCP pushes back on the publisher.
func (c *client) throttle(p *packet.Publish) {
	if d := c.limiter.Reserve().Delay(); d > c.w.sleep {
		c.w.sleep = d
	}
}

// route delivers a message to every matching subscriber, stores or deletes a
// retained message, and forwards to the cluster. It returns the number of
// matching subscribers (see dispatch). ci is the publishing client (nil for
// internal publishes).
func (b *Broker) route(w *work, in *inbound, ci *ClientInfo) int {
	w.tally.inc(MMessagesPublish)
	if hs := b.hooks.load(); len(hs.publish) > 0 {
		m := in.message()
		for _, h := range hs.publish {
			orig := m
			if m = h.OnPublish(ci, m); m == nil {
				w.tally.inc(MMessagesDropped)
				hs.onDropped("", orig, DropByHook)
				return 0
			}
		}
		if m != in.msg {
			in.fromMessage(b, m)
		}
	}
	if in.retain {
		b.retainPublish(w, in)
	}
	n := b.dispatch(w, in)
	if b.fwd != nil {
		b.fwd.Forward(in.message())
	}
	if n == 0 {
		w.tally.inc(MMessagesDroppedNoSubscribers)
		w.tally.inc(MMessagesDropped)
		b.dropHook("", in, DropNoSubscribers)
	}
	return n
}

// dispatch matches the topic against the index and delivers to each target.
// It returns the number of targets, those skipped for No Local included: the
// message had subscribers (EMQX counts no_subscribers only without routes).
func (b *Broker) dispatch(w *work, in *inbound) int {
	w.matches = w.matches[:0]
	plain := 0
	b.subs.trie.MatchBytes(in.tmpl.Topic, func(fs *filterSubs) {
		sn := fs.snapshot()
		if len(sn.subs) > 0 {
			plain++
		}
		for i := range sn.subs {
			w.matches = append(w.matches, match{s: sn.subs[i].s, o: sn.subs[i].o})
		}
		for i := range sn.groups {
			m := b.pick(&sn.groups[i], in.tmpl.Topic, in.from)
			w.matches = append(w.matches, match{s: m.s, o: m.o, shared: true})
		}
	})
	if plain > 1 {
		w.dedupe()
	}
	n := len(w.matches)
	for i := range w.matches {
		mt := &w.matches[i]
		if mt.o.noLocal && mt.s.id == in.from {
			w.tally.inc(MDeliveryDroppedNoLocal) // [MQTT-3.8.3-3]
			w.tally.inc(MDeliveryDropped)
			b.dropHook(mt.s.id, in, DropNoLocal)
			continue
		}
		mt.s.deliver(w, in, mt)
	}
	clear(w.matches)
	return n
}

// dedupe merges the matches of one session from overlapping subscriptions
// into one delivery with the highest QoS and every subscription identifier
// [MQTT-3.3.4-2, 3.3.4-3, 3.3.4-5]. Shared subscriptions stay separate.
func (w *work) dedupe() {
	if w.seen == nil {
		w.seen = make(map[*session]int)
	}
	out := w.matches[:0]
	for _, m := range w.matches {
		if m.shared {
			out = append(out, m)
			continue
		}
		if i, ok := w.seen[m.s]; ok {
			mergeMatch(&out[i], m)
			continue
		}
		w.seen[m.s] = len(out)
		out = append(out, m)
	}
	clear(w.seen)
	w.matches = out
}

func mergeMatch(dst *match, m match) {
	dst.o.qos = max(dst.o.qos, m.o.qos)
	dst.o.rap = dst.o.rap || m.o.rap
	dst.o.noLocal = dst.o.noLocal && m.o.noLocal
	if m.o.id != 0 {
		if dst.ids == nil && dst.o.id != 0 {
			dst.ids = []uint32{dst.o.id}
		}
		dst.ids = append(dst.ids, m.o.id)
	}
}

// stripMount removes a listener mountpoint from a topic being delivered.
func stripMount(tp []byte, mp string) []byte {
	if mp != "" && len(tp) >= len(mp) && strings.HasPrefix(string(tp), mp) {
		return tp[len(mp):]
	}
	return tp
}
