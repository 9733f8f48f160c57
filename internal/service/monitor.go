package service

import (
	"context"
	"math"
	"sort"
	"sync"
	"time"
)

// Monitor defaults: EMQX's dashboard samples every 10 s; Herald keeps at
// least one hour of samples in memory.
const (
	DefaultMonitorInterval = 10 * time.Second
	MonitorRetention       = time.Hour
)

// MonitorSample is one point of the monitor's time series (EMQX's
// /monitor). Gauges are read at the sample time; Received, Sent and Dropped
// are the increases of messages.received, messages.sent and
// messages.dropped since the previous sample.
type MonitorSample struct {
	TimeStamp       int64 // epoch ms, a multiple of the interval
	Subscriptions   int64
	Topics          int64
	Connections     int64
	LiveConnections int64
	Received        uint64
	Sent            uint64
	Dropped         uint64
}

// MonitorCurrent is the current state of a node or the cluster (EMQX's
// /monitor_current): per-second message rates and gauges.
type MonitorCurrent struct {
	DroppedMsgRate      float64
	SentMsgRate         float64
	ReceivedMsgRate     float64
	Subscriptions       int64
	Topics              int64
	Connections         int64
	LiveConnections     int64
	RetainedMsgCount    int64
	SharedSubscriptions int64
	NodeUptime          time.Duration // the node's uptime; zero for the cluster
}

// monitor keeps one node's samples in a ring.
type monitor struct {
	n        *node
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	ring    []MonitorSample // oldest first, at most cap entries
	cap     int
	last    cumulative // counters at the last sample
	hasLast bool
}

// cumulative are the counters the monitor turns into deltas and rates.
type cumulative struct {
	at                      time.Time
	received, sent, dropped uint64
}

func newMonitor(n *node, interval time.Duration, now func() time.Time) *monitor {
	c := int(MonitorRetention/interval) + 1
	return &monitor{n: n, interval: interval, now: now, cap: max(c, 2)}
}

// read takes the counters now.
func (m *monitor) read() cumulative {
	mt := m.n.b.Metrics().Snapshot()
	return cumulative{at: m.now(), received: mt["messages.received"], sent: mt["messages.sent"], dropped: mt["messages.dropped"]}
}

// sample appends one point to the ring.
func (m *monitor) sample() {
	c := m.read()
	st := m.n.b.Stats()
	m.mu.Lock()
	defer m.mu.Unlock()
	s := MonitorSample{
		TimeStamp:       c.at.Truncate(m.interval).UnixMilli(),
		Subscriptions:   st.Subscriptions.Value(),
		Topics:          st.Topics.Value(),
		Connections:     st.Connections.Value(),
		LiveConnections: st.Connections.Value(),
	}
	if m.hasLast {
		s.Received, s.Sent, s.Dropped = c.received-m.last.received, c.sent-m.last.sent, c.dropped-m.last.dropped
	}
	m.last, m.hasLast = c, true
	if k := len(m.ring); k > 0 && m.ring[k-1].TimeStamp == s.TimeStamp {
		// A late tick in the same slot: fold it into that sample.
		s.Received += m.ring[k-1].Received
		s.Sent += m.ring[k-1].Sent
		s.Dropped += m.ring[k-1].Dropped
		m.ring[k-1] = s
		return
	}
	if len(m.ring) == m.cap {
		copy(m.ring, m.ring[1:])
		m.ring = m.ring[:m.cap-1]
	}
	m.ring = append(m.ring, s)
}

// since returns the samples at or after t (all of them for the zero time).
func (m *monitor) since(t time.Time) []MonitorSample {
	m.mu.Lock()
	defer m.mu.Unlock()
	from := t.UnixMilli()
	i := sort.Search(len(m.ring), func(i int) bool { return m.ring[i].TimeStamp >= from })
	if t.IsZero() {
		i = 0
	}
	return append([]MonitorSample(nil), m.ring[i:]...)
}

// current returns the node's rates (since the last sample, or the one
// before it when the last is under a second old) and gauges.
func (m *monitor) current() MonitorCurrent {
	c := m.read()
	m.mu.Lock()
	ref := m.last
	if m.hasLast && c.at.Sub(ref.at) < time.Second {
		ref = m.prevLocked(ref)
	}
	ok := m.hasLast
	m.mu.Unlock()
	st := m.n.b.Stats()
	out := MonitorCurrent{
		Subscriptions:       st.Subscriptions.Value(),
		Topics:              st.Topics.Value(),
		Connections:         st.Connections.Value(),
		LiveConnections:     st.Connections.Value(),
		RetainedMsgCount:    st.Retained.Value(),
		SharedSubscriptions: st.SharedSubscriptions.Value(),
		NodeUptime:          m.n.b.Uptime(),
	}
	if secs := c.at.Sub(ref.at).Seconds(); ok && secs > 0 {
		rate := func(now, then uint64) float64 { return math.Round(float64(now-then)/secs*100) / 100 }
		out.ReceivedMsgRate = rate(c.received, ref.received)
		out.SentMsgRate = rate(c.sent, ref.sent)
		out.DroppedMsgRate = rate(c.dropped, ref.dropped)
	}
	return out
}

// prevLocked rebuilds the counters at the sample before the last one from
// the last sample's deltas; ref itself when there is none.
func (m *monitor) prevLocked(ref cumulative) cumulative {
	k := len(m.ring)
	if k < 2 {
		return ref
	}
	last := m.ring[k-1]
	return cumulative{
		at:       ref.at.Add(-m.interval),
		received: ref.received - last.Received,
		sent:     ref.sent - last.Sent,
		dropped:  ref.dropped - last.Dropped,
	}
}

// startMonitors takes a first sample of every node at once (so the series
// is never empty) and then samples every interval in the background.
func (s *Service) startMonitors() {
	iv := s.opts.MonitorInterval
	if iv <= 0 {
		iv = DefaultMonitorInterval
	}
	s.monitors = make(map[string]*monitor, len(s.nodes))
	for _, n := range s.nodes {
		m := newMonitor(n, iv, s.now)
		m.sample()
		s.monitors[n.name] = m
		s.every(iv, m.sample)
	}
}

// Monitor returns the samples of the node in scope ("" = the cluster, each
// time slot summed over the nodes) taken in the last latest (0 = all).
func (s *Service) Monitor(ctx context.Context, nodeName string, latest time.Duration) ([]MonitorSample, error) {
	ns, err := s.nodesIn(nodeName)
	if err != nil {
		return nil, err
	}
	var from time.Time
	if latest > 0 {
		from = s.now().Add(-latest)
	}
	bySlot := map[int64]MonitorSample{}
	for _, n := range ns {
		for _, x := range s.monitors[n.name].since(from) {
			bySlot[x.TimeStamp] = addSamples(bySlot[x.TimeStamp], x)
		}
	}
	out := make([]MonitorSample, 0, len(bySlot))
	for _, x := range bySlot {
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TimeStamp < out[j].TimeStamp })
	return out, nil
}

func addSamples(a, b MonitorSample) MonitorSample {
	return MonitorSample{
		TimeStamp:       b.TimeStamp,
		Subscriptions:   a.Subscriptions + b.Subscriptions,
		Topics:          a.Topics + b.Topics,
		Connections:     a.Connections + b.Connections,
		LiveConnections: a.LiveConnections + b.LiveConnections,
		Received:        a.Received + b.Received,
		Sent:            a.Sent + b.Sent,
		Dropped:         a.Dropped + b.Dropped,
	}
}

// MonitorCurrent returns the current rates and gauges of the node in scope
// ("" = summed over the cluster, without NodeUptime).
func (s *Service) MonitorCurrent(ctx context.Context, nodeName string) (MonitorCurrent, error) {
	ns, err := s.nodesIn(nodeName)
	if err != nil {
		return MonitorCurrent{}, err
	}
	if nodeName != "" {
		return s.monitors[ns[0].name].current(), nil
	}
	var out MonitorCurrent
	for _, n := range ns {
		c := s.monitors[n.name].current()
		out.DroppedMsgRate += c.DroppedMsgRate
		out.SentMsgRate += c.SentMsgRate
		out.ReceivedMsgRate += c.ReceivedMsgRate
		out.Subscriptions += c.Subscriptions
		out.Topics += c.Topics
		out.Connections += c.Connections
		out.LiveConnections += c.LiveConnections
		out.RetainedMsgCount += c.RetainedMsgCount
		out.SharedSubscriptions += c.SharedSubscriptions
	}
	return out, nil
}
