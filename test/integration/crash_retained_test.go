package integration

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

const (
	retainTopics = 200 // a retained stream cycles over this many topics
	retainDelete = 7   // every seq with seq%retainDelete == 3 deletes its topic's message
)

// retainedOp is what seq does in a retained stream: set "r/<seq%200>" to
// the seq, or delete it with an empty payload.
func retainedOp(seq int) (string, []byte) {
	topic := "r/" + strconv.Itoa(seq%retainTopics)
	if seq%retainDelete == 3 {
		return topic, nil // [MQTT-3.3.1-6] an empty retained payload deletes
	}
	return topic, seqPayload(seq)
}

// TestCrashRetained publishes retained messages (QoS 1, distinct topics,
// replaced and deleted) and kills the broker mid-stream: after the restart
// each topic holds the state of its last acknowledged publish, or of a
// later one that was sent but whose PUBACK the kill cut off
// [MQTT-3.3.1-5, MQTT-3.3.1-6].
func TestCrashRetained(t *testing.T) {
	n := startNode(t, t.TempDir(), crashSets...)
	pub, _ := connectRaw(t, n.Addr(), packet.V5, "rpub", true, 0)
	st := durStartStream(pub, streamConfig{QoS: 1, Total: crashTotal, Window: crashWindow, Retain: true, Msg: retainedOp}, crashKillAt)
	st.WaitAcked(t, 60*time.Second)
	n.Kill()
	st.Wait(t, 30*time.Second)
	allowed := allowedRetained(st.Acked(), st.Sent())

	n.Restart()
	got := retainedSnapshot(t, n.Addr(), "r/#")
	checkRetained(t, got, allowed)
	t.Logf("%d retained messages after the restart, %d publishes acknowledged", len(got), len(st.Acked()))
}

// allowedRetained returns, per topic, the states ("" = none) the store may
// hold: that of the last acknowledged publish (none when there is none) and
// those of the publishes sent after it.
func allowedRetained(acked, sent []int) map[string][]string {
	last := map[string]int{}
	for _, seq := range acked {
		topic, _ := retainedOp(seq)
		last[topic] = seq
	}
	allowed := map[string][]string{}
	for i := range retainTopics {
		topic := "r/" + strconv.Itoa(i)
		if seq, ok := last[topic]; ok {
			_, p := retainedOp(seq)
			allowed[topic] = []string{string(p)}
		} else {
			allowed[topic] = []string{""}
		}
	}
	for _, seq := range sent {
		topic, p := retainedOp(seq)
		if l, ok := last[topic]; !ok || seq > l {
			allowed[topic] = append(allowed[topic], string(p))
		}
	}
	return allowed
}

// checkRetained compares the retained messages found with the allowed states.
func checkRetained(t testing.TB, got map[string]string, allowed map[string][]string) {
	t.Helper()
	for topic, states := range allowed {
		if !slices.Contains(states, got[topic]) {
			t.Errorf("retained %s = %q, want one of %q", topic, got[topic], states)
		}
	}
	for topic := range got {
		if _, ok := allowed[topic]; !ok {
			t.Errorf("unexpected retained message on %s", topic)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// retainedSnapshot returns the payloads of the retained messages matching
// filter, by topic.
func retainedSnapshot(t testing.TB, addr, filter string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for topic, p := range retainedPackets(t, addr, filter) {
		got[topic] = string(p.Payload)
	}
	return got
}

// retainedPackets subscribes a new client to filter at QoS 0 and returns
// every retained message the broker sends for it, by topic. A PINGREQ sent
// after the SUBSCRIBE marks the end: the broker writes the retained messages
// of a subscription before it handles the next packet.
func retainedPackets(t testing.TB, addr, filter string) map[string]*packet.Publish {
	t.Helper()
	c, _ := connectRaw(t, addr, packet.V5, "snapshot", true, 0)
	c.Send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: filter}}})
	c.Send(&packet.Pingreq{})
	c.Expect(packet.SUBACK)
	got := map[string]*packet.Publish{}
	for {
		p, err := c.Read(testutil.Timeout)
		if err != nil {
			t.Fatalf("reading retained messages: %v (after %d)", err, len(got))
		}
		switch p := p.(type) {
		case *packet.Pingresp:
			_ = c.Conn.Close()
			return got
		case *packet.Publish:
			if !p.Retain { // [MQTT-3.3.1-9]
				t.Fatalf("retained message on %s without RETAIN", p.Topic)
			}
			if _, dup := got[string(p.Topic)]; dup {
				t.Fatalf("two retained messages on %s", p.Topic)
			}
			got[string(p.Topic)] = p
		default:
			t.Fatalf("unexpected %v", fmt.Sprint(p.Type()))
		}
	}
}
