package topic

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// concurrentFixture is a trie holding a stable filter set, never modified
// during the test, and a volatile set that writers churn.
type concurrentFixture struct {
	tr       *Trie[string]
	stable   []string
	volatile []string
	names    []string
}

// wideLevel names one of many siblings, to make writers grow, tombstone and
// shrink the hashed tables that stable filters live in.
func wideLevel(r *rand.Rand) string {
	return fmt.Sprintf("w%d", r.IntN(300))
}

func newConcurrentFixture(r *rand.Rand) *concurrentFixture {
	fx := &concurrentFixture{tr: NewTrie[string]()}
	seen := map[string]bool{}
	for len(fx.stable) < 400 {
		f := randomFilter(r)
		if len(fx.stable)%2 == 0 { // stable filters among the churned siblings
			f = randomLevel(r) + "/" + wideLevel(r) + []string{"", "/#", "/+", "/a"}[r.IntN(4)]
		}
		if !seen[f] {
			seen[f] = true
			fx.stable = append(fx.stable, f)
			set(fx.tr, f, "S:"+f)
		}
	}
	for len(fx.volatile) < 1500 {
		f := randomFilter(r)
		if r.IntN(2) == 0 {
			f = randomLevel(r) + "/" + wideLevel(r) + "/" + randomFilter(r)
		}
		if !seen[f] {
			seen[f] = true
			fx.volatile = append(fx.volatile, f)
		}
	}
	for range 500 {
		n := randomName(r)
		if r.IntN(2) == 0 {
			n = randomLevel(r) + "/" + wideLevel(r) + "/" + n
		}
		fx.names = append(fx.names, n)
	}
	return fx
}

// write churns the volatile filters: add, replace, remove.
func (fx *concurrentFixture) write(r *rand.Rand, stop *atomic.Bool) {
	for i := 0; !stop.Load(); i++ {
		f := fx.volatile[r.IntN(len(fx.volatile))]
		if r.IntN(3) == 0 {
			del(fx.tr, f)
			continue
		}
		set(fx.tr, f, fmt.Sprintf("V%d:%s", i, f))
	}
}

// read checks that the stable filters always match, load and walk exactly
// as if the trie held nothing else.
func (fx *concurrentFixture) read(r *rand.Rand, stop *atomic.Bool) error {
	for i := 0; !stop.Load(); i++ {
		name := fx.names[r.IntN(len(fx.names))]
		var got []string
		fx.tr.Match(name, func(v string) {
			if f, ok := strings.CutPrefix(v, "S:"); ok {
				got = append(got, f)
			}
		})
		slices.Sort(got)
		if want := brute(fx.stable, name); !slices.Equal(got, want) {
			return fmt.Errorf("Match(%q) stable filters = %q, want %q", name, got, want)
		}
		f := fx.stable[r.IntN(len(fx.stable))]
		if v, ok := fx.tr.Load(f); !ok || v != "S:"+f {
			return fmt.Errorf("Load(%q) = %q, %v", f, v, ok)
		}
		if i%50 == 0 {
			if err := fx.walkStable(); err != nil {
				return err
			}
		}
	}
	return nil
}

// walkStable checks that Walk reports every stable filter exactly once.
func (fx *concurrentFixture) walkStable() error {
	var got []string
	fx.tr.Walk(func(f, v string) bool {
		if strings.HasPrefix(v, "S:") {
			got = append(got, f)
		}
		return true
	})
	slices.Sort(got)
	if want := slices.Sorted(slices.Values(fx.stable)); !slices.Equal(got, want) {
		return fmt.Errorf("Walk saw %d stable filters, want %d", len(got), len(want))
	}
	return nil
}

func TestTopicTrieConcurrentReadersWriters(t *testing.T) {
	fx := newConcurrentFixture(rand.New(rand.NewPCG(3, 4)))
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 2 {
		wg.Go(func() { fx.write(rand.New(rand.NewPCG(10, uint64(w))), &stop) })
	}
	for rd := range 3 {
		wg.Go(func() {
			if err := fx.read(rand.New(rand.NewPCG(20, uint64(rd))), &stop); err != nil {
				errs <- err
				stop.Store(true)
			}
		})
	}
	deadline := time.After(700 * time.Millisecond)
	select {
	case err := <-errs:
		stop.Store(true)
		wg.Wait()
		t.Fatal(err)
	case <-deadline:
		stop.Store(true)
		wg.Wait()
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	// Quiescent: the whole trie agrees with brute force over what it holds.
	var all []string
	fx.tr.Walk(func(f, _ string) bool { all = append(all, f); return true })
	if len(all) != fx.tr.Len() {
		t.Fatalf("Walk saw %d filters, Len() = %d", len(all), fx.tr.Len())
	}
	for _, name := range fx.names[:100] {
		checkMatchesValues(t, fx.tr, all, name)
	}
}

// checkMatchesValues is checkMatches for tries whose values are tagged
// filters ("S:f", "V7:f").
func checkMatchesValues(t *testing.T, tr *Trie[string], filters []string, name string) {
	t.Helper()
	var got []string
	tr.Match(name, func(v string) { got = append(got, v[strings.IndexByte(v, ':')+1:]) })
	slices.Sort(got)
	if want := brute(filters, name); !slices.Equal(got, want) {
		t.Fatalf("Match(%q) = %q, want %q", name, got, want)
	}
}
