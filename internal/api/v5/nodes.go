package v5

import (
	"fmt"
	"net/http"

	"github.com/herald-mqtt/herald/internal/api"
	"github.com/herald-mqtt/herald/internal/service"
)

// NodeResponse is one node of GET /nodes and GET /nodes/{node}. See
// service.NodeInfo for what the Erlang VM figures mean in Herald.
type NodeResponse struct {
	Node             string  `json:"node"`
	Connections      int64   `json:"connections"`
	LiveConnections  int64   `json:"live_connections"`
	ClusterSessions  int64   `json:"cluster_sessions"`
	Load1            float64 `json:"load1"`
	Load5            float64 `json:"load5"`
	Load15           float64 `json:"load15"`
	MaxFDs           int64   `json:"max_fds"`
	MemoryTotal      string  `json:"memory_total" description:"host memory, as EMQX (\"7.63G\")"`
	MemoryUsed       string  `json:"memory_used" description:"host memory in use, as EMQX (\"1.20G\")"`
	NodeStatus       string  `json:"node_status" enum:"running,stopped"`
	OTPRelease       string  `json:"otp_release" description:"Herald: the Go version"`
	ProcessAvailable int64   `json:"process_available" description:"Herald: 0, goroutines have no fixed limit"`
	ProcessUsed      int64   `json:"process_used" description:"Herald: live goroutines"`
	Uptime           int64   `json:"uptime" description:"milliseconds"`
	Version          string  `json:"version"`
	Edition          string  `json:"edition"`
	SysPath          string  `json:"sys_path"`
	LogPath          string  `json:"log_path"`
	Role             string  `json:"role" enum:"core,replicant"`
}

// NodeMetricsResponse is a node's counters: "node" plus EMQX's counter
// names ("messages.received": 12).
type NodeMetricsResponse map[string]any

// NodeStatsResponse is a node's gauges with EMQX's names
// ("connections.count", "connections.max").
type NodeStatsResponse map[string]int64

func (a *API) nodeRoutes() []route {
	return []route{
		{method: http.MethodGet, path: "/nodes", tag: "Nodes", summary: "List EMQX nodes",
			resp: &[]NodeResponse{}, h: a.listNodes},
		{method: http.MethodGet, path: "/nodes/{node}", tag: "Nodes", summary: "Get node info",
			resp: &NodeResponse{}, example: example{path: kv("node", exampleNode)}, h: a.getNode},
		{method: http.MethodGet, path: "/nodes/{node}/metrics", tag: "Nodes", summary: "Get node run-time counter metrics",
			resp: &NodeMetricsResponse{}, example: example{path: kv("node", exampleNode)}, h: a.nodeMetrics},
		{method: http.MethodGet, path: "/nodes/{node}/stats", tag: "Nodes", summary: "Get node run-time stats",
			resp: &NodeStatsResponse{}, example: example{path: kv("node", exampleNode)}, h: a.nodeStats},
	}
}

func (a *API) listNodes(w http.ResponseWriter, r *http.Request) error {
	ns, err := a.svc.ListNodes(r.Context())
	if err != nil {
		return err
	}
	out := make([]NodeResponse, 0, len(ns))
	for _, n := range ns {
		out = append(out, nodeResponse(n))
	}
	return api.WriteJSON(w, http.StatusOK, out)
}

func (a *API) getNode(w http.ResponseWriter, r *http.Request) error {
	n, err := a.svc.GetNode(r.Context(), pathParam(r, "node"))
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, nodeResponse(n))
}

func (a *API) nodeMetrics(w http.ResponseWriter, r *http.Request) error {
	ms, err := a.svc.Metrics(r.Context(), pathParam(r, "node"))
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, nodeCounters(ms[0]))
}

func (a *API) nodeStats(w http.ResponseWriter, r *http.Request) error {
	ss, err := a.svc.Stats(r.Context(), pathParam(r, "node"))
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, NodeStatsResponse(ss[0].Gauges))
}

func nodeResponse(n service.NodeInfo) NodeResponse {
	return NodeResponse{
		Node: n.Node, Connections: n.Connections, LiveConnections: n.LiveConnections, ClusterSessions: n.ClusterSessions,
		Load1: n.Load1, Load5: n.Load5, Load15: n.Load15, MaxFDs: n.MaxFDs,
		MemoryTotal: kmg(n.MemoryTotal), MemoryUsed: kmg(n.MemoryUsed),
		NodeStatus: n.NodeStatus, OTPRelease: n.OTPRelease, ProcessAvailable: n.ProcessAvailable, ProcessUsed: n.ProcessUsed,
		Uptime: n.Uptime.Milliseconds(), Version: n.Version, Edition: n.Edition, SysPath: n.SysPath, LogPath: n.LogPath, Role: n.Role,
	}
}

// nodeCounters is a node's counters with its name under "node".
func nodeCounters(nc service.NodeCounters) NodeMetricsResponse {
	out := make(NodeMetricsResponse, len(nc.Counters)+1)
	for k, v := range nc.Counters {
		out[k] = v
	}
	out["node"] = nc.Node
	return out
}

// kmg renders a byte count as EMQX's emqx_mgmt_util:kmg does ("512.00M").
func kmg(b uint64) string {
	const kb, mb, gb = 1 << 10, 1 << 20, 1 << 30
	switch f := float64(b); {
	case b > gb:
		return fmt.Sprintf("%.2fG", f/gb)
	case b > mb:
		return fmt.Sprintf("%.2fM", f/mb)
	case b > kb:
		return fmt.Sprintf("%.2fK", f/kb)
	}
	return fmt.Sprintf("%d", b)
}
