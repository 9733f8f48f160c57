package integration

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// psSysOn runs $SYS with 1s intervals, the shortest the configuration
// accepts (the $SYS tests run in parallel to hide the wait).
func psSysOn(c *config.Config) {
	c.SysTopics.SysMsgInterval, c.SysTopics.SysHeartbeatInterval = time.Second, time.Second
}

// psSysPrefix is the $SYS prefix of the test node.
const psSysPrefix = "$SYS/brokers/herald@127.0.0.1/"

// psCollectSys reads messages until every topic in want has been seen at
// least twice (so it is published periodically) and returns the last
// payload of each topic.
func psCollectSys(t *testing.T, c *testutil.V5, want ...string) map[string]string {
	t.Helper()
	last := map[string]string{}
	count := map[string]int{}
	deadline := time.After(testutil.Timeout)
	for {
		done := true
		for _, tp := range want {
			done = done && count[tp] >= 2
		}
		if done {
			return last
		}
		select {
		case m := <-c.Msgs:
			last[m.Topic] = string(m.Payload)
			count[m.Topic]++
		case <-deadline:
			var missing []string
			for _, tp := range want {
				if count[tp] < 2 {
					missing = append(missing, tp+" x"+strconv.Itoa(count[tp]))
				}
			}
			t.Fatalf("$SYS topics not published twice: %v", missing)
		}
	}
}

// TestSysTopics: the node publishes $SYS/brokers/<node>/version, sysdescr,
// uptime, datetime, stats/... and metrics/... periodically, and
// $SYS/brokers, as EMQX's emqx_sys does (sys_msg_interval and
// sys_heartbeat_interval); a subscriber to $SYS/# receives them.
func TestSysTopics(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, psNoStore, psSysOn)
	c := psV5(t, s.TCP(), "sys")
	psSub(t, c, paho.SubscribeOptions{Topic: "$SYS/#"})
	got := psCollectSys(t, c, psSysPrefix+"version", psSysPrefix+"sysdescr", psSysPrefix+"uptime", psSysPrefix+"datetime",
		psSysPrefix+"stats/connections/count", psSysPrefix+"stats/subscriptions/count", psSysPrefix+"metrics/messages/received",
		psSysPrefix+"metrics/packets/connect/received", "$SYS/brokers")
	if v := got[psSysPrefix+"version"]; v != broker.Version {
		t.Fatalf("version %q, want %q", v, broker.Version)
	}
	if got["$SYS/brokers"] != "herald@127.0.0.1" {
		t.Fatalf("$SYS/brokers %q", got["$SYS/brokers"])
	}
	if _, err := strconv.Atoi(got[psSysPrefix+"uptime"]); err != nil {
		t.Fatalf("uptime %q: %v", got[psSysPrefix+"uptime"], err)
	}
	if _, err := time.Parse(time.RFC3339, got[psSysPrefix+"datetime"]); err != nil {
		t.Fatalf("datetime %q: %v", got[psSysPrefix+"datetime"], err)
	}
	for tp, min := range map[string]int{"stats/connections/count": 1, "stats/subscriptions/count": 1, "metrics/packets/connect/received": 1} {
		if n, err := strconv.Atoi(got[psSysPrefix+tp]); err != nil || n < min {
			t.Fatalf("%s = %q, want at least %d", tp, got[psSysPrefix+tp], min)
		}
	}
	late := psV5(t, s.TCP(), "late")
	psSub(t, late, paho.SubscribeOptions{Topic: psSysPrefix + "version"})
	if m := late.Next(t); !m.Retain || string(m.Payload) != broker.Version {
		t.Fatalf("version for a new subscriber: retain %v payload %q", m.Retain, m.Payload)
	}
}

// TestSysOff: with both intervals disabled nothing is published on $SYS.
func TestSysOff(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, psNoStore)
	c := psV5(t, s.TCP(), "sys")
	psSub(t, c, paho.SubscribeOptions{Topic: "$SYS/#"})
	psV5(t, s.TCP(), "other")
	c.None(t, 300*time.Millisecond)
}

// TestSysClientEvents: $SYS/brokers/<node>/clients/<id>/connected and
// /disconnected carry JSON about the client (EMQX sys event messages).
func TestSysClientEvents(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, psNoStore, psSysOn)
	c := psV5(t, s.TCP(), "watcher")
	psSub(t, c, paho.SubscribeOptions{Topic: psSysPrefix + "clients/+/+", QoS: 1})
	ev := psV5(t, s.TCP(), "ev", func(cp *paho.Connect) { cp.Username, cp.UsernameFlag = "alice", true })
	if err := ev.Disconnect(&paho.Disconnect{}); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	for _, want := range []string{"connected", "disconnected"} {
		m := c.Next(t)
		if m.Topic != psSysPrefix+"clients/ev/"+want {
			t.Fatalf("got %q, want the %s event of ev", m.Topic, want)
		}
		var body map[string]any
		if err := json.Unmarshal(m.Payload, &body); err != nil {
			t.Fatalf("%s payload %q: %v", want, m.Payload, err)
		}
		if body["clientid"] != "ev" || body["username"] != "alice" || body["ipaddress"] != "127.0.0.1" || body["proto_ver"] != float64(5) {
			t.Fatalf("%s payload %v", want, body)
		}
		if want == "disconnected" && body["reason"] != "normal" {
			t.Fatalf("disconnect reason %v", body["reason"])
		}
	}
}

// TestSysNotPublishable: clients may not publish to $SYS/ topics: a v5
// client gets PUBACK 0x87 Not authorized, a 3.1.1 client a plain PUBACK,
// and no subscriber gets the message (EMQX denies $SYS publishes).
func TestSysNotPublishable(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, psNoStore)
	sub := psV5(t, s.TCP(), "sub")
	psSub(t, sub, paho.SubscribeOptions{Topic: "$SYS/#", QoS: 1})
	for _, v := range psVersions {
		c, _ := psRaw(t, s.TCP(), v, "pub-"+psVer(v))
		psRawPub(c, "$SYS/brokers/fake", 1, 1, "x")
		a := psExpectAck(t, c, packet.PUBACK, 1)
		want := packet.NotAuthorized
		if v != packet.V5 {
			want = packet.Success
		}
		if a.ReasonCode != want {
			t.Fatalf("%s: PUBACK %v, want %v", psVer(v), a.ReasonCode, want)
		}
	}
	sub.None(t, 200*time.Millisecond)
}

// TestSysNotMatchedByWildcards: filters starting with a wildcard do not
// match $SYS topics [MQTT-4.7.2-1]; "$SYS/#" does.
func TestSysNotMatchedByWildcards(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, psNoStore, psSysOn)
	wild := psV5(t, s.TCP(), "wild")
	psSub(t, wild, paho.SubscribeOptions{Topic: "#"}, paho.SubscribeOptions{Topic: "+/brokers/#"}, paho.SubscribeOptions{Topic: "+"})
	sys := psV5(t, s.TCP(), "sys")
	psSub(t, sys, paho.SubscribeOptions{Topic: "$SYS/#"})
	psCollectSys(t, sys, psSysPrefix+"uptime")
	select {
	case m := <-wild.Msgs:
		if strings.HasPrefix(m.Topic, "$") {
			t.Fatalf("wildcard subscription got %q", m.Topic)
		}
	default:
	}
	wild.None(t, 100*time.Millisecond)
}
