package pebble

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/broker"
)

// BenchmarkPebbleCommitSync measures durable commits (one PutQueue of a
// 64-byte message each) from 1, 8 and 64 concurrent committers, each waiting
// for its done before the next commit. fsyncs/commit shows how well group
// commit shares fsyncs.
func BenchmarkPebbleCommitSync(b *testing.B) {
	for _, n := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("committers=%d", n), func(b *testing.B) { benchCommit(b, Options{Durability: Sync}, n) })
	}
}

// BenchmarkPebbleCommitAsync is the same in Async mode: done once applied,
// fsync in the background.
func BenchmarkPebbleCommitAsync(b *testing.B) {
	for _, n := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("committers=%d", n), func(b *testing.B) { benchCommit(b, Options{Durability: Async}, n) })
	}
}

func benchCommit(b *testing.B, opts Options, committers int) {
	s, err := Open(b.TempDir(), opts)
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	defer func() { _ = s.Close() }()
	for g := range committers {
		sess := &broker.SessionRecord{ClientID: fmt.Sprint("bench-", g)}
		s.Commit([]broker.StoreOp{{Kind: broker.OpPutSession, Session: sess}}, false, nil)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	payload := make([]byte, 64)
	before := s.Stats()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for g := range committers {
		wg.Go(func() { benchCommitter(s, fmt.Sprint("bench-", g), payload, &next, int64(b.N)) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	after := s.Stats()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "commits/s")
	b.ReportMetric(float64(after.Syncs-before.Syncs)/float64(b.N), "fsyncs/commit")
	b.ReportMetric(float64(after.Groups-before.Groups)/float64(b.N), "groups/commit")
}

// benchCommitter commits until n commits have been taken by all committers.
func benchCommitter(s *Store, client string, payload []byte, next *atomic.Int64, n int64) {
	done := make(chan error, 1)
	cb := func(err error) { done <- err }
	for i := next.Add(1); i <= n; i = next.Add(1) {
		m := &broker.Message{ID: uint64(i), Topic: "bench/t", Payload: payload, QoS: 1}
		e := &broker.QueueEntry{Seq: uint64(i), Msg: m, QoS: 1}
		s.Commit([]broker.StoreOp{{Kind: broker.OpPutQueue, ClientID: client, Entry: e}}, true, cb)
		if err := <-done; err != nil {
			panic(err)
		}
	}
}
