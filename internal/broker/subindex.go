package broker

import (
	"hash/maphash"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/herald-mqtt/herald/internal/mqtt/topic"
)

// subOpts are the options of one subscription, packed for the match path.
type subOpts struct {
	qos     byte
	noLocal bool
	rap     bool // retain as published
	id      uint32
}

func optsOf(r *SubscriptionRecord) subOpts {
	return subOpts{qos: r.QoS, noLocal: r.NoLocal, rap: r.RetainAsPublished, id: r.ID}
}

type subscriber struct {
	s *session
	o subOpts
}

// filterSubs is the index value of one (real) topic filter: its plain
// subscribers and its shared groups. Writers hold mu (and the trie's writer
// lock); readers use the immutable snapshot, rebuilt lazily after a change.
type filterSubs struct {
	filter string
	mu     sync.Mutex
	subs   map[*session]subOpts
	groups map[string]*shareGroup
	snap   atomic.Pointer[filterSnap]
}

type filterSnap struct {
	subs   []subscriber
	groups []groupSnap
}

type groupSnap struct {
	g       *shareGroup
	members []subscriber
}

// shareGroup is one $share/<group>/<filter> group.
type shareGroup struct {
	name    string
	members map[*session]subOpts
	rr      atomic.Uint32
	sticky  atomic.Pointer[session]
}

func (fs *filterSubs) empty() bool { return len(fs.subs) == 0 && len(fs.groups) == 0 }

// add inserts or replaces s's subscription; it reports whether it is new.
func (fs *filterSubs) add(s *session, group string, o subOpts) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	defer fs.snap.Store(nil)
	if group == "" {
		if fs.subs == nil {
			fs.subs = make(map[*session]subOpts)
		}
		_, had := fs.subs[s]
		fs.subs[s] = o
		return !had
	}
	if fs.groups == nil {
		fs.groups = make(map[string]*shareGroup)
	}
	g := fs.groups[group]
	if g == nil {
		g = &shareGroup{name: group, members: make(map[*session]subOpts)}
		fs.groups[group] = g
	}
	_, had := g.members[s]
	g.members[s] = o
	return !had
}

// remove deletes s's subscription and reports whether it existed.
func (fs *filterSubs) remove(s *session, group string) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	defer fs.snap.Store(nil)
	if group == "" {
		_, had := fs.subs[s]
		delete(fs.subs, s)
		return had
	}
	g := fs.groups[group]
	if g == nil {
		return false
	}
	_, had := g.members[s]
	delete(g.members, s)
	if len(g.members) == 0 {
		delete(fs.groups, group)
	}
	return had
}

// snapshot returns the current immutable view.
func (fs *filterSubs) snapshot() *filterSnap {
	if sn := fs.snap.Load(); sn != nil {
		return sn
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if sn := fs.snap.Load(); sn != nil {
		return sn
	}
	sn := &filterSnap{subs: make([]subscriber, 0, len(fs.subs))}
	for s, o := range fs.subs {
		sn.subs = append(sn.subs, subscriber{s, o})
	}
	for _, g := range fs.groups {
		gs := groupSnap{g: g, members: make([]subscriber, 0, len(g.members))}
		for s, o := range g.members {
			gs.members = append(gs.members, subscriber{s, o})
		}
		sn.groups = append(sn.groups, gs)
	}
	fs.snap.Store(sn)
	return sn
}

// subIndex is the broker's subscription index over the topic trie.
type subIndex struct {
	trie *topic.Trie[*filterSubs]
	b    *Broker
}

func newSubIndex(b *Broker) *subIndex {
	return &subIndex{trie: topic.NewTrie[*filterSubs](), b: b}
}

// add subscribes s to filter (real filter, group "" for a plain subscription).
func (ix *subIndex) add(s *session, filter, group string, o subOpts) (isNew bool) {
	ix.trie.Update(filter, func(fs *filterSubs, ok bool) (*filterSubs, bool) {
		if !ok {
			fs = &filterSubs{filter: filter}
			ix.b.stats.Topics.Add(1)
		}
		isNew = fs.add(s, group, o)
		return fs, true
	})
	return isNew
}

// remove unsubscribes s from filter; it reports whether s was subscribed.
func (ix *subIndex) remove(s *session, filter, group string) (had bool) {
	ix.trie.Update(filter, func(fs *filterSubs, ok bool) (*filterSubs, bool) {
		if !ok {
			return fs, false
		}
		had = fs.remove(s, group)
		if fs.empty() {
			ix.b.stats.Topics.Add(-1)
			return fs, false
		}
		return fs, true
	})
	return had
}

// match is one delivery target found for a publish.
type match struct {
	s      *session
	o      subOpts
	shared bool
	ids    []uint32 // merged subscription ids when several subscriptions of s matched
}

// strategy is a shared subscription dispatch strategy.
type strategy uint8

const (
	stratRandom strategy = iota
	stratRoundRobin
	stratSticky
	stratHashClientID
	stratHashTopic
	stratLocal
)

func parseStrategy(s string) (strategy, bool) {
	switch s {
	case "random":
		return stratRandom, true
	case "round_robin", "":
		return stratRoundRobin, true
	case "sticky":
		return stratSticky, true
	case "hash_clientid":
		return stratHashClientID, true
	case "hash_topic":
		return stratHashTopic, true
	case "local":
		return stratLocal, true
	}
	return 0, false
}

var hashSeed = maphash.MakeSeed()

// pick selects one member of a shared group for a message on topic from
// publisher from, preferring a connected member.
func (b *Broker) pick(gs *groupSnap, tp []byte, from string) subscriber {
	n := len(gs.members)
	strat := b.cfg.Load().strat
	var i int
	switch strat {
	case stratRandom, stratLocal:
		i = rand.IntN(n)
	case stratRoundRobin:
		i = int(gs.g.rr.Add(1) % uint32(n))
	case stratSticky:
		if st := gs.g.sticky.Load(); st != nil {
			for _, m := range gs.members {
				if m.s == st && m.s.online() {
					return m
				}
			}
		}
		i = rand.IntN(n)
	case stratHashClientID:
		i = int(maphash.String(hashSeed, from) % uint64(n))
	case stratHashTopic:
		i = int(maphash.Bytes(hashSeed, tp) % uint64(n))
	}
	for k := 0; k < n; k++ {
		if m := gs.members[(i+k)%n]; m.s.online() {
			if strat == stratSticky {
				gs.g.sticky.Store(m.s)
			}
			return m
		}
	}
	return gs.members[i]
}

// online reports (without locking, racy by design) whether a client is attached.
func (s *session) online() bool { return s.attached.Load() }
