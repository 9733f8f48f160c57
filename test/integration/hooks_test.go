package integration

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// psRecorder is a hook at every hook point that records each call as a
// line of text; the optional functions change what it answers.
type psRecorder struct {
	mu     sync.Mutex
	events []string

	refuse    func(id string) error                              // OnConnect's answer
	rewrite   func(m *broker.Message) *broker.Message            // OnPublish's answer
	authorize func(act broker.Action, topic string) (bool, bool) // override, ok
}

func (r *psRecorder) Name() string { return "ps-recorder" }

func (r *psRecorder) add(format string, args ...any) {
	r.mu.Lock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *psRecorder) OnConnect(c *broker.ClientInfo, p *packet.Connect) error {
	r.add("connect %s user=%s v%d", c.ClientID, c.Username, p.ProtocolVersion)
	if r.refuse != nil {
		return r.refuse(c.ClientID)
	}
	return nil
}

func (r *psRecorder) OnAuthenticate(c *broker.ClientInfo, err error) {
	r.add("authenticate %s ok=%v", c.ClientID, err == nil)
}

func (r *psRecorder) OnConnack(c *broker.ClientInfo, rc packet.ReasonCode) {
	r.add("connack %s 0x%02x", c.ClientID, byte(rc))
}

func (r *psRecorder) OnConnected(c *broker.ClientInfo) {
	r.add("connected %s %s", c.ClientID, c.Listener)
}

func (r *psRecorder) OnDisconnected(c *broker.ClientInfo, reason error) {
	r.add("disconnected %s normal=%v", c.ClientID, reason == nil)
}

func (r *psRecorder) OnAuthorize(c *broker.ClientInfo, act broker.Action, topic string, allowed bool) bool {
	name := map[broker.Action]string{broker.ActionPublish: "publish", broker.ActionSubscribe: "subscribe"}[act]
	r.add("authorize %s %s %s %v", c.ClientID, name, topic, allowed)
	if r.authorize != nil {
		if v, ok := r.authorize(act, topic); ok {
			return v
		}
	}
	return allowed
}

func (r *psRecorder) OnSession(id string, ev broker.SessionEvent) {
	name := map[broker.SessionEvent]string{broker.SessionCreated: "created", broker.SessionResumed: "resumed",
		broker.SessionTakenOver: "takenover", broker.SessionTerminated: "terminated", broker.SessionDiscarded: "discarded"}[ev]
	r.add("session %s %s", id, name)
}

func (r *psRecorder) OnPublish(c *broker.ClientInfo, m *broker.Message) *broker.Message {
	from := "-"
	if c != nil {
		from = c.ClientID
	}
	r.add("publish %s %s %s q%d", from, m.Topic, m.Payload, m.QoS)
	if r.rewrite != nil {
		return r.rewrite(m)
	}
	return m
}

func (r *psRecorder) OnDelivered(id string, m *broker.Message) {
	r.add("delivered %s %s %s", id, m.Topic, m.Payload)
}

func (r *psRecorder) OnAcked(id string, m *broker.Message) {
	r.add("acked %s %s %s", id, m.Topic, m.Payload)
}

func (r *psRecorder) OnDropped(id string, m *broker.Message, why broker.DropReason) {
	r.add("dropped %s %s %s %s", id, m.Topic, m.Payload, why)
}

// psHook registers a new recorder on the node.
func psHook(s *testutil.Server) *psRecorder {
	r := &psRecorder{}
	s.Broker().Hooks().Add(r)
	return r
}

// wait polls until want appears, in this order, among the recorded events
// (other events may come in between).
func (r *psRecorder) wait(t *testing.T, want ...string) {
	t.Helper()
	testutil.Eventually(t, testutil.Timeout, func() error {
		r.mu.Lock()
		defer r.mu.Unlock()
		i := 0
		for _, ev := range r.events {
			if i < len(want) && ev == want[i] {
				i++
			}
		}
		if i < len(want) {
			return fmt.Errorf("missing %q; recorded:\n  %s", want[i], strings.Join(r.events, "\n  "))
		}
		return nil
	})
}

// never fails if an event starting with prefix was recorded.
func (r *psRecorder) never(t *testing.T, prefix string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if i := slices.IndexFunc(r.events, func(ev string) bool { return strings.HasPrefix(ev, prefix) }); i >= 0 {
		t.Fatalf("unexpected event %q", r.events[i])
	}
}

// TestHooksConnectLifecycle: a connection runs the connect, authenticate,
// session, connack, connected and disconnected hooks in that order, with
// the client's identity; a clean session ends as terminated.
func TestHooksConnectLifecycle(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	r := psHook(s)
	c := psV5(t, s.TCP(), "life", func(cp *paho.Connect) { cp.Username, cp.UsernameFlag = "bob", true })
	if err := c.Disconnect(&paho.Disconnect{}); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	r.wait(t, "connect life user=bob v5", "authenticate life ok=true", "session life created", "connack life 0x00",
		"connected life tcp:default", "session life terminated", "disconnected life normal=true")
	v3 := testutil.ConnectV3(t, s.TCP(), "life3")
	v3.Disconnect(50)
	r.wait(t, "connect life3 user= v4", "connack life3 0x00", "connected life3 tcp:default", "disconnected life3 normal=true")
}

// TestHooksConnectRefused: a ConnectHook error wrapping a reason code
// refuses the CONNECT with that code; a failed authentication reaches the
// authenticate hook, and the refusing CONNACK the connack hook; neither
// connects the client.
func TestHooksConnectRefused(t *testing.T) {
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) {
		c.Authentication.AllowAnonymous = false
		c.Authentication.Users = []config.User{{Username: "ok", PasswordHash: "secret", Algorithm: "plain", SaltPosition: "prefix"}}
	})
	r := psHook(s)
	r.refuse = func(id string) error {
		if id == "banned" {
			return fmt.Errorf("refused by hook: %w", packet.Banned)
		}
		return nil
	}
	c := testutil.DialRaw(t, s.TCP(), packet.V5)
	if ack := c.Connect(&packet.Connect{ClientID: "banned", CleanStart: true, Username: "ok", Password: []byte("secret")}); ack.ReasonCode != packet.Banned {
		t.Fatalf("CONNACK %v, want 0x8A", ack.ReasonCode)
	}
	c = testutil.DialRaw(t, s.TCP(), packet.V5)
	if ack := c.Connect(&packet.Connect{ClientID: "badpw", CleanStart: true, Username: "ok", Password: []byte("wrong")}); ack.ReasonCode != packet.BadUsernameOrPassword {
		t.Fatalf("CONNACK %v, want 0x86", ack.ReasonCode)
	}
	psRaw(t, s.TCP(), packet.V5, "good", func(p *packet.Connect) { p.Username, p.Password = "ok", []byte("secret") })
	r.wait(t, "connect banned user=ok v5", "connack banned 0x8a")
	r.wait(t, "connect badpw user=ok v5", "authenticate badpw ok=false", "connack badpw 0x86")
	r.wait(t, "connect good user=ok v5", "authenticate good ok=true", "connected good tcp:default")
	r.never(t, "connected banned")
	r.never(t, "connected badpw")
}

// TestHooksSessionEvents: resuming a persistent session, taking over a
// live connection [MQTT-3.1.4-3] and discarding a session with Clean Start
// [MQTT-3.1.2-4] each reach the session hook.
func TestHooksSessionEvents(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	r := psHook(s)
	keep := psSessionExpiry(60)
	c, _ := psRaw(t, s.TCP(), packet.V5, "sess", keep)
	c.Send(&packet.Disconnect{})
	c.ExpectClosed(testutil.Timeout)
	first, _ := psRaw(t, s.TCP(), packet.V5, "sess", keep, func(p *packet.Connect) { p.CleanStart = false })
	psRaw(t, s.TCP(), packet.V5, "sess", keep, func(p *packet.Connect) { p.CleanStart = false })
	psExpectDisconnect(t, first, packet.SessionTakenOver)
	psRaw(t, s.TCP(), packet.V5, "sess", keep)
	r.wait(t, "session sess created", "session sess resumed", "session sess takenover", "session sess resumed",
		"session sess takenover", "session sess discarded", "session sess created")
	r.wait(t, "disconnected sess normal=false")
}

// TestHooksPublishFlow: subscribing and publishing are authorized through
// the authorize hook; a published message reaches the publish hook with its
// publisher, then delivered and (QoS 1, once the subscriber acknowledges)
// acked hooks with the subscriber's id.
func TestHooksPublishFlow(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	r := psHook(s)
	sub := psV5(t, s.TCP(), "sub")
	psSub(t, sub, paho.SubscribeOptions{Topic: "hp/#", QoS: 1})
	pub := psV5(t, s.TCP(), "pub")
	psPub(t, pub, "hp/1", 1, "one")
	psPub(t, pub, "hp/0", 0, "zero")
	psExpectMsg(t, sub, "hp/1", "one")
	psExpectMsg(t, sub, "hp/0", "zero")
	s.Broker().Publish(&broker.Message{Topic: "hp/api", Payload: []byte("api")})
	psExpectMsg(t, sub, "hp/api", "api")
	r.wait(t, "authorize sub subscribe hp/# true", "authorize pub publish hp/1 true", "publish pub hp/1 one q1",
		"delivered sub hp/1 one", "acked sub hp/1 one")
	r.wait(t, "publish pub hp/1 one q1", "publish pub hp/0 zero q0", "delivered sub hp/0 zero",
		"publish - hp/api api q0", "delivered sub hp/api api")
}

// TestHooksAuthorizeOverride: an authorize hook's answer overrides the
// authorizer's: a denied publish gets PUBACK 0x87 and is not routed, a
// denied subscription SUBACK 0x87.
func TestHooksAuthorizeOverride(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	r := psHook(s)
	r.authorize = func(_ broker.Action, topic string) (bool, bool) { return false, strings.HasPrefix(topic, "secret/") }
	c, _ := psRaw(t, s.TCP(), packet.V5, "az")
	if sa := psRawSub(t, c, 1, 0, packet.Subscription{Filter: "secret/#"}, packet.Subscription{Filter: "open/#"}); sa.ReasonCodes[0] != packet.NotAuthorized || sa.ReasonCodes[1] != 0 {
		t.Fatalf("SUBACK %v", sa.ReasonCodes)
	}
	psRawPub(c, "secret/x", 1, 2, "x")
	if a := psExpectAck(t, c, packet.PUBACK, 2); a.ReasonCode != packet.NotAuthorized {
		t.Fatalf("PUBACK %v, want 0x87", a.ReasonCode)
	}
	r.wait(t, "authorize az subscribe secret/# true", "authorize az publish secret/x true")
	r.never(t, "publish az secret/x")
}

// TestHooksPublishRewriteAndDrop: a publish hook may replace the message
// (subscribers get the replacement) or drop it (nobody gets it, and the
// dropped hook says why).
func TestHooksPublishRewriteAndDrop(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	r := psHook(s)
	r.rewrite = func(m *broker.Message) *broker.Message {
		switch m.Topic {
		case "rw/drop":
			return nil
		case "rw/change":
			cp := *m
			cp.Topic, cp.Payload = "rw/changed", []byte("rewritten")
			return &cp
		}
		return m
	}
	sub := psV5(t, s.TCP(), "sub")
	psSub(t, sub, paho.SubscribeOptions{Topic: "rw/#", QoS: 1})
	pub := psV5(t, s.TCP(), "pub")
	psPub(t, pub, "rw/drop", 1, "gone")
	psPub(t, pub, "rw/change", 1, "original")
	psPub(t, pub, "rw/keep", 1, "kept")
	psExpectMsg(t, sub, "rw/changed", "rewritten")
	psExpectMsg(t, sub, "rw/keep", "kept")
	sub.None(t, 100*time.Millisecond)
	r.wait(t, "publish pub rw/drop gone q1", "dropped  rw/drop gone hook", "delivered sub rw/changed rewritten")
}

// TestHooksDropped: the dropped hook hears of every message or delivery
// the broker drops, with the subscriber (or "" before routing) and the
// reason: no subscribers, not authorized, no local [MQTT-3.8.3-3], too
// large for the client [MQTT-3.1.2-25], queue full (mqtt.max_mqueue_len)
// and expired [MQTT-3.3.2-5].
func TestHooksDropped(t *testing.T) {
	t.Parallel() // waits for an expiry
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) {
		c.MQTT.MaxMqueueLen = 1
		c.Authorization.Rules = []config.Rule{{Permission: "deny", Who: "all", Action: "publish", Topics: []string{"deny/#"}}}
	})
	r := psHook(s)
	pub, _ := psRaw(t, s.TCP(), packet.V5, "pub", psMaxOut(64))
	psRawSub(t, pub, 1, 0, packet.Subscription{Filter: "dr/own", NoLocal: true}, packet.Subscription{Filter: "dr/big"})
	off, _ := psRaw(t, s.TCP(), packet.V5, "off", psSessionExpiry(60))
	psRawSub(t, off, 1, 0, packet.Subscription{Filter: "dr/q/#", QoS: 1})
	off.Send(&packet.Disconnect{})
	off.ExpectClosed(testutil.Timeout)
	steps := []struct {
		topic   string
		payload string
		mutate  func(*packet.Publish)
	}{
		{"dr/nobody", "n", nil},
		{"deny/x", "d", nil},
		{"dr/own", "o", nil},
		{"dr/big", strings.Repeat("b", 100), nil},
		{"dr/q/1", "first", nil},
		{"dr/q/2", "second", psExpiry(1)},
	}
	for i, st := range steps {
		var m []func(*packet.Publish)
		if st.mutate != nil {
			m = append(m, st.mutate)
		}
		psRawPub(pub, st.topic, 1, uint16(i+1), st.payload, m...)
		psExpectAck(t, pub, packet.PUBACK, uint16(i+1))
	}
	r.wait(t, "dropped  dr/nobody n no_subscribers", "dropped  deny/x d not_authorized", "dropped pub dr/own o no_local",
		"dropped pub dr/big "+strings.Repeat("b", 100)+" too_large", "dropped off dr/q/1 first queue_full")
	time.Sleep(1100 * time.Millisecond) // the condition is the passing of time: dr/q/2 expires in the queue
	psRaw(t, s.TCP(), packet.V5, "off", psSessionExpiry(60), func(p *packet.Connect) { p.CleanStart = false })
	r.wait(t, "dropped off dr/q/2 second expired")
}
