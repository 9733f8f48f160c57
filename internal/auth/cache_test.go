package auth

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/mqtt/topic"
)

func TestAuthzCacheConsulted(t *testing.T) {
	a := newACL(t, PermDeny, allow(WhoAll, ActPublish, "t/#"))
	c := client("u", "c", "")
	if !a.Authorize(c, pub, "t/1", 1, false) {
		t.Fatalf("first call refused")
	}
	slot := a.cache.slot(c, pub, "t/1", 1, false)
	e := slot.Load()
	if e == nil || !e.is(a.Generation(), c, pub, "t/1", 1, false) || !e.allow {
		t.Fatalf("no cache entry after a miss: %+v", e)
	}
	forged := *e
	forged.allow = false
	slot.Store(&forged)
	if a.Authorize(c, pub, "t/1", 1, false) {
		t.Fatalf("second call did not answer from the cache")
	}
}

func TestAuthzCacheInvalidation(t *testing.T) {
	a := newACL(t, PermDeny, allow(WhoAll, ActPublish, "t/#"))
	c := client("u", "c", "")
	if g := a.Generation(); g != 1 {
		t.Fatalf("Generation after NewACL = %d, want 1", g)
	}
	check(t, a, []authzCase{{c, pub, "t/1", true}})
	if err := a.SetRules([]Rule{deny(WhoAll, ActPublish, "t/#")}); err != nil {
		t.Fatalf("SetRules: %v", err)
	}
	if g := a.Generation(); g != 2 {
		t.Fatalf("Generation after SetRules = %d, want 2", g)
	}
	check(t, a, []authzCase{{c, pub, "t/1", false}})
	if err := a.SetRules([]Rule{allow("bad", ActPublish, "t/#")}); err == nil {
		t.Fatalf("SetRules accepted a bad rule")
	}
	if g := a.Generation(); g != 2 {
		t.Fatalf("a failed SetRules changed the generation to %d", g)
	}
	check(t, a, []authzCase{{c, pub, "t/1", false}})
	if err := a.SetRules(nil); err != nil {
		t.Fatalf("SetRules(nil): %v", err)
	}
	check(t, a, []authzCase{{c, pub, "t/1", false}}) // no rules: NoMatch, deny
}

func TestAuthzCacheClientIdentity(t *testing.T) {
	// Two clients with one client ID (a takeover) but different usernames
	// share a slot; each must get its own answer.
	a := newACL(t, PermDeny, allow("username:alice", ActPublish, "t"))
	alice, mallory := client("alice", "same", ""), client("mallory", "same", "")
	for range 3 {
		check(t, a, []authzCase{{alice, pub, "t", true}, {mallory, pub, "t", false}})
	}
}

func TestAuthzCacheCopiesTopic(t *testing.T) {
	a := newACL(t, PermDeny, allow(WhoAll, ActPublish, "t/#"))
	c := client("u", "c", "")
	name := strings.Repeat("t/", 4) + "x"
	a.Authorize(c, pub, name, 0, false)
	e := a.cache.slot(c, pub, name, 0, false).Load()
	if e == nil || e.topic != name || unsafe.StringData(e.topic) == unsafe.StringData(name) {
		t.Fatalf("cache entry does not hold a private copy of the topic")
	}
}

func TestAuthzCacheDisabled(t *testing.T) {
	a, err := NewACL(ACLConfig{Rules: []Rule{allow(WhoAll, ActPublish, "t/#")}, NoMatch: PermDeny, CacheSize: -1})
	if err != nil {
		t.Fatalf("NewACL: %v", err)
	}
	if a.cache != nil {
		t.Fatalf("CacheSize -1 did not disable the cache")
	}
	c := client("u", "c", "")
	check(t, a, []authzCase{{c, pub, "t/1", true}, {c, pub, "u", false}})
}

func TestAuthzCacheSize(t *testing.T) {
	for _, tc := range []struct{ size, want int }{{0, DefaultACLCacheSize}, {1, 1}, {1000, 1024}, {1024, 1024}} {
		if got := len(newResultCache(tc.size).slots); got != tc.want {
			t.Errorf("newResultCache(%d) has %d slots, want %d", tc.size, got, tc.want)
		}
	}
}

func TestAuthzCacheCollisions(t *testing.T) {
	// A one-slot cache: every key collides, answers must stay right.
	a, err := NewACL(ACLConfig{Rules: []Rule{allow(WhoAll, ActPublish, "even/#")}, NoMatch: PermDeny, CacheSize: 1})
	if err != nil {
		t.Fatalf("NewACL: %v", err)
	}
	var cases []authzCase
	for i := range 20 {
		prefix := []string{"even", "odd"}[i%2]
		cases = append(cases, authzCase{client("u", fmt.Sprint("c", i%3), ""), pub, fmt.Sprint(prefix, "/", i), i%2 == 0})
	}
	check(t, a, cases)
}

func TestAuthzConcurrent(t *testing.T) {
	open := []Rule{allow(WhoAll, ActAll, "t/#"), allow(WhoAll, ActAll, "x/#")}
	shut := []Rule{deny(WhoAll, ActAll, "t/#"), allow(WhoAll, ActAll, "x/#")}
	a, err := NewACL(ACLConfig{Rules: open, NoMatch: PermDeny, CacheSize: 64})
	if err != nil {
		t.Fatalf("NewACL: %v", err)
	}
	clients := []*broker.ClientInfo{client("a", "1", ""), client("b", "2", ""), nil}
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for g := range 6 {
		wg.Go(func() {
			for i := range 2000 {
				c := clients[(g+i)%len(clients)]
				if !a.Authorize(c, pub, fmt.Sprint("x/", i%50), 0, false) {
					errs <- fmt.Sprint("x/ refused to ", c)
					return
				}
				a.Authorize(c, sub, fmt.Sprint("t/", i%50), 1, false) // either answer is right mid-flight
			}
		})
	}
	wg.Go(func() {
		for i := range 200 {
			_ = a.SetRules([][]Rule{open, shut}[i%2])
		}
		_ = a.SetRules(shut)
	})
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	for i := range 50 {
		for _, c := range clients {
			if a.Authorize(c, sub, fmt.Sprint("t/", i), 1, false) {
				t.Fatalf("t/%d allowed after the final SetRules(shut)", i)
			}
		}
	}
}

// randomTopic builds a topic of 1-4 levels from alphabet.
func randomTopic(r *rand.Rand, alphabet []string) string {
	levels := make([]string, 1+r.IntN(4))
	for i := range levels {
		levels[i] = alphabet[r.IntN(len(alphabet))]
	}
	return strings.Join(levels, "/")
}

// TestAuthzMatchAgreesWithTopicMatch: for publish, a compiled rule topic
// matches exactly the names topic.Match does (names without '$').
func TestAuthzMatchAgreesWithTopicMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	c := client("u", "c", "")
	for range 20000 {
		filter := randomTopic(r, []string{"a", "b", "", "+", "#"})
		name := randomTopic(r, []string{"a", "b", ""})
		if validFilter(filter) != nil {
			continue
		}
		assertAgrees(t, filter, name, c)
	}
}

func assertAgrees(t *testing.T, filter, name string, c *broker.ClientInfo) {
	t.Helper()
	rt, err := compileTopic(filter)
	if err != nil {
		t.Fatalf("compileTopic(%q): %v", filter, err)
	}
	for _, allowRule := range []bool{true, false} {
		if got, want := rt.match(name, c, allowRule), topic.Match(filter, name); got != want {
			t.Fatalf("rule %q vs name %q (allow=%v): %v, topic.Match says %v", filter, name, allowRule, got, want)
		}
	}
}

func FuzzAuthzTopicMatch(f *testing.F) {
	for _, s := range [][2]string{{"a/+/c", "a/b/c"}, {"a/#", "a"}, {"+", ""}, {"#", "x/y"}, {"a//+", "a//"}} {
		f.Add(s[0], s[1])
	}
	c := client("u", "c", "")
	f.Fuzz(func(t *testing.T, filter, name string) {
		if validFilter(filter) != nil || validFilter(name) != nil || strings.ContainsAny(name, "+#%$") ||
			strings.ContainsAny(filter, "%$") || strings.HasPrefix(filter, eqPrefix) {
			return
		}
		assertAgrees(t, filter, name, c)
	})
}
