package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"testing"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/herald-mqtt/herald/pkg/client"
)

// nodesConnect connects n MQTT 5 clients.
func nodesConnect(t *testing.T, s *testutil.Server, n int) []*testutil.V5 {
	t.Helper()
	out := make([]*testutil.V5, n)
	for i := range out {
		out[i], _ = testutil.ConnectV5(t, s.TCP(), &paho.Connect{ClientID: fmt.Sprintf("mon-%d", i), CleanStart: true, KeepAlive: 60})
	}
	return out
}

// TestNodes: GET /nodes, /nodes/{node}, /nodes/{node}/metrics and
// /nodes/{node}/stats see two connected clients.
func TestNodes(t *testing.T) {
	s := testutil.RunServer(t)
	c := s.API(t)
	ctx := testutil.Ctx(t)
	nodesConnect(t, s, 2)
	const node = "herald@127.0.0.1"
	testutil.Eventually(t, testutil.Timeout, func() error {
		ns, err := c.Nodes(ctx)
		if err != nil {
			return err
		}
		if len(ns) != 1 || ns[0].Connections != 2 || ns[0].LiveConnections != 2 {
			return fmt.Errorf("nodes %+v, want one with 2 connections", ns)
		}
		return nil
	})
	n, err := c.Node(ctx, node)
	if err != nil {
		t.Fatal(err)
	}
	if n.Node != node || n.NodeStatus != "running" || n.Edition != "Opensource" || n.Role != "core" ||
		n.OTPRelease != runtime.Version() || n.Uptime <= 0 || n.MaxFDs <= 0 || n.ClusterSessions != 2 || n.MemoryTotal == "" {
		t.Fatalf("node %+v", n)
	}
	st, err := c.NodeStats(ctx, node)
	if err != nil || st["connections.count"] != 2 || st["live_connections.count"] != 2 || st["sessions.count"] != 2 {
		t.Fatalf("node stats %v, %v", st, err)
	}
	for _, k := range []string{"delayed.count", "subscriptions.shared.max", "cluster_sessions.count", "topics.max"} {
		if _, ok := st[k]; !ok {
			t.Errorf("node stats lack %s", k)
		}
	}
	mt, err := c.NodeMetrics(ctx, node)
	if err != nil || mt["node"] != node || mt["client.connected"].(float64) < 2 {
		t.Fatalf("node metrics %v, %v", mt, err)
	}
	for _, k := range []string{"client.check_authz", "rules.matched", "messages.received", "packets.connect.received"} {
		if _, ok := mt[k]; !ok {
			t.Errorf("node metrics lack %s", k)
		}
	}
	for path, golden := range map[string]string{"/nodes": "nodes_list.json", "/nodes/" + node: "nodes_get.json",
		"/nodes/" + node + "/metrics": "nodes_metrics.json", "/nodes/" + node + "/stats": "nodes_stats.json"} {
		resp, err := c.Do(ctx, http.MethodGet, path, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		testutil.GoldenShape(t, golden, resp.Body)
	}
}

// TestNodesUnknown: every per-node operation answers 404 NOT_FOUND for a
// node that is not in the cluster.
func TestNodesUnknown(t *testing.T) {
	s := testutil.RunServer(t)
	c := s.API(t)
	ctx := testutil.Ctx(t)
	for _, path := range []string{"/nodes/nope@host", "/nodes/nope@host/metrics", "/nodes/nope@host/stats",
		"/monitor/nodes/nope@host", "/monitor_current/nodes/nope@host"} {
		_, err := c.Do(ctx, http.MethodGet, path, nil, nil, nil)
		monErrorShape(t, err, http.StatusNotFound, "NOT_FOUND", "nodes_not_found.json")
	}
}

// monErrorShape checks err is an API error with status and code, and pins
// the envelope's shape in golden.
func monErrorShape(t *testing.T, err error, status int, code, golden string) {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) || e.Status != status || e.Code != code {
		t.Fatalf("%v, want %d %s", err, status, code)
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	testutil.GoldenShape(t, golden, b)
}
