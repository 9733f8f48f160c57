package broker

import (
	"strings"
	"sync"
	"time"
)

// retainIndex holds retained messages in a tree of topic levels so a
// subscription's filter finds its retained messages without a full scan.
type retainIndex struct {
	mu    sync.RWMutex
	root  rnode
	count int
}

type rnode struct {
	children map[string]*rnode
	msg      *Message
}

// get returns the retained message of topic, or nil.
func (r *retainIndex) get(tp string) *Message {
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := &r.root
	for _, l := range strings.Split(tp, "/") {
		if n = n.children[l]; n == nil {
			return nil
		}
	}
	return n.msg
}

// set stores m as the retained message of its topic; it reports whether a
// message was replaced.
func (r *retainIndex) set(m *Message) (replaced bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := &r.root
	for _, l := range strings.Split(m.Topic, "/") {
		c := n.children[l]
		if c == nil {
			if n.children == nil {
				n.children = make(map[string]*rnode)
			}
			c = &rnode{}
			n.children[l] = c
		}
		n = c
	}
	replaced = n.msg != nil
	if !replaced {
		r.count++
	}
	n.msg = m
	return replaced
}

// delete removes the retained message of topic and reports whether one existed.
func (r *retainIndex) delete(tp string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.deleteLocked(&r.root, strings.Split(tp, "/"))
}

func (r *retainIndex) deleteLocked(n *rnode, levels []string) bool {
	if len(levels) == 0 {
		if n.msg == nil {
			return false
		}
		n.msg = nil
		r.count--
		return true
	}
	c := n.children[levels[0]]
	if c == nil || !r.deleteLocked(c, levels[1:]) {
		return false
	}
	if c.msg == nil && len(c.children) == 0 {
		delete(n.children, levels[0])
	}
	return true
}

// len returns the number of retained messages.
func (r *retainIndex) len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.count
}

// match calls fn for every retained message whose topic matches filter.
// Topics starting with '$' are not matched by a leading wildcard [MQTT-4.7.2-1].
func (r *retainIndex) match(filter string, fn func(*Message)) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	matchRetained(&r.root, strings.Split(filter, "/"), true, fn)
}

func matchRetained(n *rnode, levels []string, top bool, fn func(*Message)) {
	if len(levels) == 0 {
		if n.msg != nil {
			fn(n.msg)
		}
		return
	}
	switch l := levels[0]; l {
	case "#":
		if n.msg != nil && !top {
			fn(n.msg) // "a/#" matches "a" [MQTT-4.7.1-2]
		}
		walkRetained(n, top, fn)
	case "+":
		for name, c := range n.children {
			if top && strings.HasPrefix(name, "$") {
				continue
			}
			matchRetained(c, levels[1:], false, fn)
		}
	default:
		if c := n.children[l]; c != nil {
			matchRetained(c, levels[1:], false, fn)
		}
	}
}

// walkRetained calls fn for every message below n.
func walkRetained(n *rnode, top bool, fn func(*Message)) {
	for name, c := range n.children {
		if top && strings.HasPrefix(name, "$") {
			continue
		}
		if c.msg != nil {
			fn(c.msg)
		}
		walkRetained(c, false, fn)
	}
}

// Retained returns the retained message of topic, or nil.
func (b *Broker) Retained(tp string) *Message { return b.retained.get(tp) }

// EachRetained calls fn for every retained message matching filter ("#" for
// all, including $-topics when includeSys is set).
func (b *Broker) EachRetained(filter string, fn func(*Message)) {
	b.retained.match(filter, fn)
}

// DeleteRetained removes the retained message of topic.
func (b *Broker) DeleteRetained(tp string) bool {
	if !b.retained.delete(tp) {
		return false
	}
	b.stats.Retained.Add(-1)
	b.commitSync([]StoreOp{{Kind: OpDeleteRetained, Topic: tp}})
	return true
}

// retainPublish stores, replaces or deletes the retained message of a
// published message [MQTT-3.3.1-5, 3.3.1-6, 3.3.1-7].
func (b *Broker) retainPublish(w *work, in *inbound) {
	if !b.conf().RetainerEnabled {
		return
	}
	tp := string(in.tmpl.Topic)
	if len(in.tmpl.Payload) == 0 {
		if b.retained.delete(tp) {
			b.stats.Retained.Add(-1)
			b.persist(w, StoreOp{Kind: OpDeleteRetained, Topic: tp})
		}
		return
	}
	if b.conf().RetainerMaxPayload > 0 && len(in.tmpl.Payload) > b.conf().RetainerMaxPayload {
		b.log.Debug("retained message too large; not retained", "topic", tp, "size", len(in.tmpl.Payload))
		return
	}
	m := in.message()
	if m.Expiry == 0 && b.conf().RetainerExpiry > 0 {
		cp := *m
		cp.Expiry = m.Created + int64(b.conf().RetainerExpiry)
		m = &cp
	}
	if b.conf().RetainerMaxCount > 0 && b.retained.len() >= b.conf().RetainerMaxCount && b.retained.get(tp) == nil {
		b.log.Debug("retainer full; not retained", "topic", tp)
		return
	}
	if !b.retained.set(m) {
		b.stats.Retained.Add(1)
	}
	w.tally.inc(MMessagesRetained)
	b.persist(w, StoreOp{Kind: OpPutRetained, Msg: m})
}

// persist commits an op whose durability gates w's acknowledgements.
func (b *Broker) persist(w *work, op StoreOp) {
	if b.store == nil {
		return
	}
	b.store.Commit([]StoreOp{op}, false, nil)
	w.barrier = true
}

// commitSync commits ops and waits until they are durable.
func (b *Broker) commitSync(ops []StoreOp) error {
	if b.store == nil {
		return nil
	}
	done := make(chan error, 1)
	b.store.Commit(ops, true, func(err error) { done <- err })
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		return ErrStoreTimeout
	}
}

// sendRetained delivers the retained messages matching a new subscription
// (RETAIN set [MQTT-3.3.1-8]). Lock not held.
func (s *session) sendRetained(w *work, filter string, o subOpts) {
	now := time.Now().UnixNano()
	var list []*Message
	s.b.retained.match(filter, func(m *Message) {
		if !m.Expired(now) {
			list = append(list, m)
		}
	})
	var in inbound
	for _, m := range list {
		in.fromMessage(s.b, m)
		in.retain = true
		mt := match{s: s, o: o}
		mt.o.rap = true // retained messages keep RETAIN=1
		s.deliver(w, &in, &mt)
	}
}
