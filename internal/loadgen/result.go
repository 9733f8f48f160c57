package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
)

// Result is the JSON line printed on stdout. FlowResult or ConnResult is
// set depending on the scenario; their fields are inlined.
type Result struct {
	Scenario string `json:"scenario"`
	Addr     string `json:"addr"`
	Label    string `json:"label"`
	Version  int    `json:"version"`
	QoS      int    `json:"qos"`
	Size     int    `json:"size"`
	*FlowResult
	*ConnResult
	GenCPUPct        float64  `json:"gen_cpu_pct"`
	BrokerCPUPct     *float64 `json:"broker_cpu_pct,omitempty"`
	OtherCPUPct      float64  `json:"other_cpu_pct"`
	SysBusyPct       float64  `json:"sys_busy_pct"`
	BrokerPID        int      `json:"broker_pid"`
	BrokerComm       string   `json:"broker_comm,omitempty"`
	BrokerRSSKBStart *int64   `json:"broker_rss_kb_start,omitempty"`
	BrokerRSSKBEnd   *int64   `json:"broker_rss_kb_end,omitempty"`
	FDLimit          uint64   `json:"fd_limit"`
	GoMaxProcs       int      `json:"gomaxprocs"`
	NumCPU           int      `json:"ncpu"`
	Error            string   `json:"error,omitempty"`
}

// FlowResult holds the counters of the publish/subscribe scenarios. Rates
// are over the measured window; counts include warmup and drain; latency
// covers messages sent inside the window.
type FlowResult struct {
	Publishers       int     `json:"publishers"`
	Subscribers      int     `json:"subscribers"`
	Fan              int     `json:"fan"` // deliveries expected per publish, 0 without subscribers
	RatePerPub       float64 `json:"rate_per_pub"`
	Inflight         int     `json:"inflight,omitempty"` // window per publisher after the v5 Receive Maximum
	BatchMsgs        int     `json:"batch_msgs"`
	SubLowat         int     `json:"sub_lowat"`
	SubMaxWaitUS     int64   `json:"sub_maxwait_us"`
	WarmupS          float64 `json:"warmup_s"`
	MeasuredS        float64 `json:"measured_s"`
	DrainS           float64 `json:"drain_s"`
	Sent             int64   `json:"sent"`
	Acked            int64   `json:"acked"`
	Rejected         int64   `json:"rejected"`
	Unacked          int64   `json:"unacked"`
	Delivered        int64   `json:"delivered"`
	Expected         int64   `json:"expected"`
	Loss             int64   `json:"loss"`
	LossPct          float64 `json:"loss_pct"`
	Foreign          int64   `json:"foreign"`
	SentPerS         float64 `json:"sent_per_s"`
	AckedPerS        float64 `json:"acked_per_s"`
	DeliveredPerS    float64 `json:"delivered_per_s"`
	LatUS            Latency `json:"lat_us"`
	SubReads         int64   `json:"sub_reads"`
	SubWaitReadsPct  float64 `json:"sub_wait_reads_pct"`
	ServerReceiveMax int     `json:"server_receive_max,omitempty"`
}

// ConnResult holds the counters of the conn scenario.
type ConnResult struct {
	Conns           int      `json:"conns"`
	Connected       int      `json:"connected"`
	Failures        int64    `json:"failures"`
	NotTried        int      `json:"not_tried"`
	DeadAfterHold   int      `json:"dead_after_hold"`
	Workers         int      `json:"workers"`
	ConnectRate     float64  `json:"connect_rate_limit"`
	ConnectS        float64  `json:"connect_s"`
	ConnectPerS     float64  `json:"connect_per_s"`
	HoldS           float64  `json:"hold_s"`
	CloseS          float64  `json:"close_s"`
	RSSKBBefore     *int64   `json:"rss_kb_before,omitempty"`
	RSSKBHeld       *int64   `json:"rss_kb_held,omitempty"`
	RSSKBAfterClose *int64   `json:"rss_kb_after_close,omitempty"`
	HWMKBHeld       *int64   `json:"hwm_kb_held,omitempty"`
	RSSBytesPerConn *float64 `json:"rss_bytes_per_conn,omitempty"`
	FirstErrors     string   `json:"first_errors,omitempty"`
}

// setCPU records CPU use; the broker's only when its process is known.
func (r *Result) setCPU(u cpuUse) {
	r.GenCPUPct = round(u.gen, 1)
	r.SysBusyPct = round(u.sys, 1)
	r.OtherCPUPct = round(u.other, 1)
	if r.BrokerPID > 0 {
		b := round(u.brk, 1)
		r.BrokerCPUPct = &b
	}
}

// output prints the result exactly once, even if the watchdog and the run
// race to do it.
type output struct {
	once           sync.Once
	stdout, stderr io.Writer
}

func (o *output) emit(r *Result) {
	o.once.Do(func() {
		line, err := json.Marshal(r)
		if err != nil { // cannot happen with these field types
			line = []byte(fmt.Sprintf(`{"error":%q}`, err.Error()))
		}
		fmt.Fprintf(o.stdout, "%s\n", line)
		fmt.Fprintln(o.stderr, summary(r))
	})
}

// summary is the one-line human reading of a result.
func summary(r *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s v%d qos%d size=%d", r.Scenario, r.Addr, r.Version, r.QoS, r.Size)
	if f := r.FlowResult; f != nil {
		fmt.Fprintf(&b, " pubs=%d subs=%d: sent %.0f/s delivered %.0f/s loss %d (%.3f%%) lat p50=%dus p99=%dus max=%dus",
			f.Publishers, f.Subscribers, f.SentPerS, f.DeliveredPerS, f.Loss, f.LossPct, f.LatUS.P50, f.LatUS.P99, f.LatUS.Max)
	}
	if c := r.ConnResult; c != nil {
		fmt.Fprintf(&b, ": %d/%d connected in %.2fs (%.0f/s), %d failures, %d dead after hold, %s B/conn",
			c.Connected, c.Conns, c.ConnectS, c.ConnectPerS, c.Failures, c.DeadAfterHold, optFloat(c.RSSBytesPerConn))
	}
	fmt.Fprintf(&b, " | cpu gen %.0f%% broker %s%% other %.0f%% machine %.0f%%",
		r.GenCPUPct, optFloat(r.BrokerCPUPct), r.OtherCPUPct, r.SysBusyPct)
	if r.Error != "" {
		b.WriteString(" | error: " + r.Error)
	}
	return b.String()
}

func optFloat(v *float64) string {
	if v == nil {
		return "?"
	}
	return fmt.Sprintf("%.0f", *v)
}

func round(v float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(v*p) / p
}

func ptr[T any](v T) *T { return &v }

// rssKB returns a process's resident set in kB, nil if unknown.
func rssKB(pid int, key string) *int64 {
	if pid <= 0 {
		return nil
	}
	if v := procStatusKB(pid, key); v >= 0 {
		return &v
	}
	return nil
}

// joinErrors summarises many errors: the first three and a count.
func joinErrors(errs []error) string {
	var parts []string
	for _, err := range errs[:min(3, len(errs))] {
		parts = append(parts, err.Error())
	}
	s := strings.Join(parts, "; ")
	if len(errs) > 3 {
		s += fmt.Sprintf("; ... (%d errors)", len(errs))
	}
	return s
}
