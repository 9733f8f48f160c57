package broker

import (
	"errors"
	"fmt"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

// ErrSubscriptionQuota is returned by SubscribeFor when the session has
// mqtt.max_subscriptions subscriptions already.
var ErrSubscriptionQuota = errors.New("broker: subscription quota exceeded")

// adminSub is one validated subscription of SubscribeFor.
type adminSub struct {
	sub   packet.Subscription
	id    uint32
	group string
	real  string
}

// SubscribeFor subscribes a session (connected or not) as if it had sent
// SUBSCRIBE: the filters are validated as a SUBSCRIBE's are, the
// listener's mountpoint is applied, the subscription is persisted with a
// durable session (durably before SubscribeFor returns, as before a
// SUBACK), and a connected client gets the retained messages per Retain
// Handling. An offline session gets no retained messages: a client only
// subscribes while connected. QoS is capped by mqtt.max_qos_allowed.
// Authorization is not consulted: this is an administrator's action.
//
// Filter is as a client would send it (may start with $share/ or $queue/).
// Every subscription is validated before any is applied. It returns an error
// wrapping ErrNotFound for an unknown client id, ErrBadFilter (with the
// reason) for an invalid filter or option, ErrSubscriptionQuota when
// mqtt.max_subscriptions is reached (the subscriptions before it stay).
func (b *Broker) SubscribeFor(clientID string, subs []SubscriptionSnapshot) error {
	cfg := b.conf()
	list := make([]adminSub, len(subs))
	for i := range subs {
		if err := checkAdminSub(cfg, &subs[i], &list[i]); err != nil {
			return fmt.Errorf("broker: subscribe %q: %w", clientID, err)
		}
	}
	lk := b.ids.lock(clientID) // no connect, takeover or expiry meanwhile
	defer lk.Unlock()
	s := b.sessions.get(clientID)
	if s == nil {
		return fmt.Errorf("client %q: %w", clientID, ErrNotFound)
	}
	s.mu.Lock()
	closed, mount, version, connected := s.closed, s.mount, s.version, s.conn != nil
	s.mu.Unlock()
	if closed {
		return fmt.Errorf("client %q: %w", clientID, ErrNotFound)
	}
	var w work
	w.init(b)
	defer w.finish()
	granted, err := b.applyAdminSubs(&w, s, mount, version, list)
	if s.isDurable() {
		if cerr := b.commitSync(nil); cerr != nil {
			return errors.Join(err, fmt.Errorf("broker: subscribe %q: store: %w", clientID, cerr))
		}
	}
	if connected {
		for i, g := range granted {
			s.retainedOnSubscribe(&w, mount, &list[i].sub, g.qos, g.fresh, list[i].id)
		}
	}
	return err
}

// checkAdminSub validates one subscription of SubscribeFor into as.
func checkAdminSub(cfg *Config, ss *SubscriptionSnapshot, as *adminSub) error {
	if ss.QoS > 2 || ss.RH > 2 {
		return fmt.Errorf("%w: %q: QoS %d or Retain Handling %d out of range", ErrBadFilter, ss.Filter, ss.QoS, ss.RH)
	}
	as.sub = packet.Subscription{Filter: ss.Filter, QoS: ss.QoS, NoLocal: ss.NoLocal,
		RetainAsPublished: ss.RAP, RetainHandling: ss.RH}
	as.id = ss.SubID
	if as.id > 268435455 {
		return fmt.Errorf("%w: %q: subscription identifier %d out of range", ErrBadFilter, ss.Filter, as.id)
	}
	var rc packet.ReasonCode
	var why string
	as.group, as.real, rc, why = checkSubscription(cfg, &as.sub)
	if rc != packet.Success {
		return fmt.Errorf("%w: %q: %s", ErrBadFilter, ss.Filter, why)
	}
	return nil
}

// grant is the outcome of one applied subscription.
type grant struct {
	qos   byte
	fresh bool
}

// applyAdminSubs records validated subscriptions in s and the index, in
// order, until the subscription quota stops it.
func (b *Broker) applyAdminSubs(w *work, s *session, mount string, version byte, list []adminSub) ([]grant, error) {
	cfg := b.conf()
	granted := make([]grant, 0, len(list))
	for i := range list {
		as := &list[i]
		rec := subscriptionRecord(cfg, &as.sub, as.id, version)
		fresh, ok := b.addSubscription(w, s, mount, rec, as.group, as.real, cfg.MaxSubscriptions)
		if !ok {
			return granted, fmt.Errorf("broker: subscribe %q to %q: %w (%d)", s.id, as.sub.Filter, ErrSubscriptionQuota, cfg.MaxSubscriptions)
		}
		granted = append(granted, grant{qos: rec.QoS, fresh: fresh})
	}
	return granted, nil
}

// UnsubscribeFor removes subscriptions of a session (connected or not) as
// UNSUBSCRIBE would: from the session, its stored state (durably before it
// returns) and the index. Filters are as the client subscribed them (with
// any $share/ prefix, without the mountpoint); filters the session does not
// have are ignored. It returns an error wrapping ErrNotFound for an unknown
// client id.
func (b *Broker) UnsubscribeFor(clientID string, filters []string) error {
	lk := b.ids.lock(clientID)
	defer lk.Unlock()
	s := b.sessions.get(clientID)
	if s == nil {
		return fmt.Errorf("client %q: %w", clientID, ErrNotFound)
	}
	s.mu.Lock()
	closed, mount := s.closed, s.mount
	s.mu.Unlock()
	if closed {
		return fmt.Errorf("client %q: %w", clientID, ErrNotFound)
	}
	var w work
	w.init(b)
	for _, f := range filters {
		b.removeSubscription(&w, s, mount, f)
	}
	w.finish()
	if w.barrier {
		if err := b.commitSync(nil); err != nil {
			return fmt.Errorf("broker: unsubscribe %q: store: %w", clientID, err)
		}
	}
	return nil
}
