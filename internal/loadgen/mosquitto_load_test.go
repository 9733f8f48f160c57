//go:build loadtest

package loadgen

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// The tests of this file check figures that depend on the machine being
// quiet (rates, latencies, QoS 0 deliveries, runs that overlap in time).
// They are not part of `go test ./...`; `make bench` runs them:
//
//	go test -tags loadtest -run Quiet ./internal/loadgen/

// fullSpeed are the flows with publishers writing as fast as they can.
var fullSpeed = []flowCase{
	{"pairs qos0 full speed", []string{"pairs", "-c", "4"}},
	{"fanin qos1 full speed v5", []string{"fanin", "-c", "2", "-q", "1", "-V", "5"}},
}

// TestLoadgenQuietFlows runs every flow and checks that the window measured
// something: messages sent and delivered at a non-zero rate, latencies
// recorded.
func TestLoadgenQuietFlows(t *testing.T) {
	port := startMosquitto(t)
	for _, c := range append(slices.Clone(paced), fullSpeed...) {
		t.Run(c.name, func(t *testing.T) {
			r := mustBenchFlow(t, port, c.args)
			checkFlow(t, r)
			checkRates(t, r)
		})
	}
}

// checkRates asserts that a run on a quiet machine measured its window.
func checkRates(t *testing.T, r *Result) {
	t.Helper()
	f := r.FlowResult
	if f.SentPerS <= 0 {
		t.Fatalf("no send rate: %+v", f)
	}
	if f.Subscribers == 0 {
		return
	}
	if f.Delivered == 0 || f.DeliveredPerS <= 0 || f.LatUS.N == 0 || f.LatUS.P50 == 0 {
		t.Fatalf("nothing delivered or no latency: %+v", f)
	}
}

// TestLoadgenQuietPubSub runs a sub and a pub scenario side by side: the
// sub run measures the latency of the pub run's stamped messages. Their
// windows must overlap, which a busy machine may prevent.
func TestLoadgenQuietPubSub(t *testing.T) {
	port := startMosquitto(t)
	var wg sync.WaitGroup
	var sub *Result
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Receives the stamped messages of the pub run below; pub starts
		// later than sub by its own setup, and keeps publishing past sub's
		// subscription for its whole 1.5 s.
		r, code := benchQuiet(port, "sub", "-c", "2", "-t", "loadgen-ps/#", "-q", "1", "-duration", "2s", "-warmup", "0s")
		if code == ExitOK {
			sub = r
		}
	}()
	pub := mustBench(t, port, "pub", "-c", "2", "-t", "loadgen-ps/%i", "-q", "1", "-rate", "500",
		"-duration", "1500ms", "-warmup", "200ms", "-drain", "1s")
	wg.Wait()
	if sub == nil || sub.Delivered == 0 || sub.LatUS.N == 0 || sub.Subscribers != 2 {
		t.Fatalf("sub run received nothing: %+v", sub)
	}
	if sub.Delivered > 2*pub.Sent {
		t.Fatalf("sub delivered %d > 2 x pub sent %d", sub.Delivered, pub.Sent)
	}
}

// benchQuiet is bench for goroutines that must not call t.Fatal.
func benchQuiet(port int, args ...string) (*Result, int) {
	var out, errb bytes.Buffer
	code := Main(append(args, "-p", strconv.Itoa(port)), &out, &errb)
	var r Result
	if json.Unmarshal(out.Bytes(), &r) != nil {
		return nil, ExitFailed
	}
	return &r, code
}
