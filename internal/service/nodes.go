package service

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/herald-mqtt/herald/internal/broker"
)

// NodeInfo describes one node as EMQX's GET /nodes does. Where EMQX reports
// an Erlang VM figure, Herald reports the closest Go or host figure:
//
//   - MemoryTotal / MemoryUsed: the host's memory (MemTotal and MemTotal -
//     MemAvailable of /proc/meminfo), as EMQX does on Linux; elsewhere the
//     Go runtime's reserved (Sys) and heap-in-use bytes.
//   - OTPRelease: the Go version the binary was built with.
//   - ProcessUsed: live goroutines; ProcessAvailable: 0, because goroutines
//     have no fixed limit (0 = unlimited, as in Herald's configuration).
//   - MaxFDs: the soft RLIMIT_NOFILE of the process.
type NodeInfo struct {
	Node             string
	Connections      int64
	LiveConnections  int64
	ClusterSessions  int64
	Load1            float64
	Load5            float64
	Load15           float64
	MaxFDs           int64
	MemoryTotal      uint64 // bytes
	MemoryUsed       uint64 // bytes
	NodeStatus       string // "running"
	OTPRelease       string // the Go version
	ProcessAvailable int64
	ProcessUsed      int64
	Uptime           time.Duration
	Version          string
	Edition          string // "Opensource"
	SysPath          string
	LogPath          string
	Role             string // "core"
}

// LogPathNone is what EMQX reports as log_path when it logs to no file;
// Herald logs to standard error only.
const LogPathNone = "log.file.enable is false, not logging to file."

// ListNodes returns every node of the cluster.
func (s *Service) ListNodes(ctx context.Context) ([]NodeInfo, error) {
	out := make([]NodeInfo, 0, len(s.nodes))
	for _, n := range s.nodes {
		out = append(out, s.nodeInfo(n))
	}
	return out, nil
}

// GetNode returns one node, or ErrNotFound (NOT_FOUND).
func (s *Service) GetNode(ctx context.Context, name string) (NodeInfo, error) {
	n, err := s.node(name)
	if err != nil {
		return NodeInfo{}, err
	}
	return s.nodeInfo(n), nil
}

// node returns the named node, or ErrNotFound (NOT_FOUND).
func (s *Service) node(name string) (*node, error) {
	if name == "" {
		return nil, Errorf(ErrNotFound, "NOT_FOUND", "node %q not found", name)
	}
	ns, err := s.nodesIn(name)
	if err != nil {
		return nil, err
	}
	return ns[0], nil
}

func (s *Service) nodeInfo(n *node) NodeInfo {
	st := n.b.Stats()
	l1, l5, l15 := loadAvg()
	total, used := memory()
	return NodeInfo{
		Node:            n.name,
		Connections:     st.Connections.Value(),
		LiveConnections: st.Connections.Value(),
		ClusterSessions: st.Sessions.Value(),
		Load1:           l1, Load5: l5, Load15: l15,
		MaxFDs:      maxFDs(),
		MemoryTotal: total, MemoryUsed: used,
		NodeStatus:  "running",
		OTPRelease:  runtime.Version(),
		ProcessUsed: int64(runtime.NumGoroutine()),
		Uptime:      n.b.Uptime(),
		Version:     broker.Version,
		Edition:     "Opensource",
		SysPath:     sysPath(),
		LogPath:     LogPathNone,
		Role:        "core",
	}
}

// loadAvg reads /proc/loadavg; zeros where there is none.
func loadAvg() (l1, l5, l15 float64) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, 0, 0
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return 0, 0, 0
	}
	p := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
	return p(f[0]), p(f[1]), p(f[2])
}

// memory returns the host's total and used memory from /proc/meminfo, or
// the Go runtime's reserved and in-use heap bytes where there is none.
func memory() (total, used uint64) {
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		kv := map[string]uint64{}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				v, _ := strconv.ParseUint(f[1], 10, 64)
				kv[strings.TrimSuffix(f[0], ":")] = v * 1024
			}
		}
		if t, a := kv["MemTotal"], kv["MemAvailable"]; t > 0 && a <= t {
			return t, t - a
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Sys, ms.HeapInuse
}

// sysPath is the directory of the running binary (EMQX: its install root).
func sysPath() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	return filepath.Dir(exe)
}

// Status is the health of this node (EMQX's GET /status).
type Status struct {
	NodeName     string
	RelVsn       string // Herald's version
	BrokerStatus string // "started" | "stopped"
	AppStatus    string // "running" | "not_running"
	Running      bool   // both: the node serves clients
}

// Status reports whether the node is running: true between Start and
// Close.
func (s *Service) Status(ctx context.Context) Status {
	st := Status{NodeName: s.local.name, RelVsn: broker.Version, BrokerStatus: "stopped", AppStatus: "not_running"}
	if s.running.Load() {
		st.BrokerStatus, st.AppStatus, st.Running = "started", "running", true
	}
	return st
}
