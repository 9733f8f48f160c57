package pebble

import (
	"fmt"

	pebbledb "github.com/cockroachdb/pebble/v2"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/storage"
)

// Commit implements broker.Store: it validates and encodes ops into the
// pending group and returns; the committer calls done once the group is
// applied (and fsynced when durable in Sync mode). A Commit with a malformed
// op applies nothing and gets ErrInvalidOp; one after Close gets ErrClosed.
func (s *Store) Commit(ops []broker.StoreOp, durable bool, done func(error)) {
	if err := storage.Validate(ops); err != nil {
		callDone(done, err)
		return
	}
	if err := s.enqueue(ops, durable, done); err != nil {
		callDone(done, err)
		return
	}
	s.wake()
}

func callDone(done func(error), err error) {
	if done != nil {
		done(err)
	}
}

// enqueue adds ops to the pending batch and done to the waiters.
func (s *Store) enqueue(ops []broker.StoreOp, durable bool, done func(error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return ErrClosed
	}
	if s.err != nil {
		return s.err
	}
	if err := s.ensureIndex(); err != nil {
		return err
	}
	for i := range ops {
		if err := s.applyOp(&ops[i]); err != nil {
			// The pending batch may now hold part of this commit: fail the
			// store so that the group is never applied.
			s.err = fmt.Errorf("pebble store: encode: %w", err)
			return s.err
		}
	}
	if s.loadCache.Load() != nil {
		s.loadCache.Store(nil) // release what Load handed out
	}
	s.waiters = append(s.waiters, done)
	s.durable = s.durable || durable
	s.stats.commits.Add(1)
	return nil
}

// applyOp encodes op into the pending batch and updates the index.
func (s *Store) applyOp(op *broker.StoreOp) error {
	switch op.Kind {
	case broker.OpPutSession:
		return s.set(sessionKey(s.key[:0], op.Session.ClientID), sessionValue(&s.enc, op.Session))
	case broker.OpDeleteSession:
		return s.deleteSession(op.ClientID)
	case broker.OpPutSub:
		return s.set(subKey(s.key[:0], op.ClientID, op.Sub.Filter), subValue(&s.enc, op.Sub))
	case broker.OpDeleteSub:
		return s.del(subKey(s.key[:0], op.ClientID, op.Filter))
	case broker.OpPutQueue:
		return s.putQueue(op.ClientID, op.Entry)
	case broker.OpDeleteQueue:
		return s.deleteQueue(op.ClientID, op.Seq)
	case broker.OpPutIncoming:
		return s.set(incomingKey(s.key[:0], op.ClientID, op.PacketID), markerValue(&s.enc))
	case broker.OpDeleteIncoming:
		return s.del(incomingKey(s.key[:0], op.ClientID, op.PacketID))
	case broker.OpPutRetained:
		return s.putRetained(op.Msg)
	default: // OpDeleteRetained; validate rejected unknown kinds
		return s.deleteRetained(op.Topic)
	}
}

func (s *Store) set(key, value []byte) error {
	s.key = key
	return s.pending.Set(key, value, nil)
}

func (s *Store) del(key []byte) error {
	s.key = key
	return s.pending.Delete(key, nil)
}

// deleteSession removes the client's whole key range and drops the
// references its queue entries held. Retained messages are not part of the
// session state and stay.
func (s *Store) deleteSession(clientID string) error {
	start := clientPrefix(s.key[:0], clientID)
	s.key = start
	if err := s.pending.DeleteRange(start, prefixEnd(start), nil); err != nil {
		return err
	}
	for _, id := range s.idx.deleteClient(clientID) {
		if err := s.unref(id); err != nil {
			return err
		}
	}
	return nil
}

// ref adds a reference to m, writing it with its first one.
func (s *Store) ref(m *broker.Message) error {
	if !s.idx.ref(m.ID) {
		return nil
	}
	return s.set(messageKey(s.key[:0], m.ID), messageValue(&s.enc, m))
}

// unref drops a reference to message id, deleting it with its last one.
func (s *Store) unref(id uint64) error {
	if !s.idx.unref(id) {
		return nil
	}
	return s.del(messageKey(s.key[:0], id))
}

func (s *Store) putQueue(clientID string, e *broker.QueueEntry) error {
	if err := s.ref(e.Msg); err != nil {
		return err
	}
	if old, had := s.idx.setQueue(clientID, e.Seq, e.Msg.ID); had {
		if err := s.unref(old); err != nil {
			return err
		}
	}
	return s.set(queueKey(s.key[:0], clientID, e.Seq), queueValue(&s.enc, e))
}

func (s *Store) deleteQueue(clientID string, seq uint64) error {
	if old, had := s.idx.deleteQueue(clientID, seq); had {
		if err := s.unref(old); err != nil {
			return err
		}
	}
	return s.del(queueKey(s.key[:0], clientID, seq))
}

// putRetained replaces the retained message of m.Topic [MQTT-3.3.1-5].
func (s *Store) putRetained(m *broker.Message) error {
	if err := s.ref(m); err != nil {
		return err
	}
	if old, had := s.idx.setRetained(m.Topic, m.ID); had {
		if err := s.unref(old); err != nil {
			return err
		}
	}
	return s.set(retainedKey(s.key[:0], m.Topic), idValue(&s.enc, m.ID))
}

func (s *Store) deleteRetained(topic string) error {
	if old, had := s.idx.deleteRetained(topic); had {
		if err := s.unref(old); err != nil {
			return err
		}
	}
	return s.del(retainedKey(s.key[:0], topic))
}

// group is the pending work the committer takes at once.
type group struct {
	batch   *pebbledb.Batch
	waiters []func(error)
	durable bool
	err     error // the store had failed: do not apply
}

// takeGroup takes everything pending. It returns nil when nothing is, with
// false once the store is closing.
func (s *Store) takeGroup() (*group, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.waiters) == 0 {
		return nil, !s.closing
	}
	g := &group{batch: s.pending, waiters: s.waiters, durable: s.durable, err: s.err}
	s.pending = s.db.NewBatch()
	s.waiters = make([]func(error), 0, cap(g.waiters))
	s.durable = false
	return g, true
}

// flush applies groups until nothing is pending; it reports whether the
// store is still open.
func (s *Store) flush() bool {
	for {
		g, open := s.takeGroup()
		if g == nil {
			return open
		}
		s.applyGroup(g)
	}
}

// applyGroup applies g as one batch and calls its done callbacks in order.
func (s *Store) applyGroup(g *group) {
	err := g.err
	if err == nil {
		err = s.applyBatch(g)
	}
	if cerr := g.batch.Close(); cerr != nil && err == nil {
		s.log.Warn("pebble store: closing batch", "err", cerr)
	}
	for _, done := range g.waiters {
		callDone(done, err)
	}
}

// applyBatch writes g's batch, with one fsync when a commit of g is durable
// and the store is in Sync mode. Pebble ignores an empty batch, Sync or not,
// so a durable group without ops (barriers) fsyncs the writes earlier groups
// applied without one.
func (s *Store) applyBatch(g *group) error {
	sync := g.durable && s.opts.Durability == Sync
	if g.batch.Empty() {
		if sync {
			return s.syncWAL()
		}
		return nil
	}
	wo := pebbledb.NoSync
	if sync {
		wo = pebbledb.Sync
	}
	if err := s.db.Apply(g.batch, wo); err != nil {
		err = fmt.Errorf("pebble store: apply: %w", err)
		s.fail(err)
		return err
	}
	s.stats.groups.Add(1)
	if sync {
		s.stats.syncs.Add(1)
	}
	s.dirty = !sync
	return nil
}
