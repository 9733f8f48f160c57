package topic

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchFilters returns n distinct filters in a realistic mix: per-device
// status and catch-all subscriptions, per-site rooms, per-sensor readings,
// and a sprinkling of filters heavy in leading wildcards.
func benchFilters(n int) []string {
	out := make([]string, 0, n)
	for i := 0; len(out) < n; i++ {
		id := strconv.Itoa(i)
		switch i % 10 {
		case 0, 1, 2, 3:
			out = append(out, "device/"+id+"/+/status")
		case 4, 5:
			out = append(out, "device/"+id+"/#")
		case 6, 7:
			out = append(out, "site/"+id+"/+/temp")
		case 8:
			out = append(out, "device/"+id+"/sensor/"+strconv.Itoa(i%7))
		default:
			out = append(out, benchHeavy(i))
		}
	}
	return out
}

// benchHeavy returns a wildcard-heavy filter, rarer for the heaviest forms.
func benchHeavy(i int) string {
	switch {
	case i%10000 == 9:
		return "+/+/+/" + strconv.Itoa(i) // matched against every 4-level name's wildcards
	case i%1000 == 9:
		return "+/" + strconv.Itoa(i) + "/#"
	default:
		return "device/+/" + strconv.Itoa(i) + "/+"
	}
}

// benchNames returns n topic names: four in five are a random filter with
// its wildcards filled in, one in five matches nothing specific.
func benchNames(n int, filters []string) [][]byte {
	r := rand.New(rand.NewPCG(5, 6))
	out := make([][]byte, n)
	for i := range out {
		if i%5 == 4 {
			out[i] = fmt.Appendf(nil, "device/x%d/fw/update", r.IntN(len(filters)))
			continue
		}
		f := filters[r.IntN(len(filters))]
		f = strings.ReplaceAll(strings.ReplaceAll(f, "+", "kitchen"), "#", "fw/v2")
		out[i] = []byte(f)
	}
	return out
}

// loadTrie builds a trie holding filters, each mapped to a *int.
func loadTrie(filters []string) *Trie[*int] {
	tr := NewTrie[*int]()
	for i, f := range filters {
		v := i
		tr.Update(f, func(*int, bool) (*int, bool) { return &v, true })
	}
	return tr
}

// benchMatch measures MatchBytes over a trie of n filters.
func benchMatch(b *testing.B, n int) {
	filters := benchFilters(n)
	tr := loadTrie(filters)
	names := benchNames(4096, filters)
	matches := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		tr.MatchBytes(names[i&4095], func(*int) { matches++ })
	}
	b.ReportMetric(float64(matches)/float64(b.N), "matches/op")
}

func BenchmarkTopicMatch100k(b *testing.B) { benchMatch(b, 100_000) }

func BenchmarkTopicMatch1M(b *testing.B) { benchMatch(b, 1_000_000) }

// heapInUse returns the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func BenchmarkTopicInsert1M(b *testing.B) {
	const n = 1_000_000
	filters := benchFilters(n)
	b.ReportAllocs()
	b.ResetTimer()
	var tr *Trie[*int]
	var perFilter float64
	for b.Loop() {
		b.StopTimer()
		tr = nil
		before := heapInUse()
		b.StartTimer()
		tr = loadTrie(filters)
		b.StopTimer()
		perFilter = float64(heapInUse()-before) / n
		b.StartTimer()
	}
	if tr.Len() != n {
		b.Fatalf("Len() = %d, want %d", tr.Len(), n)
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/load")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/filter")
	b.ReportMetric(perFilter, "B/filter")
}

func BenchmarkTopicMatchParallel(b *testing.B) {
	filters := benchFilters(100_000)
	tr := loadTrie(filters)
	names := benchNames(4096, filters)
	var stop atomic.Bool
	var writes atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() { benchChurn(tr, &stop, &writes) })
	start := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := rand.IntN(4096)
		for pb.Next() {
			tr.MatchBytes(names[i&4095], func(*int) {})
			i++
		}
	})
	b.StopTimer()
	stop.Store(true)
	wg.Wait()
	b.ReportMetric(float64(writes.Load())/time.Since(start).Seconds(), "writes/s")
}

// benchChurn subscribes and unsubscribes filters among the matched ones
// until stopped.
func benchChurn(tr *Trie[*int], stop *atomic.Bool, writes *atomic.Int64) {
	v := 0
	for i := 0; !stop.Load(); i++ {
		f := "device/" + strconv.Itoa(i%100_000) + "/+/churn"
		tr.Update(f, func(*int, bool) (*int, bool) { return &v, true })
		tr.Update(f, func(*int, bool) (*int, bool) { return nil, false })
		writes.Add(2)
	}
}
