package integration

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	mqtt3 "github.com/eclipse/paho.mqtt.golang"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// The crash tests check Herald's headline promise with durability = sync:
// once a publisher holds its PUBACK (QoS 1) or PUBREC (QoS 2), the message
// reaches every persistent session that subscribed to it, even when the
// broker is killed with SIGKILL right after. The acknowledgement means the
// broker has taken ownership of the message [MQTT-4.3.2-4, MQTT-4.3.3-8],
// and a persistent session keeps its pending messages across connections
// [MQTT-3.1.2-23] (v5) and [MQTT-3.1.2-4] (3.1.1, Clean Session 0).

const (
	crashTotal  = 6000 // messages a stream would publish if not interrupted
	crashKillAt = 2000 // acknowledgements before SIGKILL
	crashWindow = 16   // publisher's messages in flight
)

// crashSets are the settings of every crash node: no queue bound, so that
// nothing acknowledged is dropped for room.
var crashSets = []string{"mqtt.max_mqueue_len=infinity"}

func TestCrashQoS1OfflineSessions(t *testing.T) { crashOffline(t, 1) }

func TestCrashQoS2OfflineSessions(t *testing.T) { crashOffline(t, 2) }

// crashOffline: a v5 session (expiry 3600) and a 3.1.1 session (Clean
// Session 0) subscribe to t/# and go offline; a publisher streams with
// several messages in flight; the broker is killed mid-stream and restarted
// on the same data dir; both sessions must then receive every acknowledged
// seq (duplicates allowed, none lost).
func crashOffline(t *testing.T, qos byte) {
	n := startNode(t, t.TempDir(), crashSets...)
	persistentV5(t, n.Addr(), "sub5", "t/#", qos)
	persistentV3(t, n.Addr(), "sub3", "t/#", qos)

	pub, _ := connectRaw(t, n.Addr(), packet.V5, "pub", true, 0)
	st := durStartStream(pub, streamConfig{QoS: qos, Total: crashTotal, Window: crashWindow}, crashKillAt)
	st.WaitAcked(t, 60*time.Second)
	n.Kill()
	st.Wait(t, 30*time.Second)
	acked := st.Acked()
	t.Logf("%d of %d sent acknowledged before SIGKILL", len(acked), len(st.Sent()))

	n.Restart()
	sub5, ack := testutil.ConnectV5(t, n.Addr(), v5Persistent("sub5", false))
	if !ack.SessionPresent { // [MQTT-3.2.2-3]
		t.Fatalf("v5 session not present after the crash")
	}
	sub3 := testutil.ConnectV3(t, n.Addr(), "sub3", func(o *mqtt3.ClientOptions) { o.SetCleanSession(false) })
	awaitV5Seqs(t, sub5, acked)
	awaitV3Seqs(t, sub3, acked)
}

// v5Persistent is a CONNECT for a session that expires an hour after its
// connection closes.
func v5Persistent(id string, clean bool) *paho.Connect {
	expiry := uint32(3600)
	return &paho.Connect{ClientID: id, CleanStart: clean, KeepAlive: 60,
		Properties: &paho.ConnectProperties{SessionExpiryInterval: &expiry}}
}

// persistentV5 creates a v5 persistent session (expiry 3600) subscribed to
// filter and disconnects it normally. It returns once the broker has closed
// the connection: the session is offline from then on.
func persistentV5(t testing.TB, addr, id, filter string, qos byte) {
	t.Helper()
	c, _ := connectRaw(t, addr, packet.V5, id, true, 3600)
	subscribeRaw(t, c, filter, qos)
	disconnectRaw(t, c)
}

// persistentV3 creates a 3.1.1 Clean Session 0 session, kept after the
// connection [MQTT-3.1.2-4], subscribed to filter, and disconnects it.
func persistentV3(t testing.TB, addr, id, filter string, qos byte) {
	t.Helper()
	c, _ := connectRaw(t, addr, packet.V311, id, false, 0)
	subscribeRaw(t, c, filter, qos)
	disconnectRaw(t, c)
}

// disconnectRaw sends DISCONNECT and waits for the broker to close the
// connection, which it does with the session lock held, after the session
// is offline.
func disconnectRaw(t testing.TB, c *testutil.Raw) {
	t.Helper()
	c.Send(&packet.Disconnect{})
	if got := c.ExpectClosed(testutil.Timeout); len(got) != 0 {
		t.Fatalf("after DISCONNECT got %+v", got)
	}
}

// awaitV5Seqs reads c's messages until every seq of want has arrived and
// returns the count of every seq received.
func awaitV5Seqs(t testing.TB, c *testutil.V5, want []int) map[int]int {
	t.Helper()
	return awaitSeqs(t, "v5 session", want, func(idle <-chan time.Time) ([]byte, bool) {
		select {
		case m := <-c.Msgs:
			return m.Payload, true
		case <-idle:
			return nil, false
		}
	})
}

// awaitV3Seqs reads c's messages until every seq of want has arrived.
func awaitV3Seqs(t testing.TB, c *testutil.V3, want []int) {
	t.Helper()
	awaitSeqs(t, "3.1.1 session", want, func(idle <-chan time.Time) ([]byte, bool) {
		select {
		case m := <-c.Msgs:
			return m.Payload(), true
		case <-idle:
			return nil, false
		}
	})
}

// awaitIdle is how long a receiver may wait for the next message before the
// messages it still misses count as lost.
const awaitIdle = 30 * time.Second

// awaitSeqs calls next for payloads until every seq of want has arrived; it
// fails when next reports that nothing came for awaitIdle.
func awaitSeqs(t testing.TB, label string, want []int, next func(idle <-chan time.Time) ([]byte, bool)) map[int]int {
	t.Helper()
	got := map[int]int{}
	for left := len(want); left > 0; {
		p, ok := next(time.After(awaitIdle))
		if !ok {
			lost := missing(want, got)
			t.Fatalf("%s: %d of %d acknowledged messages lost: %s", label, len(lost), len(want), firstFew(lost))
		}
		seq := payloadSeq(t, p)
		if got[seq]++; got[seq] == 1 && contains(want, seq) {
			left--
		}
	}
	return got
}

// contains reports whether sorted holds seq.
func contains(sorted []int, seq int) bool {
	_, ok := slices.BinarySearch(sorted, seq)
	return ok
}

func TestCrashQoS1OnlineSlowSubscriber(t *testing.T) { crashOnline(t, 1) }

func TestCrashQoS2OnlineSlowSubscriber(t *testing.T) { crashOnline(t, 2) }

// crashOnline: the persistent session is connected during the stream,
// acknowledges (PUBACK, or PUBREC for QoS 2) the first crashSubAcks
// messages and then stops, so the broker holds a growing queue behind its
// full inflight window when it is killed, however fast or slow the machine. After the
// restart, every message acknowledged to the publisher and not yet
// acknowledged by the subscriber is delivered again [MQTT-4.4.0-1].
// (Duplicates are allowed: the progress of an outbound flow, such as a
// PUBREC received, becomes durable with the next ack barrier, so a SIGKILL
// may send a PUBLISH again where a graceful restart sends the PUBREL.)
func crashOnline(t *testing.T, qos byte) {
	n := startNode(t, t.TempDir(), crashSets...)
	sub, _ := connectRaw(t, n.Addr(), packet.V5, "slow", true, 3600)
	subscribeRaw(t, sub, "t/#", qos)
	slow := startSlowSubscriber(sub, crashSubAcks)

	pub, _ := connectRaw(t, n.Addr(), packet.V5, "pub", true, 0)
	st := durStartStream(pub, streamConfig{QoS: qos, Total: crashTotal, Window: crashWindow}, crashKillAt)
	st.WaitAcked(t, 60*time.Second)
	n.Kill()
	st.Wait(t, 30*time.Second)
	subAcked := slow.Wait(t)
	acked := st.Acked()
	var want []int
	for _, seq := range acked {
		if subAcked[seq] == 0 {
			want = append(want, seq)
		}
	}
	t.Logf("%d acknowledged to the publisher, %d of them acknowledged by the subscriber before SIGKILL", len(acked), len(acked)-len(want))
	if len(want) < crashKillAt/2 {
		t.Fatalf("the subscriber kept up (%d unacknowledged): no backlog was tested", len(want))
	}

	n.Restart()
	again, ack := connectRaw(t, n.Addr(), packet.V5, "slow", false, 3600)
	if !ack.SessionPresent {
		t.Fatalf("session not present after the crash") // [MQTT-3.2.2-3]
	}
	got := receiveSeqs(t, again, want)
	t.Logf("%d messages delivered after the restart", len(got))
}

// ackType is a subscriber's first acknowledgement of a PUBLISH by QoS.
var ackType = [3]packet.Type{1: packet.PUBACK, 2: packet.PUBREC}

// crashSubAcks is how many messages the online subscriber of crashOnline
// acknowledges before it stops.
const crashSubAcks = 100

// slowSubscriber reads PUBLISH packets and acknowledges the first n of
// them, recording the seqs whose PUBACK (QoS 1) or PUBREC (QoS 2) it wrote;
// it completes QoS 2 flows with PUBCOMP at once.
type slowSubscriber struct {
	done  chan struct{}
	acked map[int]int
	err   error
}

func startSlowSubscriber(c *testutil.Raw, n int) *slowSubscriber {
	s := &slowSubscriber{done: make(chan struct{}), acked: map[int]int{}}
	go func() {
		defer close(s.done)
		for {
			p, err := c.Read(30 * time.Second)
			if err != nil {
				return
			}
			if a, ok := p.(*packet.Ack); ok && a.PacketType == packet.PUBREL {
				if sendPacket(c.Conn, c.Version, &packet.Ack{PacketType: packet.PUBCOMP, PacketID: a.PacketID}) != nil {
					return
				}
				continue
			}
			pub, ok := p.(*packet.Publish)
			if !ok {
				s.err = fmt.Errorf("unexpected %v", p.Type())
				return
			}
			seq, err := strconv.Atoi(string(pub.Payload))
			if err != nil {
				s.err = fmt.Errorf("payload %q", pub.Payload)
				return
			}
			if len(s.acked) >= n {
				continue // the broker's window fills, the rest queues
			}
			if sendPacket(c.Conn, c.Version, &packet.Ack{PacketType: ackType[pub.QoS], PacketID: pub.PacketID}) != nil {
				return
			}
			s.acked[seq]++
		}
	}()
	return s
}

// Wait waits for the subscriber's connection to end and returns the seqs it
// acknowledged.
func (s *slowSubscriber) Wait(t testing.TB) map[int]int {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(40 * time.Second):
		t.Fatalf("slow subscriber still reading")
	}
	if s.err != nil {
		t.Fatalf("slow subscriber: %v", s.err)
	}
	return s.acked
}

// receiveSeqs acknowledges every PUBLISH c receives until each seq of want
// has arrived, and returns the count of every seq received.
func receiveSeqs(t testing.TB, c *testutil.Raw, want []int) map[int]int {
	t.Helper()
	return awaitSeqs(t, "raw session", want, func(<-chan time.Time) ([]byte, bool) {
		for {
			p, err := c.Read(awaitIdle)
			if err != nil {
				return nil, false
			}
			if pub, ok := p.(*packet.Publish); ok {
				ackPublish(t, c, pub)
				return pub.Payload, true
			}
			ackRel(t, c, p)
		}
	})
}

// ackRel answers a PUBREL with PUBCOMP [MQTT-4.3.3-11]; any other packet
// fails the test.
func ackRel(t testing.TB, c *testutil.Raw, p packet.Packet) {
	t.Helper()
	if a, ok := p.(*packet.Ack); ok && a.PacketType == packet.PUBREL {
		c.Send(&packet.Ack{PacketType: packet.PUBCOMP, PacketID: a.PacketID})
		return
	}
	t.Fatalf("unexpected %v %+v", p.Type(), p)
}

// ackPublish completes the receiver's side of a QoS 1 or 2 delivery (QoS 2
// up to PUBREC; the PUBREL that follows is answered by ackRel).
func ackPublish(t testing.TB, c *testutil.Raw, p *packet.Publish) {
	t.Helper()
	switch p.QoS {
	case 1:
		c.Send(&packet.Ack{PacketType: packet.PUBACK, PacketID: p.PacketID})
	case 2:
		c.Send(&packet.Ack{PacketType: packet.PUBREC, PacketID: p.PacketID})
	}
}
