package broker

import (
	"time"

	"github.com/herald-mqtt/herald/internal/mqtt/topic"
)

// restore rebuilds persistent sessions and retained messages from the store.
// A session that was connected when the node stopped counts as disconnected
// at restart (its will, if any, is pending); one whose expiry passed while
// the node was down ends now, publishing its pending will.
func (b *Broker) restore() error {
	if b.store == nil {
		return nil
	}
	if err := b.store.LoadRetained(b.restoreRetained); err != nil {
		return err
	}
	now := time.Now().UnixNano()
	var expired, live []*session
	err := b.store.LoadSessions(func(ls *LoadedSession) error {
		if s := b.restoreSession(ls, now); s.expiredAt(now) {
			expired = append(expired, s)
		} else {
			live = append(live, s)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, s := range expired {
		lk := b.ids.lock(s.id)
		b.logExpired(s)
		b.endSession(s, SessionTerminated)
		lk.Unlock()
	}
	// Timers are armed once every session is back: a will that fell due
	// while the node was down fires at once, and must find every subscriber.
	for _, s := range live {
		s.mu.Lock()
		s.armTimers(now)
		s.mu.Unlock()
	}
	return nil
}

func (b *Broker) restoreRetained(m *Message) error {
	if m.ID >= b.msgID.Load() {
		b.msgID.Store(m.ID + 1)
	}
	if !b.retained.set(m) {
		b.stats.Retained.Add(1)
	}
	return nil
}

// restoreSession rebuilds one offline session; restore arms its timers.
func (b *Broker) restoreSession(ls *LoadedSession, now int64) *session {
	r := &ls.Session
	s := newSession(b, r.ClientID)
	s.username, s.version, s.expiry, s.created = r.Username, r.ProtocolVersion, r.ExpiryInterval, r.CreatedAt
	s.will, s.stored = r.Will, true
	s.discAt = r.DisconnectedAt
	if s.discAt == 0 {
		s.discAt = now
	}
	for i := range ls.Subs {
		rec := ls.Subs[i]
		if s.subs == nil {
			s.subs = make(map[string]*SubscriptionRecord)
		}
		s.subs[rec.Filter] = &rec
		if group, real, _, err := topic.ParseShare(rec.Filter); err == nil {
			b.index(s, real, group, optsOf(&rec), true)
		}
	}
	for i := range ls.Queue {
		b.restoreEntry(s, &ls.Queue[i])
	}
	for _, pid := range ls.Incoming {
		if s.incoming == nil {
			s.incoming = make(map[uint16]int64)
		}
		s.incoming[pid] = now
	}
	b.sessions.put(s)
	b.registry.Claim(s.id)
	b.stats.Sessions.Add(1)
	return s
}

// restoreEntry puts a stored entry back in the inflight window or the queue.
func (b *Broker) restoreEntry(s *session, e *QueueEntry) {
	if m := e.Msg; m != nil && m.ID >= b.msgID.Load() {
		b.msgID.Store(m.ID + 1)
	}
	if e.Seq >= s.nextSeq {
		s.nextSeq = e.Seq + 1
	}
	ent := *e
	if ent.State == StatePublish || ent.State == StatePubrel {
		s.inflight.Restore(&ent)
		return
	}
	s.queue.Push(&ent)
}

// expiredAt reports whether an offline session's expiry has passed.
func (s *session) expiredAt(now int64) bool {
	return s.expiry != NeverExpire && s.discAt+int64(s.expiry)*int64(time.Second) <= now
}
