package broker

import "time"

// Backpressure: a publisher whose message queues behind the full inflight
// window of an online subscriber with at least stallMark queued messages
// stops reading (for at most stallMax at a time) until that queue is below
// half the mark, so TCP slows the publisher to the consumer's pace instead
// of the broker queueing without bound. Only a consumer that is making
// progress (completed a delivery within stallProgress) slows publishers: a
// stuck one gets the queue bound and its drop policy instead.
const (
	stallHigh     = 1000
	stallMax      = 20 * time.Millisecond
	stallProgress = int64(200 * time.Millisecond)
)

// stallMark is the queue length from which publishers wait: stallHigh, or
// half of mqtt.max_mqueue_len when that is smaller, so backpressure starts
// before the queue limit drops anything. They resume at half the mark.
func (b *Broker) stallMark() int {
	if l := b.conf().MaxMqueueLen; l > 0 && l/2 < stallHigh {
		return max(l/2, 1)
	}
	return stallHigh
}

// releaseStalled wakes publishers waiting for s's queue to drain. Lock held.
func (s *session) releaseStalled(force bool) {
	if s.stallWait != nil && (force || s.queue.Len() < s.b.stallMark()/2+1) {
		close(s.stallWait)
		s.stallWait = nil
	}
}

// waitDrained blocks until s's queue is short again, s goes offline, or
// stallMax passes.
func (s *session) waitDrained() {
	s.mu.Lock()
	if s.conn == nil || s.queue.Len() < s.b.stallMark()/2+1 {
		s.mu.Unlock()
		return
	}
	if s.stallWait == nil {
		s.stallWait = make(chan struct{})
	}
	ch := s.stallWait
	s.mu.Unlock()
	t := time.NewTimer(stallMax)
	select {
	case <-ch:
	case <-t.C:
	}
	t.Stop()
}

func newSession(b *Broker, id string) *session {
	return &session{id: id, b: b, created: time.Now().UnixNano(), nextSeq: 1}
}

// persistent reports whether the session outlives its connection.
// Lock held on entry.
func (s *session) persistent() bool { return s.expiry > 0 }

// durable reports whether the session's state goes to the store.
// Lock held on entry.
func (s *session) durable() bool { return s.expiry > 0 && s.b.store != nil }

// record returns the session's store record. Lock held on entry.
func (s *session) record() *SessionRecord {
	return &SessionRecord{
		ClientID: s.id, Username: s.username, ProtocolVersion: s.version,
		ExpiryInterval: s.expiry, CreatedAt: s.created, DisconnectedAt: s.discAt, Will: s.will,
	}
}

// stopTimers cancels the expiry and will timers. Lock held on entry.
func (s *session) stopTimers() {
	if s.expTimer != nil {
		s.expTimer.Stop()
		s.expTimer = nil
	}
	if s.willTimer != nil {
		s.willTimer.Stop()
		s.willTimer = nil
	}
}
