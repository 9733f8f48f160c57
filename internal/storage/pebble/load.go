package pebble

import (
	"errors"
	"fmt"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/herald-mqtt/herald/internal/broker"
)

// errDangling is reported for a reference to a message that is not stored.
var errDangling = fmt.Errorf("%w: dangling message reference", ErrCorrupt)

// scan calls visit for every key in the range of prefix p, in key order.
func (s *Store) scan(p byte, visit func(k, v []byte) error) error {
	it, err := s.db.NewIter(&pebbledb.IterOptions{LowerBound: []byte{p}, UpperBound: []byte{p + 1}})
	if err != nil {
		return fmt.Errorf("pebble store: scan: %w", err)
	}
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err == nil {
			err = visit(it.Key(), v)
		}
		if err != nil {
			return errors.Join(err, it.Close())
		}
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return fmt.Errorf("pebble store: scan: %w", err)
	}
	return nil
}

// skip reports a record that Load cannot use.
func (s *Store) skip(key []byte, err error) {
	s.stats.skipped.Add(1)
	s.log.Warn("pebble store: skipping record", "key", fmt.Sprintf("%q", key), "err", err)
}

// message returns the stored message id from cache or the database.
func (s *Store) message(cache msgCache, id uint64) (*broker.Message, error) {
	if m, ok := cache[id]; ok {
		return m, nil
	}
	v, closer, err := s.db.Get(messageKey(nil, id))
	if errors.Is(err, pebbledb.ErrNotFound) {
		return nil, fmt.Errorf("message %d: %w", id, errDangling)
	}
	if err != nil {
		return nil, fmt.Errorf("pebble store: get message %d: %w", id, err)
	}
	m, err := parseMessage(v, id)
	if cerr := closer.Close(); cerr != nil {
		return nil, fmt.Errorf("pebble store: get message %d: %w", id, cerr)
	}
	if err == nil {
		cache[id] = m
	}
	return m, err
}

// cache returns the message cache Loads share until the next Commit.
func (s *Store) cache() msgCache {
	if c := s.loadCache.Load(); c != nil {
		return *c
	}
	c := make(msgCache)
	s.loadCache.Store(&c)
	return c
}

// LoadRetained calls fn with every retained message; messages are shared
// with LoadSessions when no Commit comes between them. Records that cannot be
// decoded, and references to missing messages, are logged, counted in
// Stats().Skipped and skipped. It fails only for I/O errors or fn's error.
func (s *Store) LoadRetained(fn func(*broker.Message) error) error {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	cache := s.cache()
	part := make(map[string]uint64)
	err := s.scan(prefixRetained, func(k, v []byte) error {
		id, err := parseIDValue(v)
		if err != nil {
			s.skip(k, fmt.Errorf("retained %q: %w", k[1:], err))
			return nil
		}
		part[string(k[1:])] = id
		m, err := s.message(cache, id)
		if err != nil {
			return s.skipOrFail(k, err)
		}
		return fn(m)
	})
	if err != nil {
		return err
	}
	s.installRetained(part)
	return nil
}

// skipOrFail skips the record of key k when err is a decoding error and
// returns err otherwise.
func (s *Store) skipOrFail(k []byte, err error) error {
	if errors.Is(err, ErrCorrupt) {
		s.skip(k, err)
		return nil
	}
	return err
}

func (s *Store) installRetained(part map[string]uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.idx.retainedBuilt {
		s.idx.addRetainedPart(part)
	}
}

func (s *Store) installQueue(part map[string]map[uint64]uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.idx.queueBuilt {
		s.idx.addQueuePart(part)
	}
}

// ensureIndex builds the parts of the index no Load has built, for a Commit
// that comes first. Called with mu held.
func (s *Store) ensureIndex() error {
	if !s.idx.queueBuilt {
		part := make(map[string]map[uint64]uint64)
		if err := s.scan(prefixClient, queueIndexer(part)); err != nil {
			return err
		}
		s.idx.addQueuePart(part)
	}
	if !s.idx.retainedBuilt {
		part := make(map[string]uint64)
		err := s.scan(prefixRetained, func(k, v []byte) error {
			if id, err := parseIDValue(v); err == nil {
				part[string(k[1:])] = id
			}
			return nil
		})
		if err != nil {
			return err
		}
		s.idx.addRetainedPart(part)
	}
	return nil
}

// queueIndexer returns a scan visitor adding every queue entry whose message
// reference can be read to part.
func queueIndexer(part map[string]map[uint64]uint64) func(k, v []byte) error {
	return func(k, v []byte) error {
		ck, err := parseClientKey(k)
		if err == nil && ck.kind == kindQueue {
			indexQueue(part, ck, v)
		}
		return nil
	}
}

func indexQueue(part map[string]map[uint64]uint64, ck clientKey, v []byte) {
	id, err := queueMessageID(v)
	if err != nil {
		return
	}
	q := part[ck.clientID]
	if q == nil {
		q = make(map[uint64]uint64)
		part[ck.clientID] = q
	}
	q[ck.seq()] = id
}

// StoredMessages counts the message records in the database (for tests and
// diagnostics; it scans them all).
func (s *Store) StoredMessages() (int, error) {
	n := 0
	err := s.scan(prefixMessage, func(k, v []byte) error {
		n++
		return nil
	})
	return n, err
}
