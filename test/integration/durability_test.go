package integration

import (
	"os"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// durabilityMessages is how many messages the async/off tests publish.
const durabilityMessages = 500

// TestDurabilityAsyncCleanShutdown: with durability = async the broker
// acknowledges before fsync; the documented promise is that acknowledged
// messages survive a clean shutdown (SIGTERM), which fsyncs the store. The
// persistent session keeps its queue [MQTT-3.1.2-23] and a retained message
// stays [MQTT-3.3.1-5].
func TestDurabilityAsyncCleanShutdown(t *testing.T) {
	n := startNode(t, t.TempDir(), "durability=async", "mqtt.max_mqueue_len=infinity")
	persistentV5(t, n.Addr(), "asub", "t/#", 1)
	pub, _ := connectRaw(t, n.Addr(), packet.V5, "apub", true, 0)
	st := durStartStream(pub, streamConfig{QoS: 1, Total: durabilityMessages, Window: crashWindow}, durabilityMessages)
	if err := st.Wait(t, 30*time.Second); err != nil || st.AckCount() != durabilityMessages {
		t.Fatalf("stream: %d acks, %v", st.AckCount(), err)
	}
	publishRetained(t, n.Addr(), "keep/a", "A")
	n.Stop()

	n.Restart()
	sub, ack := testutil.ConnectV5(t, n.Addr(), v5Persistent("asub", false))
	if !ack.SessionPresent { // [MQTT-3.2.2-3]
		t.Fatalf("session not present after a clean restart")
	}
	awaitV5Seqs(t, sub, st.Acked())
	if got := retainedSnapshot(t, n.Addr(), "keep/#"); len(got) != 1 || got["keep/a"] != "A" {
		t.Fatalf("retained after restart: %v", got)
	}
}

// TestDurabilityOff: with durability = off nothing is written to disk and
// nothing survives a restart, but persistent sessions and retained messages
// work in memory while the node runs.
func TestDurabilityOff(t *testing.T) {
	n := startNode(t, t.TempDir(), "durability=off", "mqtt.max_mqueue_len=infinity")
	persistentV5(t, n.Addr(), "osub", "t/#", 1)
	pub, _ := connectRaw(t, n.Addr(), packet.V5, "opub", true, 0)
	st := durStartStream(pub, streamConfig{QoS: 1, Total: durabilityMessages, Window: crashWindow}, durabilityMessages)
	if err := st.Wait(t, 30*time.Second); err != nil || st.AckCount() != durabilityMessages {
		t.Fatalf("stream: %d acks, %v", st.AckCount(), err)
	}
	publishRetained(t, n.Addr(), "keep/a", "A")

	// In memory: the offline session queued everything [MQTT-3.1.2-23].
	sub, ack := testutil.ConnectV5(t, n.Addr(), v5Persistent("osub", false))
	if !ack.SessionPresent { // [MQTT-3.2.2-3]
		t.Fatalf("session not present while the node runs")
	}
	awaitV5Seqs(t, sub, st.Acked())
	if got := retainedSnapshot(t, n.Addr(), "keep/#"); got["keep/a"] != "A" {
		t.Fatalf("retained in memory: %v", got)
	}
	if err := sub.Disconnect(&paho.Disconnect{ReasonCode: 0}); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	publishQoS1(t, n.Addr(), "t/late", "queued in memory only")
	n.Stop()
	if _, err := os.Stat(n.storeDir()); !os.IsNotExist(err) {
		t.Fatalf("durability=off created a store (%v)", err)
	}

	n.Restart()
	sub, ack = testutil.ConnectV5(t, n.Addr(), v5Persistent("osub", false))
	if ack.SessionPresent { // nothing was kept [MQTT-3.2.2-3]
		t.Fatalf("session present after a restart with durability=off")
	}
	sub.None(t, 300*time.Millisecond)
	if got := retainedSnapshot(t, n.Addr(), "keep/#"); len(got) != 0 {
		t.Fatalf("retained messages survived with durability=off: %v", got)
	}
}

// publishRetained publishes a retained QoS 1 message and waits for its PUBACK.
func publishRetained(t testing.TB, addr, topic, payload string) {
	t.Helper()
	publishV5(t, addr, &paho.Publish{Topic: topic, QoS: 1, Retain: true, Payload: []byte(payload)})
}

// publishQoS1 publishes a QoS 1 message and waits for its PUBACK.
func publishQoS1(t testing.TB, addr, topic, payload string) {
	t.Helper()
	publishV5(t, addr, &paho.Publish{Topic: topic, QoS: 1, Payload: []byte(payload)})
}

// publishV5 publishes p from a new clean v5 client and fails unless the
// acknowledgement is a success (0x10 No matching subscribers included).
func publishV5(t testing.TB, addr string, p *paho.Publish) {
	t.Helper()
	c, _ := testutil.ConnectV5(t, addr, &paho.Connect{ClientID: "", CleanStart: true, KeepAlive: 60})
	resp, err := c.Publish(testutil.Ctx(t), p)
	if err != nil || (resp != nil && resp.ReasonCode >= 0x80) {
		t.Fatalf("publish %s: %v %+v", p.Topic, err, resp)
	}
	_ = c.Disconnect(&paho.Disconnect{ReasonCode: 0})
}
