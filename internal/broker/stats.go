package broker

import "sync/atomic"

// Gauge is a current value with its high-water mark, as EMQX's stats
// (connections.count / connections.max ...).
type Gauge struct {
	cur atomic.Int64
	max atomic.Int64
}

// Add moves the gauge by d and raises the mark.
func (g *Gauge) Add(d int64) {
	v := g.cur.Add(d)
	for {
		m := g.max.Load()
		if v <= m || g.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Value returns the current value.
func (g *Gauge) Value() int64 { return g.cur.Load() }

// Max returns the high-water mark.
func (g *Gauge) Max() int64 { return g.max.Load() }

// Stats are the node's gauges.
type Stats struct {
	Connections         Gauge // live MQTT connections
	Sessions            Gauge // sessions, connected or not
	PersistentSessions  Gauge // sessions that outlive their connection
	Subscriptions       Gauge // every subscription of every session
	SharedSubscriptions Gauge
	Topics              Gauge // distinct filters in the index
	Retained            Gauge
}

// Snapshot returns the gauges with EMQX 5 names.
func (s *Stats) Snapshot() map[string]int64 {
	out := make(map[string]int64, 20)
	put := func(name string, g *Gauge) {
		out[name+".count"] = g.Value()
		out[name+".max"] = g.Max()
	}
	put("connections", &s.Connections)
	put("live_connections", &s.Connections)
	put("channels", &s.Connections)
	put("sessions", &s.Sessions)
	put("cluster_sessions", &s.Sessions)
	put("subscriptions", &s.Subscriptions)
	put("suboptions", &s.Subscriptions)
	put("subscribers", &s.Subscriptions)
	put("subscriptions.shared", &s.SharedSubscriptions)
	put("topics", &s.Topics)
	put("retained", &s.Retained)
	return out
}
