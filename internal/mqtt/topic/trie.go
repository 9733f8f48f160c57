package topic

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Trie is the subscription index: one value of type T per distinct topic
// filter, matched against topic names. Readers (Load, Match, MatchBytes,
// Walk, Len) take no lock and never wait for writers; writers (Update) are
// serialised by a mutex. See the package documentation for the layout.
//
// Filters given to Update must be valid (ValidateFilter) real filters, that
// is without a $share/ or $queue/ prefix. The zero Trie is not usable; call
// NewTrie.
type Trie[T any] struct {
	mu   sync.Mutex // serialises writers
	root node[T]
	seed maphash.Seed
	tomb *node[T] // marks a removed child in a hashed table
	n    atomic.Int64
	path []*node[T] // writer scratch: the nodes along the filter being updated
}

// node is one filter level. level is immutable once the node is published.
type node[T any] struct {
	level string
	val   atomic.Pointer[T]        // value of the filter ending at this node
	hash  atomic.Pointer[T]        // value of the filter "<this node>/#"
	plus  atomic.Pointer[node[T]]  // the '+' child
	kids  atomic.Pointer[table[T]] // literal children; nil when there are none
}

// NewTrie returns an empty index.
func NewTrie[T any]() *Trie[T] {
	return &Trie[T]{seed: maphash.MakeSeed(), tomb: &node[T]{}}
}

// Len returns the number of filters in the index.
func (t *Trie[T]) Len() int {
	return int(t.n.Load())
}

// child returns n's literal child with the given level, or nil. Lock-free.
func (t *Trie[T]) child(n *node[T], level string) *node[T] {
	tb := n.kids.Load()
	if tb == nil {
		return nil
	}
	return tb.find(t.seed, t.tomb, level)
}

// step returns n's child for a filter level: the '+' child or a literal one.
func (t *Trie[T]) step(n *node[T], level string) *node[T] {
	if level == "+" {
		return n.plus.Load()
	}
	return t.child(n, level)
}

// target is where a filter's value lives: the node reached by prefix (the
// root when levels is false, i.e. for "#") and, when hash is true, its '#'
// slot. "a/b/#" is {"a/b", true, true}; "/#" is {"", true, true} (one empty
// level); "a" is {"a", false, true}.
type target struct {
	prefix string
	hash   bool
	levels bool
}

// targetOf splits off a trailing "#" level of filter.
func targetOf(filter string) target {
	if filter == "#" {
		return target{hash: true}
	}
	if p, ok := strings.CutSuffix(filter, "/#"); ok {
		return target{prefix: p, hash: true, levels: true}
	}
	return target{prefix: filter, levels: true}
}

// slot returns the value pointer of filter's last level at node n.
func slot[T any](n *node[T], hash bool) *atomic.Pointer[T] {
	if hash {
		return &n.hash
	}
	return &n.val
}

// Load returns the value stored for filter, if any. Lock-free.
func (t *Trie[T]) Load(filter string) (T, bool) {
	tg := targetOf(filter)
	n := &t.root
	for rest, more := tg.prefix, tg.levels; more && n != nil; {
		var level string
		level, rest, more = cut(rest)
		n = t.step(n, level)
	}
	if n != nil {
		if p := slot(n, tg.hash).Load(); p != nil {
			return *p, true
		}
	}
	var zero T
	return zero, false
}

// Update sets, replaces or removes the value of filter. fn receives the
// current value (exists=false and the zero T when there is none) and returns
// the new value and whether to keep the filter; keep=false removes it and
// prunes the nodes left empty. fn runs under the writer mutex: it must not
// call Update, but may call the lock-free readers. Readers observe the new
// value atomically: either the old one or the new one.
func (t *Trie[T]) Update(filter string, fn func(old T, exists bool) (v T, keep bool)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tg := targetOf(filter)
	t.path = append(t.path[:0], &t.root)
	found := t.descend(tg)
	var old T
	var p *T
	if found {
		p = slot(t.path[len(t.path)-1], tg.hash).Load()
	}
	if p != nil {
		old = *p
	}
	v, keep := fn(old, p != nil)
	switch {
	case keep:
		t.store(tg, found, v, p == nil)
	case p != nil:
		slot(t.path[len(t.path)-1], tg.hash).Store(nil)
		t.n.Add(-1)
		t.prune()
	}
}

// descend appends to t.path the existing nodes along tg.prefix and reports
// whether the node for the whole prefix exists. Writer only.
func (t *Trie[T]) descend(tg target) bool {
	n := &t.root
	for rest, more := tg.prefix, tg.levels; more; {
		var level string
		level, rest, more = cut(rest)
		if n = t.step(n, level); n == nil {
			return false
		}
		t.path = append(t.path, n)
	}
	return true
}

// store creates the missing nodes for tg (when !found) and publishes v.
func (t *Trie[T]) store(tg target, found bool, v T, added bool) {
	n := t.path[len(t.path)-1]
	if !found {
		n = t.create(tg)
	}
	slot(n, tg.hash).Store(&v)
	if added {
		t.n.Add(1)
	}
}

// create walks tg.prefix from the root, adding the nodes that do not exist
// yet, and returns the last one. Writer only.
func (t *Trie[T]) create(tg target) *node[T] {
	n := &t.root
	for rest, more := tg.prefix, tg.levels; more; {
		var level string
		level, rest, more = cut(rest)
		c := t.step(n, level)
		if c == nil {
			c = &node[T]{level: strings.Clone(level)}
			t.attach(n, c)
		}
		n = c
	}
	return n
}

// attach publishes the new child c under n. Writer only.
func (t *Trie[T]) attach(n, c *node[T]) {
	if c.level == "+" {
		n.plus.Store(c)
		return
	}
	tb := n.kids.Load()
	if tb != nil {
		if i := tb.freeSlot(t.seed, t.tomb, c.level); i >= 0 {
			tb.put(i, c, t.tomb)
			return
		}
	}
	t.grow(n, tb, c)
}

// grow replaces n's table tb (nil when n has no literal children) with a
// larger copy holding c too, and publishes it. Writer only.
func (t *Trie[T]) grow(n *node[T], tb *table[T], c *node[T]) {
	live := 0
	if tb != nil {
		live = tb.live
	}
	nt := tb.rebuild(t.seed, t.tomb, sizeFor(live+1))
	nt.put(nt.freeSlot(t.seed, t.tomb, c.level), c, t.tomb)
	n.kids.Store(nt) // publish the filled table
}

// empty reports whether n holds no value and no children. Writer only.
func (n *node[T]) empty() bool {
	return n.val.Load() == nil && n.hash.Load() == nil &&
		n.plus.Load() == nil && n.kids.Load() == nil
}

// prune detaches the empty nodes at the end of t.path, deepest first.
func (t *Trie[T]) prune() {
	for i := len(t.path) - 1; i > 0 && t.path[i].empty(); i-- {
		t.detach(t.path[i-1], t.path[i])
	}
	clear(t.path) // drop references to pruned nodes
}

// detach removes the child c from n. Writer only.
func (t *Trie[T]) detach(n, c *node[T]) {
	if n.plus.Load() == c {
		n.plus.Store(nil)
		return
	}
	tb := n.kids.Load()
	tb.remove(tb.index(t.seed, t.tomb, c.level), t.tomb)
	switch {
	case tb.live == 0:
		n.kids.Store(nil)
	case tb.shrinkable():
		n.kids.Store(tb.rebuild(t.seed, t.tomb, sizeFor(tb.live)))
	}
}

// Match calls fn with the value of every filter that matches the topic name,
// once per filter, in no particular order. A trailing '#' also matches the
// parent level ("a/#" matches "a"), and names beginning with '$' are not
// matched by filters whose first level is '+' or '#' [MQTT-4.7.2-1].
// Lock-free; fn runs on the caller's goroutine and may call Update.
func (t *Trie[T]) Match(name string, fn func(v T)) {
	t.visit(&t.root, name, len(name) == 0 || name[0] != '$', fn)
}

// MatchBytes is Match for a name still in a packet buffer. It does not
// allocate. b must not be modified during the call.
func (t *Trie[T]) MatchBytes(name []byte, fn func(v T)) {
	// The string aliases b only for the duration of the call: it is hashed
	// and compared, never retained.
	t.Match(unsafe.String(unsafe.SliceData(name), len(name)), fn)
}

// visit calls fn for the filters under n matching name, which has at least
// one level left to match. wild is false at the root of a '$' name.
func (t *Trie[T]) visit(n *node[T], name string, wild bool, fn func(v T)) {
	for {
		level, rest, more := cut(name)
		if wild {
			emit(&n.hash, fn) // '#' matches one or more remaining levels
			if p := n.plus.Load(); p != nil {
				t.visitNext(p, rest, more, fn)
			}
		}
		c := t.child(n, level)
		if c == nil {
			return
		}
		if !more {
			final(c, fn)
			return
		}
		n, name, wild = c, rest, true
	}
}

// visitNext continues matching at n after it consumed a level.
func (t *Trie[T]) visitNext(n *node[T], rest string, more bool, fn func(v T)) {
	if more {
		t.visit(n, rest, true, fn)
		return
	}
	final(n, fn)
}

// final emits the filters matched by n when the name has no levels left:
// n's own and "<n>/#", which matches its parent level.
func final[T any](n *node[T], fn func(v T)) {
	emit(&n.val, fn)
	emit(&n.hash, fn)
}

// emit calls fn with the published value, if any.
func emit[T any](p *atomic.Pointer[T], fn func(v T)) {
	if v := p.Load(); v != nil {
		fn(*v)
	}
}

// Walk calls fn for every filter and its value, in no particular order,
// until fn returns false. Lock-free: filters added or removed during the
// walk may or may not be seen; the others are seen exactly once.
func (t *Trie[T]) Walk(fn func(filter string, v T) bool) {
	buf := make([]byte, 0, 128)
	t.walk(&t.root, buf, true, fn)
}

// walk visits n, whose filter is prefix, and its subtree.
func (t *Trie[T]) walk(n *node[T], prefix []byte, root bool, fn func(string, T) bool) bool {
	if v := n.val.Load(); v != nil && !root && !fn(string(prefix), *v) {
		return false
	}
	if v := n.hash.Load(); v != nil && !fn(string(join(prefix, "#", root)), *v) {
		return false
	}
	if p := n.plus.Load(); p != nil && !t.walk(p, join(prefix, "+", root), false, fn) {
		return false
	}
	tb := n.kids.Load()
	if tb == nil {
		return true
	}
	for i := range tb.slots {
		c := tb.slots[i].Load()
		if c != nil && c != t.tomb && !t.walk(c, join(prefix, c.level, root), false, fn) {
			return false
		}
	}
	return true
}

// join appends a level to a filter prefix.
func join(prefix []byte, level string, root bool) []byte {
	if !root {
		prefix = append(prefix, '/')
	}
	return append(prefix, level...)
}
