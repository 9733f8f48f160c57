package service

import (
	"context"
	"fmt"

	"github.com/herald-mqtt/herald/internal/config"
)

// PrometheusConfig is EMQX's prometheus config as GET /prometheus shows it.
// Herald has no push gateway client and no Erlang VM collectors: the push
// gateway always reads disabled (with EMQX's defaults for its other
// fields) and every collector "disabled". Only EnableBasicAuth is stored
// (the configuration key prometheus.enable_basic_auth).
type PrometheusConfig struct {
	EnableBasicAuth bool
	PushGateway     PushGateway
	Collectors      map[string]string // collector -> "enabled" | "disabled"
}

// PushGateway is prometheus.push_gateway.
type PushGateway struct {
	Enable   bool
	URL      string
	Interval string // HOCON duration ("15s")
	Headers  map[string]string
	JobName  string
}

// PrometheusCollectors are EMQX's collector switches.
var PrometheusCollectors = []string{"mnesia", "vm_dist", "vm_memory", "vm_msacc", "vm_statistics", "vm_system_info"}

// PrometheusConfig returns the prometheus configuration.
func (s *Service) PrometheusConfig(ctx context.Context) PrometheusConfig {
	return prometheusConfig(s.opts.Controller.Config())
}

func prometheusConfig(cfg config.Config) PrometheusConfig {
	cs := make(map[string]string, len(PrometheusCollectors))
	for _, c := range PrometheusCollectors {
		cs[c] = "disabled"
	}
	return PrometheusConfig{
		EnableBasicAuth: cfg.Prometheus.EnableBasicAuth,
		PushGateway: PushGateway{URL: "http://127.0.0.1:9091", Interval: "15s", Headers: map[string]string{},
			JobName: "${name}/instance/${name}~${host}"},
		Collectors: cs,
	}
}

// PrometheusUpdate is a change of the prometheus configuration: nil fields
// are left as they are.
type PrometheusUpdate struct {
	EnableBasicAuth   *bool
	PushGatewayEnable *bool
	Collectors        map[string]string
}

// UpdatePrometheusConfig changes prometheus.enable_basic_auth through the
// controller (applied at once and persisted). Enabling the push gateway or a
// collector is ErrBadRequest: Herald has neither.
func (s *Service) UpdatePrometheusConfig(ctx context.Context, u PrometheusUpdate) (PrometheusConfig, error) {
	if u.PushGatewayEnable != nil && *u.PushGatewayEnable {
		return PrometheusConfig{}, Errorf(ErrBadRequest, "BAD_REQUEST", "push_gateway is not supported by Herald: scrape /api/v5/prometheus/stats instead")
	}
	for name, v := range u.Collectors {
		if v != "disabled" {
			return PrometheusConfig{}, Errorf(ErrBadRequest, "BAD_REQUEST", "collector %s: Herald has no Erlang VM collectors, only \"disabled\" is accepted", name)
		}
	}
	if u.EnableBasicAuth == nil {
		return s.PrometheusConfig(ctx), nil
	}
	cfg, err := s.opts.Controller.UpdateConfig(ctx, func(c *config.Config) error {
		c.Prometheus.EnableBasicAuth = *u.EnableBasicAuth
		return nil
	})
	if err != nil {
		return PrometheusConfig{}, fmt.Errorf("update prometheus config: %w", err)
	}
	return prometheusConfig(cfg), nil
}

// PrometheusAuthRequired reports whether the Prometheus endpoints need
// credentials (prometheus.enable_basic_auth).
func (s *Service) PrometheusAuthRequired() bool {
	return s.opts.Controller.Config().Prometheus.EnableBasicAuth
}

// Prometheus scrape modes (EMQX's mode parameter).
const (
	PromModeNode         = "node"
	PromModeAggregated   = "all_nodes_aggregated"
	PromModeUnaggregated = "all_nodes_unaggregated"
)

// PromSet is the data of one scrape for one node, or for the cluster when
// Node is "" (all_nodes_aggregated): the counters and gauges with EMQX
// names, and the cluster's running and stopped node counts.
type PromSet struct {
	Node     string
	Counters map[string]uint64
	Gauges   map[string]int64
}

// PrometheusStats returns the data of a scrape: this node's (mode node),
// the cluster's summed (all_nodes_aggregated) or each node's
// (all_nodes_unaggregated). An unknown mode is ErrBadRequest.
func (s *Service) PrometheusStats(ctx context.Context, mode string) ([]PromSet, error) {
	switch mode {
	case "", PromModeNode:
		return []PromSet{s.promSet(s.local)}, nil
	case PromModeUnaggregated:
		out := make([]PromSet, 0, len(s.nodes))
		for _, n := range s.nodes {
			out = append(out, s.promSet(n))
		}
		return out, nil
	case PromModeAggregated:
		mt, err := s.AggregateMetrics(ctx)
		if err != nil {
			return nil, err
		}
		st, err := s.AggregateStats(ctx)
		if err != nil {
			return nil, err
		}
		s.addClusterGauges(st)
		return []PromSet{{Counters: mt, Gauges: st}}, nil
	}
	return nil, Errorf(ErrBadRequest, "BAD_REQUEST", "mode: %q is not one of node, all_nodes_aggregated, all_nodes_unaggregated", mode)
}

func (s *Service) promSet(n *node) PromSet {
	st := n.gauges()
	s.addClusterGauges(st)
	return PromSet{Node: n.name, Counters: n.counters(), Gauges: st}
}

// addClusterGauges adds EMQX's cluster.nodes_running / nodes_stopped.
func (s *Service) addClusterGauges(m map[string]int64) {
	m["cluster.nodes_running"] = int64(len(s.nodes))
	m["cluster.nodes_stopped"] = 0
}
