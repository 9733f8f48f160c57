package pebble

import (
	"fmt"

	"github.com/herald-mqtt/herald/internal/broker"
)

// LoadSessions calls fn with every stored session, its subscriptions, its
// queue ordered by Seq and its incoming ids, in client key order. Entries
// that share a message get the same *Message (also shared with LoadRetained
// when no Commit comes between them). Records that cannot be decoded, records of a client whose
// session record is missing or undecodable, and queue entries whose message
// is missing are logged, counted in Stats().Skipped and skipped. It fails
// only for I/O errors or fn's error.
func (s *Store) LoadSessions(fn func(*broker.LoadedSession) error) error {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	l := &sessionLoader{s: s, fn: fn, cache: s.cache(), part: make(map[string]map[uint64]uint64)}
	if err := s.scan(prefixClient, l.visit); err != nil {
		return err
	}
	if err := l.emit(); err != nil {
		return err
	}
	s.installQueue(l.part)
	return nil
}

// sessionLoader assembles sessions from the ordered scan of the client range.
type sessionLoader struct {
	s       *Store
	fn      func(*broker.LoadedSession) error
	cache   msgCache
	part    map[string]map[uint64]uint64 // queue part of the index
	started bool
	client  string
	cur     *broker.LoadedSession // nil while the client has no usable session record
}

// visit handles one key of the client range.
func (l *sessionLoader) visit(k, v []byte) error {
	ck, err := parseClientKey(k)
	if err != nil {
		l.s.skip(k, err)
		return nil
	}
	if !l.started || ck.clientID != l.client {
		if err := l.emit(); err != nil {
			return err
		}
		l.started, l.client = true, ck.clientID
	}
	if ck.kind == kindQueue {
		indexQueue(l.part, ck, v) // on disk, so it holds a reference
	}
	if err := l.add(ck, v); err != nil {
		return l.s.skipOrFail(k, err)
	}
	return nil
}

// emit passes the finished session to fn.
func (l *sessionLoader) emit() error {
	cur := l.cur
	l.cur = nil
	if cur == nil {
		return nil
	}
	return l.fn(cur)
}

// add decodes one record into the current session.
func (l *sessionLoader) add(ck clientKey, v []byte) error {
	if ck.kind == kindSession {
		rec, err := parseSession(v, ck.clientID)
		if err == nil {
			l.cur = &broker.LoadedSession{Session: rec}
		}
		return err
	}
	if l.cur == nil {
		return fmt.Errorf("%w: client %q has no session record", ErrCorrupt, ck.clientID)
	}
	switch ck.kind {
	case kindSub:
		return l.addSub(ck, v)
	case kindQueue:
		return l.addQueue(ck, v)
	default: // kindIncoming; parseClientKey rejects unknown kinds
		return l.addIncoming(ck, v)
	}
}

func (l *sessionLoader) addSub(ck clientKey, v []byte) error {
	sub, err := parseSub(v, string(ck.rest))
	if err == nil {
		l.cur.Subs = append(l.cur.Subs, sub)
	}
	return err
}

func (l *sessionLoader) addQueue(ck clientKey, v []byte) error {
	e, id, err := parseQueue(v, ck.seq())
	if err != nil {
		return err
	}
	if e.Msg, err = l.s.message(l.cache, id); err != nil {
		return fmt.Errorf("queue entry %d of %q: %w", e.Seq, ck.clientID, err)
	}
	l.cur.Queue = append(l.cur.Queue, e)
	return nil
}

func (l *sessionLoader) addIncoming(ck clientKey, v []byte) error {
	if err := parseMarker(v); err != nil {
		return fmt.Errorf("incoming id %d of %q: %w", ck.packetID(), ck.clientID, err)
	}
	l.cur.Incoming = append(l.cur.Incoming, ck.packetID())
	return nil
}
