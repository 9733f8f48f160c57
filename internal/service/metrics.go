package service

import (
	"context"
	"strings"
)

// NodeCounters is one node's counters with EMQX names ("messages.received").
type NodeCounters struct {
	Node     string
	Counters map[string]uint64
}

// NodeGauges is one node's gauges with EMQX names ("connections.count",
// "connections.max").
type NodeGauges struct {
	Node   string
	Gauges map[string]int64
}

// extraCounters are counters EMQX reports that Herald has no source for
// (the rule engine's); they read 0 so the key set is EMQX's.
var extraCounters = []string{"actions.failure", "actions.success", "rules.matched"}

// extraGauges likewise: Herald has no delayed publish.
var extraGauges = []string{"delayed"}

// counters is the node's counter snapshot with EMQX's full key set.
func (n *node) counters() map[string]uint64 {
	m := n.b.Metrics().Snapshot()
	for _, k := range extraCounters {
		m[k] = 0
	}
	// EMQX's API documents client.check_authz; its counter is
	// client.authorize. Report both.
	m["client.check_authz"] = m["client.authorize"]
	return m
}

// gauges is the node's gauge snapshot with EMQX's full key set.
func (n *node) gauges() map[string]int64 {
	m := n.b.Stats().Snapshot()
	for _, k := range extraGauges {
		m[k+".count"], m[k+".max"] = 0, 0
	}
	return m
}

// Metrics returns the counters of each node in scope ("" = every node).
func (s *Service) Metrics(ctx context.Context, nodeName string) ([]NodeCounters, error) {
	ns, err := s.nodesIn(nodeName)
	if err != nil {
		return nil, err
	}
	out := make([]NodeCounters, 0, len(ns))
	for _, n := range ns {
		out = append(out, NodeCounters{Node: n.name, Counters: n.counters()})
	}
	return out, nil
}

// AggregateMetrics returns the counters summed over the cluster.
func (s *Service) AggregateMetrics(ctx context.Context) (map[string]uint64, error) {
	per, err := s.Metrics(ctx, "")
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	for _, nc := range per {
		for k, v := range nc.Counters {
			out[k] += v
		}
	}
	return out, nil
}

// Stats returns the gauges of each node in scope ("" = every node).
func (s *Service) Stats(ctx context.Context, nodeName string) ([]NodeGauges, error) {
	ns, err := s.nodesIn(nodeName)
	if err != nil {
		return nil, err
	}
	out := make([]NodeGauges, 0, len(ns))
	for _, n := range ns {
		out = append(out, NodeGauges{Node: n.name, Gauges: n.gauges()})
	}
	return out, nil
}

// AggregateStats returns the gauges over the cluster: node-local counts are
// summed, high-water marks and the already cluster-wide cluster_sessions
// take the largest node's value.
func (s *Service) AggregateStats(ctx context.Context) (map[string]int64, error) {
	per, err := s.Stats(ctx, "")
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, ng := range per {
		for k, v := range ng.Gauges {
			if strings.HasSuffix(k, ".max") || strings.HasPrefix(k, "cluster_") {
				out[k] = max(out[k], v)
			} else {
				out[k] += v
			}
		}
	}
	return out, nil
}
