package broker

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/mqtt/topic"
)

// handleOutboundAck handles PUBACK, PUBREC and PUBCOMP for messages the
// broker sent [MQTT-4.3.2, 4.3.3].
func (c *client) handleOutboundAck(fh packet.FixedHeader, body []byte) error {
	var a packet.Ack
	if err := packet.DecodeAck(fh, body, c.version, &a); err != nil {
		return err
	}
	s := c.sess
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.inflight.Get(a.PacketID)
	switch fh.Type {
	case packet.PUBACK:
		c.w.tally.inc(MPacketsPubackReceived)
		if e == nil || e.QoS != 1 {
			c.w.tally.inc(MPacketsPubackMissed)
			return nil
		}
		s.complete(c.w, e)
	case packet.PUBREC:
		c.w.tally.inc(MPacketsPubrecReceived)
		return s.pubrec(c.w, c, e, &a)
	case packet.PUBCOMP:
		c.w.tally.inc(MPacketsPubcompReceived)
		if e == nil || e.State != StatePubrel {
			c.w.tally.inc(MPacketsPubcompMissed)
			return nil
		}
		s.complete(c.w, e)
	}
	return nil
}

// complete removes an acknowledged entry and sends what the window now
// allows. Lock held.
func (s *session) complete(w *work, e *QueueEntry) {
	s.inflight.Remove(e.PacketID)
	s.unstore(e)
	s.ackedAt = w.clock()
	w.tally.inc(MMessagesAcked)
	for _, h := range s.b.hooks.load().acked {
		h.OnAcked(s.id, e.Msg)
	}
	s.drain(w)
}

// pubrec moves a QoS 2 delivery to its second phase. Lock held.
func (s *session) pubrec(w *work, c *client, e *QueueEntry, a *packet.Ack) error {
	if e == nil || e.QoS != 2 {
		w.tally.inc(MPacketsPubrecMissed)
		rel := &packet.Ack{PacketType: packet.PUBREL, PacketID: a.PacketID}
		if c.version == packet.V5 {
			rel.ReasonCode = packet.PacketIdentifierNotFound
		}
		c.writePacket(w, rel)
		w.tally.inc(MPacketsPubrelSent)
		w.tally.inc(MPacketsSent)
		return nil
	}
	if a.ReasonCode.IsError() { // the receiver refused it: the flow ends here [MQTT-4.3.3-?]
		s.complete(w, e)
		return nil
	}
	if e.State == StatePublish {
		e.State = StatePubrel
		s.store(nil, e)
	}
	c.writePacket(w, &packet.Ack{PacketType: packet.PUBREL, PacketID: e.PacketID}) // [MQTT-4.3.3-4]
	w.tally.inc(MPacketsPubrelSent)
	w.tally.inc(MPacketsSent)
	return nil
}

// handlePubrel completes an inbound QoS 2 flow [MQTT-4.3.3-11].
func (c *client) handlePubrel(fh packet.FixedHeader, body []byte) error {
	var a packet.Ack
	if err := packet.DecodeAck(fh, body, c.version, &a); err != nil {
		return err
	}
	c.w.tally.inc(MPacketsPubrelReceived)
	ok := c.sess.releaseRel(c.w, a.PacketID)
	comp := &packet.Ack{PacketType: packet.PUBCOMP, PacketID: a.PacketID}
	if !ok {
		c.w.tally.inc(MPacketsPubrelMissed)
		if c.version == packet.V5 {
			comp.ReasonCode = packet.PacketIdentifierNotFound
		}
	}
	c.w.tally.inc(MPacketsPubcompSent)
	c.w.tally.inc(MPacketsSent)
	c.queueResponse(comp)
	return nil
}

// handleSubscribe handles SUBSCRIBE [MQTT-3.8.4].
func (c *client) handleSubscribe(fh packet.FixedHeader, body []byte) error {
	var p packet.Subscribe
	if err := packet.DecodeSubscribe(fh, body, c.version, &p); err != nil {
		return err
	}
	c.w.tally.inc(MPacketsSubscribeReceived)
	for i := range p.Subscriptions {
		if err := c.v3FilterRule(p.Subscriptions[i].Filter); err != nil {
			return err
		}
	}
	var subID uint32
	if len(p.Props.SubscriptionIDs) > 0 {
		subID = p.Props.SubscriptionIDs[0]
	}
	codes := make([]packet.ReasonCode, len(p.Subscriptions))
	var fresh []bool
	for i := range p.Subscriptions {
		rc, isNew, err := c.subscribeOne(&p.Subscriptions[i], subID)
		if err != nil {
			return err
		}
		codes[i] = rc
		fresh = append(fresh, isNew)
	}
	if c.sess.isDurable() {
		if err := c.b.commitSync(nil); err != nil {
			return reasonErr(packet.UnspecifiedError, "store: "+err.Error())
		}
		c.w.barrier = false // everything before is durable now
	}
	ack := &packet.Suback{PacketID: p.PacketID, ReasonCodes: codes}
	if c.version == packet.V5 && c.problemInfo && slices.ContainsFunc(codes, packet.ReasonCode.IsError) {
		ack.Props.ReasonString = []byte("some subscriptions were refused")
		ack.Props.Set(packet.PropReasonString)
	}
	c.queueResponse(ack)
	c.w.tally.inc(MPacketsSubackSent)
	c.w.tally.inc(MPacketsSent)
	c.releaseResponses() // SUBACK before the retained messages
	for i := range p.Subscriptions {
		c.retainedOnSubscribe(&p.Subscriptions[i], codes[i], fresh[i], subID)
	}
	return nil
}

// retainedOnSubscribe sends retained messages for a granted subscription as
// its Retain Handling says [MQTT-3.3.1-9, 3.3.1-10, 3.3.1-11], with its
// Subscription Identifier [MQTT-3.3.4-3]; shared subscriptions get none.
func (c *client) retainedOnSubscribe(sub *packet.Subscription, rc packet.ReasonCode, fresh bool, subID uint32) {
	if rc.IsError() {
		return
	}
	c.sess.retainedOnSubscribe(c.w, c.info.Mountpoint, sub, byte(rc), fresh, subID)
}

// retainedOnSubscribe sends the retained messages of a subscription granted
// with qos to s (see client.retainedOnSubscribe). Lock not held.
func (s *session) retainedOnSubscribe(w *work, mount string, sub *packet.Subscription, qos byte, fresh bool, subID uint32) {
	if sub.RetainHandling == 2 || (sub.RetainHandling == 1 && !fresh) {
		return
	}
	if strings.HasPrefix(sub.Filter, "$share/") || strings.HasPrefix(sub.Filter, "$queue/") {
		return
	}
	o := subOpts{qos: qos, rap: true, id: subID}
	s.sendRetained(w, mount+sub.Filter, o)
}

// subscribeOne validates, authorizes and records one subscription. It returns
// the SUBACK code and whether the subscription is new.
func (c *client) subscribeOne(sub *packet.Subscription, subID uint32) (packet.ReasonCode, bool, error) {
	cfg := c.b.conf()
	group, real, rc, why := checkSubscription(cfg, sub)
	switch {
	case rc == packet.ProtocolError:
		return 0, false, protoErr(why) // [MQTT-3.8.3-4]
	case rc != packet.Success:
		return c.subFail(rc), false, nil
	}
	if !c.b.authorize(c.w, &c.info, ActionSubscribe, bytesOf(real), sub.QoS, false) {
		c.w.tally.inc(MPacketsSubscribeAuthError)
		if cfg.AuthzDenyDisconnect {
			return 0, false, reasonErr(packet.NotAuthorized, "subscribe not authorized")
		}
		return c.subFail(packet.NotAuthorized), false, nil
	}
	rec := subscriptionRecord(cfg, sub, subID, c.version)
	isNew, ok := c.b.addSubscription(c.w, c.sess, c.info.Mountpoint, rec, group, real, cfg.MaxSubscriptions)
	if !ok {
		return c.subFail(packet.QuotaExceeded), false, nil
	}
	return packet.ReasonCode(rec.QoS), isNew, nil
}

// checkSubscription validates one subscription of a SUBSCRIBE against the
// topic rules and the broker's settings. It returns the share group ("" for
// none) and the real filter, and Success or the reason code of a refusal
// with why; ProtocolError means the SUBSCRIBE breaks the protocol.
func checkSubscription(cfg *Config, sub *packet.Subscription) (group, real string, rc packet.ReasonCode, why string) {
	group, real, shared, err := topic.ParseShare(sub.Filter)
	if err == nil {
		err = topic.ValidateFilter(real)
	}
	switch {
	case err != nil:
		return "", "", packet.TopicFilterInvalid, err.Error()
	case topic.Levels(real) > cfg.MaxTopicLevels:
		return "", "", packet.TopicFilterInvalid, "more levels than mqtt.max_topic_levels"
	case shared && sub.NoLocal:
		return "", "", packet.ProtocolError, "no local on a shared subscription"
	case shared && !cfg.SharedSubs:
		return "", "", packet.SharedSubsNotSupported, "shared subscriptions are disabled"
	case !cfg.WildcardSubs && strings.ContainsAny(real, "+#"):
		return "", "", packet.WildcardSubsNotSupported, "wildcard subscriptions are disabled"
	}
	return group, real, packet.Success, ""
}

// subscriptionRecord is the session record of a granted subscription.
func subscriptionRecord(cfg *Config, sub *packet.Subscription, subID uint32, version byte) *SubscriptionRecord {
	rec := &SubscriptionRecord{Filter: sub.Filter, QoS: min(sub.QoS, cfg.MaxQoS), NoLocal: sub.NoLocal,
		RetainAsPublished: sub.RetainAsPublished, RetainHandling: sub.RetainHandling, ID: subID}
	if version != packet.V5 && cfg.IgnoreLoopDeliver {
		rec.NoLocal = true
	}
	return rec
}

// addSubscription records a validated subscription in s (persisted with a
// durable session) and in the index under the mountpoint; ok is false when
// the session has limit subscriptions already.
func (b *Broker) addSubscription(w *work, s *session, mount string, rec *SubscriptionRecord, group, real string, limit int) (isNew, ok bool) {
	isNew, ok = s.addSub(rec, limit)
	if !ok {
		return false, false
	}
	b.index(s, mount+real, group, optsOf(rec), isNew)
	w.tally.inc(MClientSubscribe)
	return isNew, true
}

// subFail maps a refusal to the protocol's SUBACK code (0x80 for v3).
func (c *client) subFail(rc packet.ReasonCode) packet.ReasonCode {
	c.w.tally.inc(MPacketsSubscribeError)
	if c.version != packet.V5 {
		return packet.UnspecifiedError
	}
	return rc
}

// addSub records a subscription in the session (replacing one with the same
// filter [MQTT-3.8.4-3]); ok is false when max_subscriptions is reached.
func (s *session) addSub(rec *SubscriptionRecord, limit int) (isNew, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs == nil {
		s.subs = make(map[string]*SubscriptionRecord)
	}
	_, had := s.subs[rec.Filter]
	if !had && limit > 0 && len(s.subs) >= limit {
		return false, false
	}
	s.subs[rec.Filter] = rec
	if s.durable() {
		s.b.store.Commit([]StoreOp{{Kind: OpPutSub, ClientID: s.id, Sub: rec}}, false, nil)
	}
	return !had, true
}

// index adds a subscription to the index and counts it.
func (b *Broker) index(s *session, real, group string, o subOpts, isNew bool) {
	b.subs.add(s, real, group, o)
	if isNew && strings.HasPrefix(real, "$") {
		b.dollarSubs.Add(1)
	}
	if isNew {
		b.stats.Subscriptions.Add(1)
		if group != "" {
			b.stats.SharedSubscriptions.Add(1)
		}
	}
}

func (s *session) isDurable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.durable()
}

// handleUnsubscribe handles UNSUBSCRIBE [MQTT-3.10.4].
func (c *client) handleUnsubscribe(fh packet.FixedHeader, body []byte) error {
	var p packet.Unsubscribe
	if err := packet.DecodeUnsubscribe(fh, body, c.version, &p); err != nil {
		return err
	}
	c.w.tally.inc(MPacketsUnsubscribeReceived)
	for _, f := range p.Filters {
		if err := c.v3FilterRule(f); err != nil {
			return err
		}
	}
	ack := &packet.Unsuback{PacketID: p.PacketID}
	for _, f := range p.Filters {
		ack.ReasonCodes = append(ack.ReasonCodes, c.unsubscribeOne(f))
	}
	c.queueResponse(ack)
	c.w.tally.inc(MPacketsUnsubackSent)
	c.w.tally.inc(MPacketsSent)
	return nil
}

// unsubscribeOne removes one subscription and returns its UNSUBACK code (v5
// only; 3.1.1 UNSUBACK has none): 0x11 if there was none, 0x8F for a filter
// that could never have been subscribed, as SUBACK answers it.
func (c *client) unsubscribeOne(f string) packet.ReasonCode {
	if c.b.removeSubscription(c.w, c.sess, c.info.Mountpoint, f) {
		return packet.Success
	}
	if _, _, _, err := topic.ParseShare(f); err != nil {
		return packet.TopicFilterInvalid
	}
	return packet.NoSubscriptionExisted
}

// v3FilterRule ends a 3.1.1 or 3.1 connection whose SUBSCRIBE or
// UNSUBSCRIBE has a Topic Filter that breaks the wildcard rules
// [MQTT-4.7.1-1] [MQTT-4.7.1-2] or is empty [MQTT-4.7.3-1]: their SUBACK
// 0x80 refuses a valid filter and their UNSUBACK has no code, so it is a
// protocol violation that closes the connection before any filter of the
// packet takes effect [MQTT-4.8.0-1], as mosquitto does. v5 answers the
// filter with 0x8F instead (README.md, "Protocol notes").
func (c *client) v3FilterRule(f string) error {
	if c.version == packet.V5 {
		return nil
	}
	_, _, _, err := topic.ParseShare(f)
	if errors.Is(err, topic.ErrBadWildcard) || errors.Is(err, topic.ErrEmpty) {
		return protoErr(err.Error())
	}
	return nil
}

// removeSubscription removes one of s's subscriptions (filter as the client
// sent it) from the session and the index; it reports whether s had it.
func (b *Broker) removeSubscription(w *work, s *session, mount, filter string) bool {
	if !s.removeSub(w, filter) {
		return false
	}
	b.unindex(s, mounted(mount, filter))
	w.tally.inc(MClientUnsubscribe)
	return true
}

// mounted returns a filter with a listener mountpoint applied after any
// shared-subscription prefix.
func mounted(mp, filter string) string {
	if mp == "" {
		return filter
	}
	group, real, shared, err := topic.ParseShare(filter)
	if err != nil || !shared {
		return mp + filter
	}
	if group == "$queue" {
		return "$queue/" + mp + real
	}
	return "$share/" + group + "/" + mp + real
}

// removeSub deletes a subscription from the session. For a durable session
// the UNSUBACK waits until that is durable, so that a crash cannot bring
// the subscription back [MQTT-3.10.4-2].
func (s *session) removeSub(w *work, filter string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.subs[filter]; !ok {
		return false
	}
	delete(s.subs, filter)
	if s.durable() {
		s.b.store.Commit([]StoreOp{{Kind: OpDeleteSub, ClientID: s.id, Filter: filter}}, false, nil)
		w.barrier = true
	}
	return true
}

// handlePingreq answers PINGRESP [MQTT-3.12.4-1].
func (c *client) handlePingreq(fh packet.FixedHeader, body []byte) error {
	if fh.Flags != 0 || len(body) != 0 {
		return reasonErr(packet.MalformedPacket, "bad PINGREQ")
	}
	c.w.tally.inc(MPacketsPingreqReceived)
	c.w.tally.inc(MPacketsPingrespSent)
	c.w.tally.inc(MPacketsSent)
	c.queueResponse(&packet.Pingresp{})
	return nil
}

// handleDisconnect ends the connection normally; with v5 reason 0x04 the
// will is still published, and the session expiry may change
// [MQTT-3.14.4, 3.14.2-2].
func (c *client) handleDisconnect(fh packet.FixedHeader, body []byte) error {
	var d packet.Disconnect
	if err := packet.DecodeDisconnect(fh, body, c.version, &d); err != nil {
		return err
	}
	c.w.tally.inc(MPacketsDisconnectReceived)
	if d.Props.Has(packet.PropSessionExpiry) {
		if err := c.sess.setExpiry(d.Props.SessionExpiry); err != nil {
			return err
		}
	}
	c.normal = d.ReasonCode != packet.DisconnectWithWill
	c.discRC = d.ReasonCode
	return errNormalDisconnect
}

// setExpiry changes the Session Expiry Interval at DISCONNECT; changing it
// from 0 is a protocol error [MQTT-3.14.2-2].
func (s *session) setExpiry(v uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.expiry == 0 && v != 0 {
		return protoErr("session expiry set at DISCONNECT after 0 at CONNECT")
	}
	if s.durable() && v == 0 {
		s.b.store.Commit([]StoreOp{{Kind: OpDeleteSession, ClientID: s.id}}, false, nil)
		s.stored = false
	}
	s.expiry = v
	return nil
}

// handleAuth handles re-authentication after the connection is established
// [MQTT-4.12.1].
func (c *client) handleAuth(fh packet.FixedHeader, body []byte) error {
	var a packet.Auth
	if err := packet.DecodeAuth(fh, body, packet.V5, &a); err != nil {
		return err
	}
	c.w.tally.inc(MPacketsAuthReceived)
	ea, ok := c.b.authn.(EnhancedAuthenticator)
	if !ok || c.reauth == nil || string(a.Props.AuthMethod) != c.reauth.method {
		return protoErr("AUTH without an authentication method") // [MQTT-4.12.1-1]
	}
	c.reauth.req.AuthData = append([]byte(nil), a.Props.AuthData...)
	var step AuthStep
	var err error
	if a.ReasonCode == packet.ReAuthenticate {
		step, err = ea.AuthStart(context.Background(), &c.reauth.req)
	} else {
		step, err = ea.AuthContinue(context.Background(), &c.reauth.req, c.reauth.state)
	}
	if err != nil {
		return reasonErr(packet.NotAuthorized, err.Error())
	}
	c.reauth.state = step.State
	reply := &packet.Auth{ReasonCode: packet.ContinueAuthentication}
	if step.Done {
		reply.ReasonCode = packet.Success
	}
	reply.Props.AuthMethod, reply.Props.AuthData = []byte(c.reauth.method), step.Data
	reply.Props.Set(packet.PropAuthMethod)
	if step.Data != nil {
		reply.Props.Set(packet.PropAuthData)
	}
	c.queueResponse(reply)
	c.w.tally.inc(MPacketsAuthSent)
	c.w.tally.inc(MPacketsSent)
	return nil
}
