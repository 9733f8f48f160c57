package service

import (
	"context"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/broker"
)

// fakeClock is a settable clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func testMonitor(t *testing.T, interval time.Duration) (*monitor, *broker.Broker, *fakeClock) {
	t.Helper()
	b, err := broker.New(broker.DefaultConfig(), broker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
	return newMonitor(&node{name: "n1", b: b}, interval, clk.now), b, clk
}

// TestMonitorDeltas: received/sent/dropped are the increase since the
// previous sample, time stamps are aligned to the interval.
func TestMonitorDeltas(t *testing.T) {
	m, b, clk := testMonitor(t, 10*time.Second)
	m.sample()
	b.Metrics().Add(broker.MMessagesReceived, 7)
	b.Metrics().Add(broker.MMessagesSent, 3)
	b.Metrics().Add(broker.MMessagesDropped, 1)
	clk.t = clk.t.Add(10 * time.Second)
	m.sample()
	b.Metrics().Add(broker.MMessagesReceived, 2)
	clk.t = clk.t.Add(10 * time.Second)
	m.sample()
	got := m.since(time.Time{})
	if len(got) != 3 {
		t.Fatalf("%d samples, want 3", len(got))
	}
	want := [][3]uint64{{0, 0, 0}, {7, 3, 1}, {2, 0, 0}}
	for i, s := range got {
		if d := [3]uint64{s.Received, s.Sent, s.Dropped}; d != want[i] {
			t.Errorf("sample %d deltas %v, want %v", i, d, want[i])
		}
		if s.TimeStamp%10_000 != 0 {
			t.Errorf("sample %d time stamp %d not aligned to 10 s", i, s.TimeStamp)
		}
	}
	if got := m.since(clk.t.Add(-10 * time.Second)); len(got) != 2 {
		t.Errorf("last 10 s: %d samples, want 2", len(got))
	}
}

// TestMonitorRetention: the ring keeps one hour of samples and drops the
// oldest.
func TestMonitorRetention(t *testing.T) {
	m, _, clk := testMonitor(t, 10*time.Second)
	first := clk.t.Truncate(10 * time.Second).UnixMilli()
	for range 400 {
		m.sample()
		clk.t = clk.t.Add(10 * time.Second)
	}
	got := m.since(time.Time{})
	if len(got) != 361 {
		t.Fatalf("%d samples kept, want 361 (one hour and the sample before it)", len(got))
	}
	if got[0].TimeStamp != first+39*10_000 {
		t.Errorf("oldest kept sample at %d, want %d", got[0].TimeStamp, first+39*10_000)
	}
}

// TestMonitorCurrentRate: rates are per second since the last sample.
func TestMonitorCurrentRate(t *testing.T) {
	m, b, clk := testMonitor(t, 10*time.Second)
	m.sample()
	clk.t = clk.t.Add(4 * time.Second)
	b.Metrics().Add(broker.MMessagesReceived, 10)
	b.Metrics().Add(broker.MMessagesSent, 6)
	c := m.current()
	if c.ReceivedMsgRate != 2.5 || c.SentMsgRate != 1.5 || c.DroppedMsgRate != 0 {
		t.Fatalf("rates %+v, want received 2.5 sent 1.5 dropped 0", c)
	}
}

// TestMonitorSampler: the background sampler of a started service fills
// the series at its interval.
func TestMonitorSampler(t *testing.T) {
	b, err := broker.New(broker.DefaultConfig(), broker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{opts: Options{MonitorInterval: 5 * time.Millisecond}, stop: make(chan struct{}), now: time.Now}
	s.local = &node{name: "n1", b: b}
	s.nodes = []*node{s.local}
	s.startMonitors()
	defer s.Close()
	deadline := time.Now().Add(30 * time.Second) // a failure bound
	for {
		got, err := s.Monitor(context.Background(), "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d samples after 30 s at a 5 ms interval", len(got))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := s.Monitor(context.Background(), "nope", 0); err == nil {
		t.Fatal("unknown node: no error")
	}
}
