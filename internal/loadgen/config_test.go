package loadgen

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, args ...string) *config {
	t.Helper()
	c, err := parseConfig(args, &bytes.Buffer{})
	if err != nil {
		t.Fatalf("parseConfig(%q): %v", args, err)
	}
	return c
}

func TestLoadgenConfigDefaults(t *testing.T) {
	for sc, n := range defaultCount {
		c := mustParse(t, sc)
		if c.count != n || c.addr != "127.0.0.1:1883" || c.version != protoV311 || c.qos != 0 {
			t.Fatalf("%s: count %d addr %s version %d qos %d", sc, c.count, c.addr, c.version, c.qos)
		}
	}
	if c := mustParse(t, "latency"); c.rate != 1000 {
		t.Fatalf("latency default rate = %g, want 1000", c.rate)
	}
	if c := mustParse(t, "latency", "-rate", "0"); c.rate != 0 {
		t.Fatalf("latency -rate 0 = %g", c.rate)
	}
	if c := mustParse(t, "pairs"); c.rate != 0 || c.duration != 10*time.Second || !c.clean {
		t.Fatalf("pairs defaults: rate %g duration %v clean %v", c.rate, c.duration, c.clean)
	}
}

func TestLoadgenConfigFlags(t *testing.T) {
	c := mustParse(t, "fanout", "-h", "::1", "-p", "1884", "-V", "5", "-q", "2", "-c", "3",
		"-u", "user", "-P", "pw", "-k", "0", "-clean=false", "-size", "12", "-pid", "none", "-label", "x")
	if c.addr != "[::1]:1884" || c.version != protoV5 || c.qos != 2 || c.count != 3 ||
		c.username != "user" || c.password != "pw" || c.keepalive != 0 || c.clean || c.label != "x" {
		t.Fatalf("parsed %+v", c)
	}
	if c := mustParse(t, "pub", "-addr", "127.0.0.2:2000", "-h", "::1"); c.addr != "127.0.0.2:2000" || c.port != 2000 {
		t.Fatalf("-addr overrides -h/-p: %s", c.addr)
	}
	if c := mustParse(t, "sub", "-addr", "localhost:1883"); !strings.HasSuffix(c.addr, ":1883") {
		t.Fatalf("localhost: %s", c.addr)
	}
}

func TestLoadgenConfigRefusesRemote(t *testing.T) {
	for _, args := range [][]string{
		{"pairs", "-h", "10.0.0.1"},
		{"pairs", "-addr", "192.168.1.1:1883"},
		{"conn", "-h", "0.0.0.0"},
		{"conn", "-addr", "[2001:db8::1]:1883"},
	} {
		_, err := parseConfig(args, &bytes.Buffer{})
		if !errors.Is(err, ErrNotLoopback) || !errors.Is(err, ErrUsage) {
			t.Fatalf("parseConfig(%q) = %v, want ErrNotLoopback", args, err)
		}
	}
}

func TestLoadgenConfigErrors(t *testing.T) {
	for _, args := range [][]string{
		{}, {"-q", "1"}, {"nosuch"}, {"pairs", "extra"}, {"pairs", "-nosuchflag"},
		{"pairs", "-q", "3"}, {"pairs", "-V", "3"}, {"pairs", "-duration", "11m"},
		{"pairs", "-duration", "0s"}, {"pairs", "-warmup", "-1s"}, {"pairs", "-c", "-2"},
		{"pairs", "-inflight", "0"}, {"pairs", "-inflight", "65536"}, {"pairs", "-size", "-1"},
		{"pairs", "-P", "pw"}, {"pairs", "-pid", "mosquitto"}, {"pairs", "-p", "0"},
		{"pairs", "-k", "70000"}, {"pairs", "-rate", "-1"},
	} {
		if _, err := parseConfig(args, &bytes.Buffer{}); !errors.Is(err, ErrUsage) {
			t.Fatalf("parseConfig(%q) = %v, want ErrUsage", args, err)
		}
	}
	// v5 allows a password without a username.
	mustParse(t, "pairs", "-V", "5", "-P", "pw")
}

func TestLoadgenMainUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"pairs", "-addr", "10.1.2.3:1883"}, &out, &errb); code != ExitUsage {
		t.Fatalf("exit %d, want %d", code, ExitUsage)
	}
	if out.Len() != 0 || !strings.Contains(errb.String(), "not loopback") {
		t.Fatalf("stdout %q, stderr %q", out.String(), errb.String())
	}
	out.Reset()
	if code := Main([]string{"pairs", "-help"}, &out, &errb); code != ExitOK || out.Len() != 0 {
		t.Fatalf("-help: exit %d, stdout %q", code, out.String())
	}
}

func TestLoadgenTopicTemplates(t *testing.T) {
	if got := expandTopic("a/%i/%c/%i", 7, "hb-1-p-7"); got != "a/7/hb-1-p-7/7" {
		t.Fatalf("expandTopic = %q", got)
	}
	p := planFlow(mustParse(t, "pub", "-c", "2", "-t", "x/%i"), 42)
	if len(p.pubTopics) != 2 || p.pubTopics[1] != "x/1" || p.pubIDs[1] != "hb-42-p-1" || p.fan != 0 {
		t.Fatalf("pub plan %+v", p)
	}
	p = planFlow(mustParse(t, "sub", "-t", "s/%c"), 42)
	if len(p.subFilters) != 1 || p.subFilters[0] != "s/hb-42-s-0" || !p.countAll {
		t.Fatalf("sub plan %+v", p)
	}
}

func TestLoadgenPlans(t *testing.T) {
	cases := []struct {
		args       []string
		pubs, subs int
		fan        int
		filter     string
	}{
		{[]string{"pairs", "-c", "3"}, 3, 3, 1, "hb-bench/9/pairs/2"},
		{[]string{"fanin", "-c", "4", "-t", "p"}, 4, 1, 1, "p/9/fanin/+"},
		{[]string{"fanout", "-c", "5"}, 1, 5, 5, "hb-bench/9/fanout"},
		{[]string{"latency"}, 1, 1, 1, "hb-bench/9/latency"},
	}
	for _, c := range cases {
		p := planFlow(mustParse(t, c.args...), 9)
		if len(p.pubTopics) != c.pubs || len(p.subFilters) != c.subs || p.fan != c.fan ||
			p.subFilters[len(p.subFilters)-1] != c.filter {
			t.Fatalf("%q: %d pubs %d subs fan %d filters %q", c.args, len(p.pubTopics), len(p.subFilters), p.fan, p.subFilters)
		}
	}
	if p := planFlow(mustParse(t, "latency"), 9); !p.perMessage {
		t.Fatalf("latency plan must write one message at a time")
	}
}
