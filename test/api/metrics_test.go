package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"

	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/herald-mqtt/herald/pkg/client"
)

const monNode = "herald@127.0.0.1"

// monTraffic connects two clients, subscribes one to t/# and publishes n
// QoS 1 messages from the other, waiting for each delivery.
func monTraffic(t *testing.T, s *testutil.Server, n int) {
	t.Helper()
	cs := nodesConnect(t, s, 2)
	cs[0].SubscribeOK(t, "t/#", 1)
	for i := range n {
		if rc := cs[1].PublishRC(t, "t/x", fmt.Sprint(i)); rc != 0 {
			t.Fatalf("publish: reason 0x%02x", rc)
		}
		cs[0].Expect(t, "t/x", fmt.Sprint(i))
	}
}

// TestMetricsAndStats: /metrics and /stats, per node and aggregated, see
// the clients and their messages.
func TestMetricsAndStats(t *testing.T) {
	s := testutil.RunServer(t)
	c := s.API(t)
	ctx := testutil.Ctx(t)
	monTraffic(t, s, 5)

	per, err := c.Metrics(ctx)
	if err != nil || len(per) != 1 || per[0]["node"] != monNode {
		t.Fatalf("metrics %v, %v", per, err)
	}
	if got := per[0]["messages.received"].(float64); got < 5 {
		t.Fatalf("messages.received = %v, want >= 5", got)
	}
	agg, err := c.AggregateMetrics(ctx)
	if err != nil || agg["messages.received"] < 5 || agg["messages.sent"] < 5 || agg["bytes.received"] == 0 {
		t.Fatalf("aggregated metrics %v, %v", agg, err)
	}
	if _, ok := agg["node"]; ok {
		t.Fatal("aggregated metrics carry node")
	}
	stats, err := c.Stats(ctx)
	if err != nil || len(stats) != 1 || stats[0]["node"] != monNode || stats[0]["connections.count"] != 2.0 {
		t.Fatalf("stats %v, %v", stats, err)
	}
	aggStats, err := c.AggregateStats(ctx)
	if err != nil || aggStats["connections.count"] != 2 || aggStats["subscriptions.count"] != 1 || aggStats["topics.count"] != 1 {
		t.Fatalf("aggregated stats %v, %v", aggStats, err)
	}
	for q, golden := range map[string]string{"/metrics": "metrics.json", "/metrics?aggregate=true": "metrics_aggregate.json",
		"/stats": "stats.json", "/stats?aggregate=true": "stats_aggregate.json"} {
		path, raw, _ := strings.Cut(q, "?")
		query, _ := url.ParseQuery(raw)
		resp, err := c.Do(ctx, http.MethodGet, path, query, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		testutil.GoldenShape(t, golden, resp.Body)
	}
	_, err = c.Do(ctx, http.MethodGet, "/metrics", url.Values{"aggregate": {"maybe"}}, nil, nil)
	monErrorShape(t, err, http.StatusBadRequest, "BAD_REQUEST", "metrics_bad_aggregate.json")
}

// TestMonitor: the monitor has a sample from the start, /monitor_current
// sees the clients and a non-zero receive rate after traffic.
func TestMonitor(t *testing.T) {
	s := testutil.RunServer(t)
	c := s.API(t)
	ctx := testutil.Ctx(t)
	monTraffic(t, s, 5)

	for _, get := range []func() ([]client.MonitorSample, error){
		func() ([]client.MonitorSample, error) { return c.Monitor(ctx, 0) },
		func() ([]client.MonitorSample, error) { return c.Monitor(ctx, 3600) },
		func() ([]client.MonitorSample, error) { return c.NodeMonitor(ctx, monNode, 0) },
	} {
		ss, err := get()
		if err != nil || len(ss) == 0 || ss[0].TimeStamp%10_000 != 0 {
			t.Fatalf("monitor %+v, %v", ss, err)
		}
	}
	cur, err := c.MonitorCurrent(ctx)
	if err != nil || cur.Connections != 2 || cur.LiveConnections != 2 || cur.Subscriptions != 1 || cur.ReceivedMsgRate <= 0 || cur.SentMsgRate <= 0 {
		t.Fatalf("monitor_current %+v, %v", cur, err)
	}
	nc, err := c.NodeMonitorCurrent(ctx, monNode)
	if err != nil || nc.Connections != 2 || nc.NodeUptime <= 0 {
		t.Fatalf("monitor_current of the node %+v, %v", nc, err)
	}
	for path, golden := range map[string]string{"/monitor": "monitor.json", "/monitor/nodes/" + monNode: "monitor_node.json",
		"/monitor_current": "monitor_current.json", "/monitor_current/nodes/" + monNode: "monitor_current_node.json"} {
		resp, err := c.Do(ctx, http.MethodGet, path, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		testutil.GoldenShape(t, golden, resp.Body)
	}
	_, err = c.Do(ctx, http.MethodGet, "/monitor", url.Values{"latest": {"0"}}, nil, nil)
	monErrorShape(t, err, http.StatusBadRequest, "BAD_REQUEST", "monitor_bad_latest.json")
}

// TestPrometheusStats: the scrape is valid text exposition format with
// EMQX's metric names, and JSON on request; no credentials by default.
func TestPrometheusStats(t *testing.T) {
	s := testutil.RunServer(t)
	ctx := testutil.Ctx(t)
	monTraffic(t, s, 5)
	c := client.New(s.APIURL()) // no credentials

	code, ct, body := monGet(t, s.APIURL()+"/api/v5/prometheus/stats", "")
	if code != http.StatusOK || !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("scrape: %d %s", code, ct)
	}
	fams, err := new(expfmt.TextParser).TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("not the text format: %v\n%s", err, body)
	}
	val := func(name string) float64 {
		f, ok := fams[name]
		if !ok || len(f.Metric) != 1 {
			t.Fatalf("no single %s in the scrape", name)
		}
		if m := f.Metric[0]; m.Counter != nil {
			return m.Counter.GetValue()
		} else {
			return m.Gauge.GetValue()
		}
	}
	if val("emqx_messages_received") < 5 || val("emqx_connections_count") != 2 || val("emqx_bytes_sent") == 0 ||
		val("emqx_cluster_nodes_running") != 1 {
		t.Fatalf("scrape values wrong:\n%s", body)
	}
	if fams["emqx_messages_received"].GetType().String() != "COUNTER" || fams["emqx_connections_count"].GetType().String() != "GAUGE" {
		t.Fatal("metric types wrong")
	}

	text, err := c.PrometheusStats(ctx, "all_nodes_unaggregated")
	if err != nil || !strings.Contains(text, `emqx_connections_count{node="herald@127.0.0.1"} 2`) {
		t.Fatalf("unaggregated: %v\n%s", err, text)
	}
	if _, err := new(expfmt.TextParser).TextToMetricFamilies(strings.NewReader(text)); err != nil {
		t.Fatalf("unaggregated is not the text format: %v", err)
	}
	js, err := c.PrometheusStatsJSON(ctx, "all_nodes_aggregated")
	if err != nil || js["emqx_connections_count"] != 2.0 {
		t.Fatalf("json: %v, %v", js, err)
	}
	_, _, body = monGet(t, s.APIURL()+"/api/v5/prometheus/stats", "application/json")
	testutil.GoldenShape(t, "prometheus_stats.json", body)
	_, err = c.PrometheusStats(ctx, "cluster")
	monErrorShape(t, err, http.StatusBadRequest, "BAD_REQUEST", "prometheus_bad_mode.json")

	for _, p := range []string{"/api/v5/prometheus/auth", "/api/v5/prometheus/data_integration"} {
		if code, _, _ := monGet(t, s.APIURL()+p, ""); code != http.StatusOK {
			t.Fatalf("GET %s: %d", p, code)
		}
	}
}

// TestPrometheusConfig: GET/PUT /prometheus; the push gateway is refused;
// enable_basic_auth makes the scrape need credentials.
func TestPrometheusConfig(t *testing.T) {
	s := testutil.RunServer(t)
	c := s.API(t)
	ctx := testutil.Ctx(t)
	cfg, err := c.PrometheusConfig(ctx)
	if err != nil || cfg.EnableBasicAuth || cfg.PushGateway.Enable || cfg.Collectors["vm_dist"] != "disabled" {
		t.Fatalf("config %+v, %v", cfg, err)
	}
	resp, err := c.Do(ctx, http.MethodGet, "/prometheus", nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	testutil.GoldenShape(t, "prometheus_config.json", resp.Body)

	_, err = c.UpdatePrometheusConfig(ctx, map[string]any{"enable_basic_auth": false, "push_gateway": map[string]any{"enable": true}})
	monErrorShape(t, err, http.StatusBadRequest, "BAD_REQUEST", "prometheus_config_push_gateway.json")
	_, err = c.UpdatePrometheusConfig(ctx, map[string]any{"collectors": map[string]any{"vm_dist": "enabled"}})
	monErrorShape(t, err, http.StatusBadRequest, "BAD_REQUEST", "prometheus_config_collector.json")

	// A round trip of what GET returned changes nothing.
	var asRead map[string]any
	if err := json.Unmarshal(resp.Body, &asRead); err != nil {
		t.Fatal(err)
	}
	asRead["enable_basic_auth"] = true
	cfg, err = c.UpdatePrometheusConfig(ctx, asRead)
	if err != nil || !cfg.EnableBasicAuth {
		t.Fatalf("enable basic auth: %+v, %v", cfg, err)
	}
	if code, _, _ := monGet(t, s.APIURL()+"/api/v5/prometheus/stats", ""); code != http.StatusUnauthorized {
		t.Fatalf("scrape without credentials under basic auth: %d, want 401", code)
	}
	if _, err := c.PrometheusStats(ctx, ""); err != nil {
		t.Fatalf("scrape with credentials: %v", err)
	}
	if cfg, err = c.UpdatePrometheusConfig(ctx, map[string]any{"enable_basic_auth": false}); err != nil || cfg.EnableBasicAuth {
		t.Fatalf("disable basic auth: %+v, %v", cfg, err)
	}
	if code, _, _ := monGet(t, s.APIURL()+"/api/v5/prometheus/stats", ""); code != http.StatusOK {
		t.Fatalf("scrape without credentials: %d", code)
	}
}

// TestPrometheusBasicAuth: with prometheus.enable_basic_auth in the
// configuration, a scrape needs credentials.
func TestPrometheusBasicAuth(t *testing.T) {
	s := testutil.RunServer(t, func(c *config.Config) { c.Prometheus.EnableBasicAuth = true })
	ctx := testutil.Ctx(t)
	_, err := client.New(s.APIURL()).PrometheusStats(ctx, "")
	monErrorShape(t, err, http.StatusUnauthorized, "AUTHORIZATION_HEADER_ERROR", "prometheus_unauthorized.json")
	text, err := s.API(t).PrometheusStats(ctx, "")
	if err != nil || !strings.Contains(text, "# TYPE emqx_connections_count gauge\n") {
		t.Fatalf("authenticated scrape: %v\n%s", err, text)
	}
	cfg, err := s.API(t).PrometheusConfig(ctx)
	if err != nil || !cfg.EnableBasicAuth {
		t.Fatalf("config %+v, %v", cfg, err)
	}
}
