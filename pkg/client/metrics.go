package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// Metrics returns each node's counters: "node" plus the EMQX counter names
// (GET /metrics). Values are float64 (JSON numbers).
func (c *Client) Metrics(ctx context.Context) ([]map[string]any, error) {
	var out []map[string]any
	_, err := c.Do(ctx, http.MethodGet, "/metrics", nil, nil, &out)
	return out, err
}

// AggregateMetrics returns the counters summed over the cluster
// (GET /metrics?aggregate=true).
func (c *Client) AggregateMetrics(ctx context.Context) (map[string]uint64, error) {
	var out map[string]uint64
	_, err := c.Do(ctx, http.MethodGet, "/metrics", url.Values{"aggregate": {"true"}}, nil, &out)
	return out, err
}

// Stats returns each node's gauges: "node" plus "connections.count", ...
// (GET /stats).
func (c *Client) Stats(ctx context.Context) ([]map[string]any, error) {
	var out []map[string]any
	_, err := c.Do(ctx, http.MethodGet, "/stats", nil, nil, &out)
	return out, err
}

// AggregateStats returns the gauges over the cluster
// (GET /stats?aggregate=true).
func (c *Client) AggregateStats(ctx context.Context) (map[string]int64, error) {
	var out map[string]int64
	_, err := c.Do(ctx, http.MethodGet, "/stats", url.Values{"aggregate": {"true"}}, nil, &out)
	return out, err
}

// MonitorSample is one point of the monitor's time series: gauges at
// TimeStamp (epoch ms) and the messages received, sent and dropped during
// the sampling interval.
type MonitorSample struct {
	TimeStamp       int64  `json:"time_stamp"`
	Subscriptions   int64  `json:"subscriptions"`
	Topics          int64  `json:"topics"`
	Connections     int64  `json:"connections"`
	LiveConnections int64  `json:"live_connections"`
	Received        uint64 `json:"received"`
	Sent            uint64 `json:"sent"`
	Dropped         uint64 `json:"dropped"`
}

// Monitor returns the cluster's samples of the last latest seconds (0 =
// all) (GET /monitor).
func (c *Client) Monitor(ctx context.Context, latest int) ([]MonitorSample, error) {
	return c.monitor(ctx, "/monitor", latest)
}

// NodeMonitor returns one node's samples (GET /monitor/nodes/{node}).
func (c *Client) NodeMonitor(ctx context.Context, node string, latest int) ([]MonitorSample, error) {
	return c.monitor(ctx, "/monitor/nodes/"+escape(node), latest)
}

func (c *Client) monitor(ctx context.Context, path string, latest int) ([]MonitorSample, error) {
	var q url.Values
	if latest > 0 {
		q = url.Values{"latest": {strconv.Itoa(latest)}}
	}
	var out []MonitorSample
	_, err := c.Do(ctx, http.MethodGet, path, q, nil, &out)
	return out, err
}

// MonitorCurrent is the current rates (per second) and gauges.
type MonitorCurrent struct {
	DroppedMsgRate      float64 `json:"dropped_msg_rate"`
	SentMsgRate         float64 `json:"sent_msg_rate"`
	ReceivedMsgRate     float64 `json:"received_msg_rate"`
	Subscriptions       int64   `json:"subscriptions"`
	Topics              int64   `json:"topics"`
	Connections         int64   `json:"connections"`
	LiveConnections     int64   `json:"live_connections"`
	RetainedMsgCount    int64   `json:"retained_msg_count"`
	SharedSubscriptions int64   `json:"shared_subscriptions"`
	NodeUptime          int64   `json:"node_uptime,omitempty"` // ms; per node only
}

// MonitorCurrent returns the cluster's current rates and gauges
// (GET /monitor_current).
func (c *Client) MonitorCurrent(ctx context.Context) (MonitorCurrent, error) {
	var out MonitorCurrent
	_, err := c.Do(ctx, http.MethodGet, "/monitor_current", nil, nil, &out)
	return out, err
}

// NodeMonitorCurrent returns one node's (GET /monitor_current/nodes/{node}).
func (c *Client) NodeMonitorCurrent(ctx context.Context, node string) (MonitorCurrent, error) {
	var out MonitorCurrent
	_, err := c.Do(ctx, http.MethodGet, "/monitor_current/nodes/"+escape(node), nil, nil, &out)
	return out, err
}

// PrometheusStats scrapes GET /prometheus/stats in the text exposition
// format; mode is "" (node), all_nodes_aggregated or
// all_nodes_unaggregated.
func (c *Client) PrometheusStats(ctx context.Context, mode string) (string, error) {
	resp, err := c.getText(ctx, "/prometheus/stats", promQuery(mode), "text/plain")
	if err != nil {
		return "", err
	}
	return string(resp.Body), nil
}

// PrometheusStatsJSON scrapes GET /prometheus/stats as JSON (metric name ->
// value; with all_nodes_unaggregated, a list of {node, value}).
func (c *Client) PrometheusStatsJSON(ctx context.Context, mode string) (map[string]any, error) {
	var out map[string]any
	_, err := c.Do(ctx, http.MethodGet, "/prometheus/stats", promQuery(mode), nil, &out)
	return out, err
}

func promQuery(mode string) url.Values {
	if mode == "" {
		return nil
	}
	return url.Values{"mode": {mode}}
}

// PrometheusConfig is GET/PUT /prometheus's answer.
type PrometheusConfig struct {
	EnableBasicAuth bool `json:"enable_basic_auth"`
	PushGateway     struct {
		Enable   bool              `json:"enable"`
		URL      string            `json:"url"`
		Interval string            `json:"interval"`
		Headers  map[string]string `json:"headers"`
		JobName  string            `json:"job_name"`
	} `json:"push_gateway"`
	Collectors map[string]string `json:"collectors"`
}

// PrometheusConfig returns the Prometheus configuration (GET /prometheus).
func (c *Client) PrometheusConfig(ctx context.Context) (PrometheusConfig, error) {
	var out PrometheusConfig
	_, err := c.Do(ctx, http.MethodGet, "/prometheus", nil, nil, &out)
	return out, err
}

// UpdatePrometheusConfig sends PUT /prometheus with body (EMQX's
// recommend_setting: enable_basic_auth, push_gateway, collectors).
func (c *Client) UpdatePrometheusConfig(ctx context.Context, body any) (PrometheusConfig, error) {
	var out PrometheusConfig
	_, err := c.Do(ctx, http.MethodPut, "/prometheus", nil, body, &out)
	return out, err
}
