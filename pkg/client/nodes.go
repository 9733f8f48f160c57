package client

import (
	"context"
	"net/http"
)

// Node is one node of GET /nodes. Herald reports Go figures where EMQX
// reports Erlang VM ones: OTPRelease is the Go version, ProcessUsed the
// live goroutines, ProcessAvailable 0 (no fixed limit).
type Node struct {
	Node             string  `json:"node"`
	Connections      int64   `json:"connections"`
	LiveConnections  int64   `json:"live_connections"`
	ClusterSessions  int64   `json:"cluster_sessions"`
	Load1            float64 `json:"load1"`
	Load5            float64 `json:"load5"`
	Load15           float64 `json:"load15"`
	MaxFDs           int64   `json:"max_fds"`
	MemoryTotal      string  `json:"memory_total"` // "7.63G"
	MemoryUsed       string  `json:"memory_used"`
	NodeStatus       string  `json:"node_status"`
	OTPRelease       string  `json:"otp_release"`
	ProcessAvailable int64   `json:"process_available"`
	ProcessUsed      int64   `json:"process_used"`
	Uptime           int64   `json:"uptime"` // milliseconds
	Version          string  `json:"version"`
	Edition          string  `json:"edition"`
	SysPath          string  `json:"sys_path"`
	LogPath          string  `json:"log_path"`
	Role             string  `json:"role"`
}

// Nodes lists the nodes of the cluster (GET /nodes).
func (c *Client) Nodes(ctx context.Context) ([]Node, error) {
	var out []Node
	_, err := c.Do(ctx, http.MethodGet, "/nodes", nil, nil, &out)
	return out, err
}

// Node returns one node (GET /nodes/{node}).
func (c *Client) Node(ctx context.Context, node string) (Node, error) {
	var out Node
	_, err := c.Do(ctx, http.MethodGet, "/nodes/"+escape(node), nil, nil, &out)
	return out, err
}

// NodeMetrics returns a node's counters by EMQX name, plus "node"
// (GET /nodes/{node}/metrics). Counter values are float64 (JSON numbers).
func (c *Client) NodeMetrics(ctx context.Context, node string) (map[string]any, error) {
	var out map[string]any
	_, err := c.Do(ctx, http.MethodGet, "/nodes/"+escape(node)+"/metrics", nil, nil, &out)
	return out, err
}

// NodeStats returns a node's gauges ("connections.count",
// "connections.max", ...) (GET /nodes/{node}/stats).
func (c *Client) NodeStats(ctx context.Context, node string) (map[string]int64, error) {
	var out map[string]int64
	_, err := c.Do(ctx, http.MethodGet, "/nodes/"+escape(node)+"/stats", nil, nil, &out)
	return out, err
}
