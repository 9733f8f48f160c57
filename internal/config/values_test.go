package config

import (
	"strings"
	"testing"
	"time"
)

func TestConfigParseDuration(t *testing.T) {
	good := map[string]time.Duration{
		"15s":       15 * time.Second,
		"500ms":     500 * time.Millisecond,
		"2h":        2 * time.Hour,
		"1d":        24 * time.Hour,
		"1w":        7 * 24 * time.Hour,
		"1h30m":     90 * time.Minute,
		"2.5m":      150 * time.Second,
		".5s":       500 * time.Millisecond,
		"1W2D":      9 * 24 * time.Hour,
		"1MS":       time.Millisecond,
		"1M":        time.Minute,
		"0":         0,
		"0s":        0,
		" 30s ":     30 * time.Second,
		"1m1s1ms":   time.Minute + time.Second + time.Millisecond,
		"1.001s":    1001 * time.Millisecond,
		"106751d":   106751 * 24 * time.Hour,
		"0.0000ms":  0,
		"3h0m0.5s":  3*time.Hour + 500*time.Millisecond,
		"300s":      5 * time.Minute,
		"1000000ms": 1000 * time.Second,
	}
	for in, want := range good {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Fatalf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	bad := []string{"", "s", "15", "1h30", "-1s", "1.5.1s", "1y", "1 s", "1e3s", "0.5ms", "1s ms", "infinity",
		"107000d", "99999999999999999999999999w", "1..s", "."}
	for _, in := range bad {
		if d, err := ParseDuration(in); err == nil {
			t.Fatalf("ParseDuration(%q) = %v, want error", in, d)
		} else if !strings.Contains(err.Error(), "is not a duration") {
			t.Fatalf("ParseDuration(%q) error %q lacks the reason", in, err)
		}
	}
}

func TestConfigFormatDuration(t *testing.T) {
	cases := map[time.Duration]string{
		0:                       "0s",
		15 * time.Second:        "15s",
		90 * time.Second:        "90s",
		2 * time.Hour:           "2h",
		1500 * time.Millisecond: "1500ms",
		48 * time.Hour:          "2d",
		14 * 24 * time.Hour:     "2w",
	}
	for d, want := range cases {
		if got := FormatDuration(d); got != want {
			t.Fatalf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestConfigParseByteSize(t *testing.T) {
	good := map[string]int{
		"1MB": 1 << 20, "64KB": 64 << 10, "1024": 1024, "1gb": 1 << 30, "2m": 2 << 20,
		"10B": 10, "10b": 10, "5k": 5 << 10, "0": 0, " 8MB ": 8 << 20, "1Kb": 1024,
	}
	for in, want := range good {
		got, err := ParseByteSize(in)
		if err != nil || got != want {
			t.Fatalf("ParseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	bad := []string{"", "MB", "12XB", "1.5MB", "-1", "1 MB", "1TB", "99999999999999999999", "9999999999GB", "1MBB"}
	for _, in := range bad {
		if n, err := ParseByteSize(in); err == nil {
			t.Fatalf("ParseByteSize(%q) = %d, want error", in, n)
		} else if !strings.Contains(err.Error(), "is not a byte size (e.g. 1MB, 512KB)") {
			t.Fatalf("ParseByteSize(%q) error %q lacks the reason", in, err)
		}
	}
}

func TestConfigFormatByteSize(t *testing.T) {
	cases := map[int]string{0: "0B", 1000: "1000B", 1 << 20: "1MB", 1536: "1536B", 3 << 10: "3KB", 1 << 30: "1GB"}
	for n, want := range cases {
		if got := FormatByteSize(n); got != want {
			t.Fatalf("FormatByteSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestConfigParseRate(t *testing.T) {
	good := map[string]Rate{
		"infinity": {},
		"Infinity": {},
		"1000/s":   {Count: 1000, Per: time.Second},
		"100/10s":  {Count: 100, Per: 10 * time.Second},
		"60/m":     {Count: 60, Per: time.Minute},
		"5/1h":     {Count: 5, Per: time.Hour},
		"1/500ms":  {Count: 1, Per: 500 * time.Millisecond},
		" 10 / s ": {Count: 10, Per: time.Second},
	}
	for in, want := range good {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Fatalf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	bad := []string{"", "100", "0/s", "-1/s", "x/s", "10/", "10/0s", "10/xs", "10/s/s", "inf"}
	for _, in := range bad {
		if r, err := ParseRate(in); err == nil {
			t.Fatalf("ParseRate(%q) = %v, want error", in, r)
		} else if !strings.Contains(err.Error(), "is not a rate (e.g. 1000/s, 100/10s, infinity)") {
			t.Fatalf("ParseRate(%q) error %q lacks the reason", in, err)
		}
	}
}

func TestConfigRateString(t *testing.T) {
	cases := map[Rate]string{
		{}:                                         "infinity",
		{Count: 1000, Per: time.Second}:            "1000/s",
		{Count: 100, Per: 10 * time.Second}:        "100/10s",
		{Count: 60, Per: time.Minute}:              "60/m",
		{Count: 1, Per: 1500 * time.Millisecond}:   "1/1500ms",
		{Count: 2, Per: 100 * time.Millisecond}:    "2/100ms",
		{Count: 3, Per: 24 * time.Hour}:            "3/d",
		{Count: 4, Per: 10 * 24 * 365 * time.Hour}: "4/3650d",
	}
	for r, want := range cases {
		if got := r.String(); got != want {
			t.Fatalf("%#v.String() = %q, want %q", r, got, want)
		}
		back, err := ParseRate(want)
		if err != nil || back != r {
			t.Fatalf("ParseRate(%q) = %v, %v; want %v", want, back, err, r)
		}
	}
	if ps := (Rate{Count: 100, Per: 10 * time.Second}).PerSecond(); ps != 10 {
		t.Fatalf("PerSecond = %v, want 10", ps)
	}
}

func TestConfigInfinityAndDisabled(t *testing.T) {
	c := Default()
	sets := map[string]string{
		"mqtt.idle_timeout":                     "infinity",
		"mqtt.max_subscriptions":                "INFINITY",
		"mqtt.max_awaiting_rel":                 "infinity",
		"mqtt.max_mqueue_len":                   "infinity",
		"mqtt.slow_consumer_max_drops":          "infinity",
		"mqtt.server_keepalive":                 "disabled",
		"mqtt.max_keepalive":                    "disabled",
		"sys_topics.sys_msg_interval":           "disabled",
		"sys_topics.sys_heartbeat_interval":     "Disabled",
		"listeners.tcp.default.max_connections": "infinity",
	}
	for k, v := range sets {
		if err := Set(&c, k, v); err != nil {
			t.Fatalf("Set(%s, %s): %v", k, v, err)
		}
	}
	m := c.MQTT
	if m.IdleTimeout != 0 || m.MaxSubscriptions != 0 || m.MaxAwaitingRel != 0 || m.MaxMqueueLen != 0 || m.SlowConsumerMaxDrops != 0 {
		t.Fatalf("infinity not stored as 0: %+v", m)
	}
	if m.ServerKeepalive != 0 || m.MaxKeepalive != 0 || c.SysTopics.SysMsgInterval != 0 || c.SysTopics.SysHeartbeatInterval != 0 {
		t.Fatalf("disabled not stored as 0")
	}
	flat := c.Flatten()
	for k := range sets {
		if s := flat[k]; s != Infinity && s != Disabled {
			t.Fatalf("Flatten()[%s] = %v, want the word back", k, s)
		}
	}
}

func TestConfigBindForms(t *testing.T) {
	cases := map[string]string{
		"1883":           "0.0.0.0:1883",
		"127.0.0.1:1883": "127.0.0.1:1883",
		":1883":          ":1883",
		"[::1]:1883":     "[::1]:1883",
		"localhost:0":    "localhost:0",
	}
	for in, want := range cases {
		c := Default()
		if err := Set(&c, "listeners.tcp.default.bind", in); err != nil {
			t.Fatalf("bind %q: %v", in, err)
		}
		if got := c.Listeners.TCP["default"].Bind; got != want {
			t.Fatalf("bind %q stored as %q, want %q", in, got, want)
		}
	}
}
