package v5

import (
	"net/http"
	"time"

	"github.com/herald-mqtt/herald/internal/api"
	"github.com/herald-mqtt/herald/internal/service"
	"github.com/swaggest/jsonschema-go"
)

// AggregateQuery is the query of GET /metrics and GET /stats.
type AggregateQuery struct {
	Aggregate bool `query:"aggregate" description:"true: one object summed over the cluster; false (default): one object per node, with node"`
}

// MonitorQuery is the query of GET /monitor and /monitor/nodes/{node}.
type MonitorQuery struct {
	Latest int `query:"latest" minimum:"1" maximum:"2147483647" description:"only the samples of the last N seconds (300 = 5 min); default all (at least one hour)"`
}

// MetricsResponse is GET /metrics: with aggregate=true one object of
// counters, otherwise an array of objects with node and the counters.
type MetricsResponse []NodeMetricsResponse

// StatsResponse is GET /stats: with aggregate=true one object of gauges,
// otherwise an array of objects with node and the gauges.
type StatsResponse []map[string]any

// MetricsDoc documents GET /metrics: one object per node (aggregate
// false or absent), or one object of counters summed over the cluster
// (aggregate=true), as EMQX.
type MetricsDoc struct{}

// JSONSchema is the one of the two shapes.
func (MetricsDoc) JSONSchema() (jsonschema.Schema, error) { return perNodeOrAggregate("counters"), nil }

// StatsDoc documents GET /stats as MetricsDoc does GET /metrics.
type StatsDoc struct{}

// JSONSchema is the one of the two shapes.
func (StatsDoc) JSONSchema() (jsonschema.Schema, error) { return perNodeOrAggregate("gauges"), nil }

// perNodeOrAggregate is an array of {node, name: integer...} objects or
// one {name: integer...} object.
func perNodeOrAggregate(what string) jsonschema.Schema {
	var num jsonschema.Schema
	num.AddType(jsonschema.Integer)
	var agg jsonschema.Schema
	agg.AddType(jsonschema.Object)
	agg.WithAdditionalProperties(num.ToSchemaOrBool())
	agg.WithDescription("aggregate=true: the " + what + " summed over the cluster")
	var node jsonschema.Schema
	node.AddType(jsonschema.Object)
	node.WithProperties(map[string]jsonschema.SchemaOrBool{"node": schemaString().ToSchemaOrBool()})
	node.WithRequired("node")
	node.WithAdditionalProperties(num.ToSchemaOrBool())
	var per jsonschema.Schema
	per.AddType(jsonschema.Array)
	per.WithItems(*(&jsonschema.Items{}).WithSchemaOrBool(node.ToSchemaOrBool()))
	per.WithDescription("the " + what + " of each node")
	var out jsonschema.Schema
	out.WithOneOf(per.ToSchemaOrBool(), agg.ToSchemaOrBool())
	return out
}

// MonitorSample is one point of GET /monitor: gauges at time_stamp, and
// received / sent / dropped messages during the sampling interval (10 s).
type MonitorSample struct {
	TimeStamp       int64  `json:"time_stamp" description:"epoch milliseconds"`
	Subscriptions   int64  `json:"subscriptions"`
	Topics          int64  `json:"topics"`
	Connections     int64  `json:"connections"`
	LiveConnections int64  `json:"live_connections"`
	Received        uint64 `json:"received"`
	Sent            uint64 `json:"sent"`
	Dropped         uint64 `json:"dropped"`
}

// MonitorCurrentResponse is GET /monitor_current: message rates per second
// and gauges, summed over the cluster.
type MonitorCurrentResponse struct {
	DroppedMsgRate      float64 `json:"dropped_msg_rate"`
	SentMsgRate         float64 `json:"sent_msg_rate"`
	ReceivedMsgRate     float64 `json:"received_msg_rate"`
	Subscriptions       int64   `json:"subscriptions"`
	Topics              int64   `json:"topics"`
	Connections         int64   `json:"connections"`
	LiveConnections     int64   `json:"live_connections"`
	RetainedMsgCount    int64   `json:"retained_msg_count"`
	SharedSubscriptions int64   `json:"shared_subscriptions"`
}

// NodeMonitorCurrentResponse is GET /monitor_current/nodes/{node}.
type NodeMonitorCurrentResponse struct {
	MonitorCurrentResponse
	NodeUptime int64 `json:"node_uptime" description:"milliseconds"`
}

func (a *API) metricsRoutes() []route {
	const tag = "Metrics"
	return []route{
		{method: http.MethodGet, path: "/metrics", tag: tag, summary: "EMQX metrics",
			query: &AggregateQuery{}, resp: &MetricsDoc{}, example: example{query: kv("aggregate", "true")}, h: a.metrics},
		{method: http.MethodGet, path: "/stats", tag: tag, summary: "EMQX stats",
			query: &AggregateQuery{}, resp: &StatsDoc{}, example: example{query: kv("aggregate", "false")}, h: a.stats},
		{method: http.MethodGet, path: "/monitor_current", tag: tag, summary: "Current monitor (statistics) data of the whole cluster",
			resp: &MonitorCurrentResponse{}, h: a.monitorCurrent},
		{method: http.MethodGet, path: "/monitor_current/nodes/{node}", tag: tag, summary: "Current monitor (statistics) data of a node",
			resp: &NodeMonitorCurrentResponse{}, example: example{path: kv("node", exampleNode)}, h: a.monitorCurrent},
		{method: http.MethodGet, path: "/monitor/nodes/{node}", tag: tag, summary: "List the monitor (statistics) data of a node",
			query: &MonitorQuery{}, resp: &[]MonitorSample{}, example: example{path: kv("node", exampleNode), query: kv("latest", "300")}, h: a.monitor},
		{method: http.MethodGet, path: "/monitor", tag: tag, summary: "List monitor (statistics) data of the whole cluster",
			query: &MonitorQuery{}, resp: &[]MonitorSample{}, example: example{query: kv("latest", "300")}, h: a.monitor},
	}
}

func (a *API) metrics(w http.ResponseWriter, r *http.Request) error {
	agg, err := api.QueryBool(r, "aggregate")
	if err != nil {
		return err
	}
	if agg != nil && *agg {
		m, err := a.svc.AggregateMetrics(r.Context())
		if err != nil {
			return err
		}
		return api.WriteJSON(w, http.StatusOK, m)
	}
	per, err := a.svc.Metrics(r.Context(), "")
	if err != nil {
		return err
	}
	out := make(MetricsResponse, 0, len(per))
	for _, nc := range per {
		out = append(out, nodeCounters(nc))
	}
	return api.WriteJSON(w, http.StatusOK, out)
}

func (a *API) stats(w http.ResponseWriter, r *http.Request) error {
	agg, err := api.QueryBool(r, "aggregate")
	if err != nil {
		return err
	}
	if agg != nil && *agg {
		m, err := a.svc.AggregateStats(r.Context())
		if err != nil {
			return err
		}
		return api.WriteJSON(w, http.StatusOK, m)
	}
	per, err := a.svc.Stats(r.Context(), "")
	if err != nil {
		return err
	}
	out := make(StatsResponse, 0, len(per))
	for _, ng := range per {
		m := make(map[string]any, len(ng.Gauges)+1)
		for k, v := range ng.Gauges {
			m[k] = v
		}
		m["node"] = ng.Node
		out = append(out, m)
	}
	return api.WriteJSON(w, http.StatusOK, out)
}

// monitor serves /monitor and /monitor/nodes/{node}.
func (a *API) monitor(w http.ResponseWriter, r *http.Request) error {
	latest, err := api.QueryInt(r, "latest", 0, 1, 1<<31-1, "BAD_REQUEST")
	if err != nil {
		return err
	}
	ss, err := a.svc.Monitor(r.Context(), pathParam(r, "node"), time.Duration(latest)*time.Second)
	if err != nil {
		return err
	}
	out := make([]MonitorSample, 0, len(ss))
	for _, s := range ss {
		out = append(out, MonitorSample(s))
	}
	return api.WriteJSON(w, http.StatusOK, out)
}

// monitorCurrent serves /monitor_current and /monitor_current/nodes/{node}.
func (a *API) monitorCurrent(w http.ResponseWriter, r *http.Request) error {
	node := pathParam(r, "node")
	c, err := a.svc.MonitorCurrent(r.Context(), node)
	if err != nil {
		return err
	}
	cur := monitorCurrent(c)
	if node == "" {
		return api.WriteJSON(w, http.StatusOK, cur)
	}
	return api.WriteJSON(w, http.StatusOK, NodeMonitorCurrentResponse{MonitorCurrentResponse: cur, NodeUptime: c.NodeUptime.Milliseconds()})
}

func monitorCurrent(c service.MonitorCurrent) MonitorCurrentResponse {
	return MonitorCurrentResponse{
		DroppedMsgRate: c.DroppedMsgRate, SentMsgRate: c.SentMsgRate, ReceivedMsgRate: c.ReceivedMsgRate,
		Subscriptions: c.Subscriptions, Topics: c.Topics, Connections: c.Connections, LiveConnections: c.LiveConnections,
		RetainedMsgCount: c.RetainedMsgCount, SharedSubscriptions: c.SharedSubscriptions,
	}
}
