package integration

import (
	"fmt"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// connectWithWill connects a v5 raw client whose session expires expiry
// seconds after its connection closes and whose will (QoS 1, payload id)
// goes to topic after delay seconds.
func connectWithWill(t testing.TB, addr, id string, expiry, delay uint32, topic string) *testutil.Raw {
	t.Helper()
	c := testutil.DialRaw(t, addr, packet.V5)
	cp := &packet.Connect{ClientID: id, CleanStart: true, KeepAlive: 60,
		WillFlag: true, WillQoS: 1, WillTopic: topic, WillPayload: []byte(id)}
	cp.Props.SessionExpiry = expiry
	cp.Props.Set(packet.PropSessionExpiry)
	cp.WillProps.WillDelay = delay
	cp.WillProps.Set(packet.PropWillDelay)
	if ack := c.Connect(cp); ack.ReasonCode != packet.Success {
		t.Fatalf("connect %q: %v", id, ack.ReasonCode)
	}
	return c
}

// watchV5 connects a persistent v5 session subscribed to filter at QoS 1.
func watchV5(t testing.TB, addr, id, filter string) *testutil.V5 {
	t.Helper()
	c, _ := testutil.ConnectV5(t, addr, v5Persistent(id, true))
	sa, err := c.Subscribe(testutil.Ctx(t), &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 1}}})
	if err != nil || sa.Reasons[0] != 1 {
		t.Fatalf("subscribe %s: %v %+v", id, err, sa)
	}
	return c
}

// TestRestartPendingWill: a restart is not the end of a persistent
// session's connection from the will's point of view: the broker does not
// publish wills while it shuts down; after the restart, the will of a client
// that does not come back within its Will Delay Interval is published
// [MQTT-3.1.2-8], and that of one that comes back is not [MQTT-3.1.3-9].
func TestRestartPendingWill(t *testing.T) {
	const delay = 3 * time.Second
	s := testutil.RunServer(t)
	watchV5(t, s.TCP(), "watch", "will/#")
	connectWithWill(t, s.TCP(), "gone", 60, uint32(delay/time.Second), "will/gone")
	connectWithWill(t, s.TCP(), "back", 60, uint32(delay/time.Second), "will/back")

	stopped := time.Now()
	s = s.Restart(t)
	if _, ack := connectRaw(t, s.TCP(), packet.V5, "back", false, 60); !ack.SessionPresent {
		t.Fatalf("session of %q not present after restart", "back")
	}
	// "back" returned within the delay, unless the restart took that long
	// on a busy machine (then its will may be published: right too).
	backInTime := testutil.InTime(t, stopped, delay, `no will for "back"`)
	w, ack := testutil.ConnectV5(t, s.TCP(), v5Persistent("watch", false))
	if !ack.SessionPresent {
		t.Fatalf("watcher session not present after restart")
	}
	m := w.Next(t)
	if !backInTime && m.Topic == "will/back" {
		m = w.Next(t)
	}
	if m.Topic != "will/gone" || string(m.Payload) != "gone" {
		t.Fatalf("got %s %q, want the will of %q", m.Topic, m.Payload, "gone")
	}
	if waited := time.Since(stopped); waited < delay {
		t.Fatalf("will published %v after the shutdown, before its delay of %v", waited, delay)
	}
	if backInTime {
		w.None(t, 500*time.Millisecond) // "back" came back: no will
	}
}

// TestRestartTimersWhileDown: time passes while the node is down. A will
// whose delay ended meanwhile is published at the start [MQTT-3.1.2-8]; a
// session whose expiry passed meanwhile is gone with its inflight message,
// and its will, whose delay is longer than the session, is published as the
// session ends [MQTT-3.1.3-9]. Persistent watchers restored after the wills'
// clients (their ids sort after them in the store) get both wills, once.
// A queued message whose expiry passed meanwhile is not delivered; one
// that has time left is, with the time left [MQTT-3.3.2-5, MQTT-3.3.2-6].
func TestRestartTimersWhileDown(t *testing.T) {
	s := testutil.RunServer(t)
	const watchers = 8
	for i := range watchers {
		watchV5(t, s.TCP(), fmt.Sprintf("watcher-%02d", i), "will/#")
	}
	persistentV5(t, s.TCP(), "mx", "mexp/#", 1)
	short, long := uint32(1), uint32(3600) // long outlives any stall of a busy machine
	publishV5(t, s.TCP(), &paho.Publish{Topic: "mexp/short", QoS: 1, Payload: []byte("s"), Properties: &paho.PublishProperties{MessageExpiry: &short}})
	publishV5(t, s.TCP(), &paho.Publish{Topic: "mexp/long", QoS: 1, Payload: []byte("l"), Properties: &paho.PublishProperties{MessageExpiry: &long}})
	connectWithWill(t, s.TCP(), "w", 60, 1, "will/delayed") // will after 1 s, session for 60 s
	expirer := connectWithWill(t, s.TCP(), "x", 1, 30, "will/expired")
	subscribeRaw(t, expirer, "exp/#", 1)
	publishQoS1(t, s.TCP(), "exp/1", "inflight when the session ends")
	expectPublish(t, expirer, "exp/1", 1, false)

	stopped := time.Now()
	s.Stop(t)
	time.Sleep(time.Until(stopped.Add(1500 * time.Millisecond))) // the node is down: nothing to poll
	s = testutil.Start(t, s.Config)

	for i := range watchers {
		w, _ := testutil.ConnectV5(t, s.TCP(), v5Persistent(fmt.Sprintf("watcher-%02d", i), false))
		if got := receiveFor(w, 2, testutil.Timeout); len(got) != 2 || got["will/delayed"] != "w" || got["will/expired"] != "x" {
			t.Fatalf("watcher %d got %v, want the wills of w and x", i, got)
		}
	}
	x, ack := connectRaw(t, s.TCP(), packet.V5, "x", false, 1)
	if ack.SessionPresent { // [MQTT-3.2.2-3]
		t.Fatalf("expired session present after restart")
	}
	expectNothing(t, x, 300*time.Millisecond)
	if _, ack := connectRaw(t, s.TCP(), packet.V5, "w", false, 60); !ack.SessionPresent {
		t.Fatalf("session of %q (expiry 60 s) not present after restart", "w")
	}
	mx, _ := connectRaw(t, s.TCP(), packet.V5, "mx", false, 3600)
	p := expectPublish(t, mx, "mexp/long", 1, false)
	if left := p.Props.MessageExpiry; !p.Props.Has(packet.PropMessageExpiry) || left >= long || left < 1 {
		t.Fatalf("mexp/long delivered with Message Expiry Interval %d (present %v), want the time left", left, p.Props.Has(packet.PropMessageExpiry))
	}
	ackPublish(t, mx, p)
	expectNothing(t, mx, 300*time.Millisecond) // mexp/short expired while the node was down
}

// receiveFor collects up to n messages of c, topic -> payload, for at most d.
func receiveFor(c *testutil.V5, n int, d time.Duration) map[string]string {
	got := map[string]string{}
	deadline := time.After(d)
	for len(got) < n {
		select {
		case m := <-c.Msgs:
			got[m.Topic] += string(m.Payload)
		case <-deadline:
			return got
		}
	}
	return got
}
