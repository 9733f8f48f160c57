package topic

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// set stores v for filter.
func set[T any](tr *Trie[T], filter string, v T) {
	tr.Update(filter, func(T, bool) (T, bool) { return v, true })
}

// del removes filter.
func del[T any](tr *Trie[T], filter string) {
	tr.Update(filter, func(old T, _ bool) (T, bool) { return old, false })
}

// matched returns the sorted values matching name, failing on duplicates.
func matched(t *testing.T, tr *Trie[string], name string) []string {
	t.Helper()
	var got []string
	tr.Match(name, func(v string) { got = append(got, v) })
	slices.Sort(got)
	if len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Fatalf("Match(%q) reported a filter twice: %q", name, got)
	}
	return got
}

// brute returns the sorted filters matching name by Match.
func brute(filters []string, name string) []string {
	var want []string
	for _, f := range filters {
		if Match(f, name) {
			want = append(want, f)
		}
	}
	slices.Sort(want)
	return want
}

// checkMatches compares Trie.Match and MatchBytes against brute force.
func checkMatches(t *testing.T, tr *Trie[string], filters []string, name string) {
	t.Helper()
	got, want := matched(t, tr, name), brute(filters, name)
	if !slices.Equal(got, want) {
		t.Fatalf("Match(%q) = %q, want %q", name, got, want)
	}
	var gotBytes []string
	tr.MatchBytes([]byte(name), func(v string) { gotBytes = append(gotBytes, v) })
	slices.Sort(gotBytes)
	if !slices.Equal(gotBytes, want) {
		t.Fatalf("MatchBytes(%q) = %q, want %q", name, gotBytes, want)
	}
}

// newTrieOf returns a trie whose values are the filters themselves.
func newTrieOf(filters ...string) *Trie[string] {
	tr := NewTrie[string]()
	for _, f := range filters {
		set(tr, f, f)
	}
	return tr
}

// isBare reports whether the trie has no nodes left below the root.
func isBare[T any](tr *Trie[T]) bool {
	return tr.root.empty()
}

func TestTopicTrieMatchRules(t *testing.T) {
	filters := []string{
		"a/b", "a/+", "a/#", "#", "+", "+/+", "/#", "+/#", "a/b/c", "a/+/c",
		"a//c", "$SYS/#", "$SYS/+", "+/monitor", "$SYS", "/", "a/b/#", "a/+/#",
	}
	tr := newTrieOf(filters...)
	names := []string{
		"a", "a/b", "a/b/c", "a//c", "/", "//", "", "a/", "b", "$SYS",
		"$SYS/monitor", "$SYS/a/b", "$", "$/x", "x/monitor", "a/b/c/d", "/a",
	}
	for _, name := range names {
		checkMatches(t, tr, filters, name)
	}
	// Spot checks of the rules themselves.
	if got := matched(t, tr, "$SYS/monitor"); !slices.Equal(got, []string{"$SYS/#", "$SYS/+"}) {
		t.Fatalf("$SYS/monitor matched %q: [MQTT-4.7.2-1] excludes filters starting with a wildcard", got)
	}
	if got := matched(t, tr, "a"); !slices.Contains(got, "a/#") {
		t.Fatalf("a matched %q, want a/# among them: '#' matches the parent level", got)
	}
}

func TestTopicTrieLoadUpdate(t *testing.T) {
	tr := NewTrie[int]()
	for i, f := range []string{"a", "a/b", "#", "a/#", "/#", "+", "+/+", "/", "a//"} {
		set(tr, f, i)
	}
	for i, f := range []string{"a", "a/b", "#", "a/#", "/#", "+", "+/+", "/", "a//"} {
		if v, ok := tr.Load(f); !ok || v != i {
			t.Fatalf("Load(%q) = %d, %v; want %d, true", f, v, ok, i)
		}
	}
	for _, f := range []string{"b", "a/+", "a/b/c", "//", "a/", "+/#"} {
		if _, ok := tr.Load(f); ok {
			t.Fatalf("Load(%q) found a value for a filter never stored", f)
		}
	}
	if tr.Len() != 9 {
		t.Fatalf("Len() = %d, want 9", tr.Len())
	}
	tr.Update("a/b", func(old int, exists bool) (int, bool) {
		if !exists || old != 1 {
			t.Fatalf("Update saw old=%d exists=%v, want 1, true", old, exists)
		}
		return 100, true
	})
	if v, _ := tr.Load("a/b"); v != 100 || tr.Len() != 9 {
		t.Fatalf("after replace: Load = %d, Len = %d; want 100, 9", v, tr.Len())
	}
	tr.Update("x/y", func(old int, exists bool) (int, bool) {
		if exists || old != 0 {
			t.Fatalf("Update of a new filter saw old=%d exists=%v", old, exists)
		}
		return 0, false
	})
	if _, ok := tr.Load("x/y"); ok || tr.Len() != 9 || tr.root.kids.Load().find(tr.seed, tr.tomb, "x") != nil {
		t.Fatal("Update with keep=false on a missing filter changed the trie")
	}
}

func TestTopicTrieRemovePrunes(t *testing.T) {
	filters := []string{"a/b/c/d", "a/b", "a/+/c", "a/#", "#", "+/+", "/#", "a//", "x"}
	tr := newTrieOf(filters...)
	del(tr, "a/b/c/d")
	if tr.child(tr.child(&tr.root, "a"), "b").kids.Load() != nil {
		t.Fatal("removing a/b/c/d left nodes below a/b")
	}
	checkMatches(t, tr, filters[1:], "a/b/c")
	for i, f := range filters[1:] {
		del(tr, f)
		if _, ok := tr.Load(f); ok {
			t.Fatalf("Load(%q) after removal found a value", f)
		}
		checkMatches(t, tr, filters[i+2:], "a/b/c")
		checkMatches(t, tr, filters[i+2:], "a/")
	}
	if tr.Len() != 0 || !isBare(tr) {
		t.Fatalf("after removing everything: Len = %d, bare = %v", tr.Len(), isBare(tr))
	}
	del(tr, "never/there") // a no-op, not a panic
}

func TestTopicTrieWideNode(t *testing.T) {
	tr := NewTrie[int]()
	const n = 5000
	for i := range n {
		set(tr, fmt.Sprintf("p/%d/+", i), i)
	}
	tb := tr.child(&tr.root, "p").kids.Load()
	if !tb.hashed() || tb.live != n || len(tb.slots) < 2*n {
		t.Fatalf("wide node: hashed=%v live=%d slots=%d", tb.hashed(), tb.live, len(tb.slots))
	}
	// Remove and re-add in waves, leaving tombstones to be reused and rebuilt.
	for round := range 3 {
		for i := round; i < n; i += 2 {
			del(tr, fmt.Sprintf("p/%d/+", i))
		}
		for i := round; i < n; i += 2 {
			set(tr, fmt.Sprintf("p/%d/+", i), i)
		}
	}
	for i := range n {
		if v, ok := tr.Load(fmt.Sprintf("p/%d/+", i)); !ok || v != i {
			t.Fatalf("Load(p/%d/+) = %d, %v", i, v, ok)
		}
	}
	for i := range n - 3 {
		del(tr, fmt.Sprintf("p/%d/+", i))
	}
	tb = tr.child(&tr.root, "p").kids.Load()
	if tb.hashed() || tb.live != 3 {
		t.Fatalf("after shrinking: hashed=%v live=%d slots=%d", tb.hashed(), tb.live, len(tb.slots))
	}
	var got []int
	tr.Match(fmt.Sprintf("p/%d/z", n-2), func(v int) { got = append(got, v) })
	if !slices.Equal(got, []int{n - 2}) || tr.Len() != 3 {
		t.Fatalf("after shrinking: Match = %v, Len = %d", got, tr.Len())
	}
}

func TestTopicTrieWalk(t *testing.T) {
	filters := []string{"a", "a/b", "#", "a/#", "/#", "+", "+/+/c", "/", "a//", "$SYS/#", "+/#"}
	tr := newTrieOf(filters...)
	var got []string
	tr.Walk(func(f, v string) bool {
		if f != v {
			t.Fatalf("Walk gave filter %q the value of %q", f, v)
		}
		got = append(got, f)
		return true
	})
	slices.Sort(got)
	want := slices.Sorted(slices.Values(filters))
	if !slices.Equal(got, want) {
		t.Fatalf("Walk = %q, want %q", got, want)
	}
	calls := 0
	tr.Walk(func(string, string) bool { calls++; return calls < 3 })
	if calls != 3 {
		t.Fatalf("Walk made %d calls after fn returned false at the 3rd", calls)
	}
}

// randomLevel returns a level from a small alphabet, so that random filters
// and names collide often.
func randomLevel(r *rand.Rand) string {
	levels := []string{"a", "b", "c", "", "$", "$x", "ab", "b c"}
	return levels[r.IntN(len(levels))]
}

// randomFilter returns a valid filter of 1..5 levels with wildcards.
func randomFilter(r *rand.Rand) string {
	n := 1 + r.IntN(5)
	parts := make([]string, n)
	for i := range parts {
		switch x := r.IntN(10); {
		case x < 2:
			parts[i] = "+"
		case x < 3 && i == n-1:
			parts[i] = "#"
		default:
			parts[i] = randomLevel(r)
		}
	}
	if f := strings.Join(parts, "/"); f != "" {
		return f
	}
	return "/"
}

// randomName returns a topic name of 1..6 levels.
func randomName(r *rand.Rand) string {
	parts := make([]string, 1+r.IntN(6))
	for i := range parts {
		parts[i] = randomLevel(r)
	}
	return strings.Join(parts, "/")
}

func TestTopicTrieRandomAgainstMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		seen := map[string]bool{}
		var filters []string
		tr := NewTrie[string]()
		for range 50 + round*40 {
			f := randomFilter(r)
			if ValidateFilter(f) != nil {
				t.Fatalf("generator made invalid filter %q", f)
			}
			if !seen[f] {
				seen[f] = true
				filters = append(filters, f)
				set(tr, f, f)
			}
		}
		for range 200 {
			checkMatches(t, tr, filters, randomName(r))
		}
		// Remove a random half and check again, then the rest.
		r.Shuffle(len(filters), func(i, j int) { filters[i], filters[j] = filters[j], filters[i] })
		for len(filters) > 0 {
			half := len(filters) / 2
			for _, f := range filters[half:] {
				del(tr, f)
			}
			filters = filters[:half]
			for range 50 {
				checkMatches(t, tr, filters, randomName(r))
			}
		}
		if tr.Len() != 0 || !isBare(tr) {
			t.Fatalf("round %d: trie not empty after removing all filters", round)
		}
	}
}

func TestTopicTrieMatchBytesNoAlloc(t *testing.T) {
	tr := NewTrie[*int]()
	for i := range 100 {
		v := i
		set(tr, fmt.Sprintf("device/%d/+/status", i), &v)
		set(tr, fmt.Sprintf("device/%d/#", i), &v)
	}
	set(tr, "+/+/+/status", new(int))
	set(tr, "#", new(int))
	name := []byte("device/42/sensor/status")
	count, sum := 0, 0
	allocs := testing.AllocsPerRun(200, func() {
		tr.MatchBytes(name, func(v *int) { count++; sum += *v }) // captures: must not escape
	})
	if allocs != 0 {
		t.Fatalf("MatchBytes allocates %v times per call", allocs)
	}
	if count != 4*201 {
		t.Fatalf("MatchBytes matched %d filters over 201 calls, want 4 each", count)
	}
}
