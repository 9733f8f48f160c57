package broker

import (
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

// rawClient is a bare MQTT connection for tests that need to see (or not
// acknowledge) individual packets.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	v  byte
}

// dialRaw connects and sends CONNECT; mutate may change it. It waits for
// the CONNACK and fails unless it is a success.
func dialRaw(t *testing.T, addr string, v byte, id string, mutate ...func(*packet.Connect)) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &rawClient{t: t, nc: nc, v: v}
	p := &packet.Connect{ProtocolVersion: v, ClientID: id, CleanStart: true, KeepAlive: 30}
	for _, m := range mutate {
		m(p)
	}
	c.send(p)
	if ack, ok := c.next().(*packet.Connack); !ok || ack.ReasonCode != 0 {
		t.Fatalf("CONNACK: %+v", ack)
	}
	return c
}

func (c *rawClient) send(p packet.Packet) {
	c.t.Helper()
	b, err := p.Append(nil, c.v)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rawClient) next() packet.Packet {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(testWait))
	p, err := packet.ReadPacket(c.nc, c.v, 0)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return p
}

func (c *rawClient) subscribe(subs ...packet.Subscription) {
	c.t.Helper()
	c.send(&packet.Subscribe{PacketID: 1, Subscriptions: subs})
	if _, ok := c.next().(*packet.Suback); !ok {
		c.t.Fatal("no SUBACK")
	}
}

func (c *rawClient) expectPublish(topic string) *packet.Publish {
	c.t.Helper()
	p, ok := c.next().(*packet.Publish)
	if !ok || string(p.Topic) != topic {
		c.t.Fatalf("got %+v, want a PUBLISH to %s", p, topic)
	}
	return p
}

// persistent makes a v5 CONNECT keep its session for an hour.
func persistent(p *packet.Connect) {
	p.CleanStart = false
	p.Props.SessionExpiry = 3600
	p.Props.Set(packet.PropSessionExpiry)
}

// eventually polls cond for up to testWait.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(testWait); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestManageClientSnapshot(t *testing.T) {
	cfg := testConfig()
	cfg.MaxSubscriptions = 10
	tb := startBroker(t, cfg, Options{})
	c := dialRaw(t, tb.addr, packet.V5, "snap", persistent, func(p *packet.Connect) {
		p.Props.ReceiveMaximum = 5
		p.Props.Set(packet.PropReceiveMaximum)
		p.Username, p.UsernameFlag = "alice", true
	})
	c.subscribe(packet.Subscription{Filter: "a/+", QoS: 1})
	cs, err := tb.Client("snap")
	if err != nil {
		t.Fatal(err)
	}
	if !cs.Connected || !cs.Persistent || cs.ProtoVer != 5 || cs.Username != "alice" || cs.Keepalive != 30 ||
		cs.CleanStart || cs.Expiry != 3600 || cs.Listener != "tcp:default" || !cs.Peer.IsValid() ||
		cs.ConnectedAt.IsZero() || !cs.DisconnectedAt.IsZero() || cs.CreatedAt.IsZero() || cs.Node != cfg.NodeName {
		t.Fatalf("connected snapshot %+v", cs)
	}
	if cs.InflightMax != 5 || cs.MqueueMax != cfg.MaxMqueueLen || cs.AwaitingRelMax != cfg.MaxAwaitingRel ||
		cs.SubscriptionsCnt != 1 || cs.SubscriptionsMax != 10 {
		t.Fatalf("limits %+v", cs)
	}
	peer := cs.Peer
	c.send(&packet.Disconnect{})
	eventually(t, "disconnect", func() bool { cs, _ = tb.Client("snap"); return !cs.Connected })
	if cs.Peer != peer || cs.Listener != "tcp:default" || cs.ConnectedAt.IsZero() || cs.DisconnectedAt.IsZero() ||
		cs.InflightMax != cfg.MaxInflight {
		t.Fatalf("disconnected snapshot %+v", cs)
	}
	n := 0
	tb.Clients(func(cs *ClientSnapshot) bool { n++; return true })
	if n != 1 {
		t.Fatalf("Clients saw %d sessions", n)
	}
	if _, err := tb.Client("nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown client: %v", err)
	}
}

func TestManageSubscriptionsMountpoint(t *testing.T) {
	cfg := testConfig()
	cfg.Listeners = map[string]ListenerOptions{"tcp:default": {Mountpoint: "m/"}}
	tb := startBroker(t, cfg, Options{})
	c := dialRaw(t, tb.addr, packet.V5, "mp")
	c.subscribe(packet.Subscription{Filter: "x/#", QoS: 2, RetainHandling: 1},
		packet.Subscription{Filter: "$share/g/y", QoS: 1, RetainAsPublished: true})
	got, err := tb.ClientSubscriptions("mp")
	if err != nil {
		t.Fatal(err)
	}
	want := []SubscriptionSnapshot{
		{ClientID: "mp", Filter: "$share/g/y", QoS: 1, RAP: true},
		{ClientID: "mp", Filter: "x/#", QoS: 2, RH: 1},
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("subscriptions %+v, want %+v", got, want)
	}
	var all []string
	tb.Subscriptions(func(s *SubscriptionSnapshot) bool { all = append(all, s.Filter); return true })
	if len(all) != 2 {
		t.Fatalf("Subscriptions: %v", all)
	}
	if _, err := tb.ClientSubscriptions("nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown client: %v", err)
	}
	// SubscribeFor applies the mountpoint, UnsubscribeFor takes the filter as listed.
	if err := tb.SubscribeFor("mp", []SubscriptionSnapshot{{Filter: "z"}}); err != nil {
		t.Fatal(err)
	}
	if n := tb.Publish(&Message{Topic: "m/z", Payload: []byte("1")}); n != 1 {
		t.Fatalf("m/z matched %d subscribers", n)
	}
	c.expectPublish("z")
	if err := tb.UnsubscribeFor("mp", []string{"z", "$share/g/y", "not-there"}); err != nil {
		t.Fatal(err)
	}
	if n := tb.Publish(&Message{Topic: "m/z"}); n != 0 {
		t.Fatalf("m/z matched %d subscribers after UnsubscribeFor", n)
	}
	if got, _ := tb.ClientSubscriptions("mp"); len(got) != 1 || got[0].Filter != "x/#" {
		t.Fatalf("left %+v", got)
	}
	if tb.Stats().Subscriptions.Value() != 1 {
		t.Fatalf("subscription gauge %d", tb.Stats().Subscriptions.Value())
	}
}

func TestManageSubscribeForConnected(t *testing.T) {
	tb := startBroker(t, testConfig(), Options{})
	tb.Publish(&Message{Topic: "r/1", Payload: []byte("kept"), Retain: true, QoS: 1})
	c := dialRaw(t, tb.addr, packet.V5, "sf")
	err := tb.SubscribeFor("sf", []SubscriptionSnapshot{{Filter: "r/+", QoS: 1, SubID: 7}})
	if err != nil {
		t.Fatal(err)
	}
	p := c.expectPublish("r/1")
	if !p.Retain || p.QoS != 1 || len(p.Props.SubscriptionIDs) != 1 || p.Props.SubscriptionIDs[0] != 7 {
		t.Fatalf("retained delivery %+v", p)
	}
	c.send(&packet.Ack{PacketType: packet.PUBACK, PacketID: p.PacketID})
	// Retain Handling 1 on an existing subscription: no retained message.
	if err := tb.SubscribeFor("sf", []SubscriptionSnapshot{{Filter: "r/+", QoS: 0, RH: 1}}); err != nil {
		t.Fatal(err)
	}
	tb.Publish(&Message{Topic: "r/2", Payload: []byte("live")})
	if p := c.expectPublish("r/2"); p.QoS != 0 || p.Retain {
		t.Fatalf("live delivery %+v", p)
	}
	for _, bad := range []string{"a/#/b", "$share/g", "", "a/+x"} {
		err := tb.SubscribeFor("sf", []SubscriptionSnapshot{{Filter: "ok"}, {Filter: bad}})
		if !errors.Is(err, ErrBadFilter) {
			t.Fatalf("filter %q: %v", bad, err)
		}
	}
	if got, _ := tb.ClientSubscriptions("sf"); len(got) != 1 {
		t.Fatalf("a refused SubscribeFor applied some: %+v", got)
	}
	if err := tb.SubscribeFor("nobody", []SubscriptionSnapshot{{Filter: "a"}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown client: %v", err)
	}
	if err := tb.UnsubscribeFor("nobody", []string{"a"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown client: %v", err)
	}
}

func TestManageSubscribeForQuota(t *testing.T) {
	cfg := testConfig()
	cfg.MaxSubscriptions = 2
	tb := startBroker(t, cfg, Options{})
	dialRaw(t, tb.addr, packet.V311, "q")
	err := tb.SubscribeFor("q", []SubscriptionSnapshot{{Filter: "a"}, {Filter: "b"}, {Filter: "c"}})
	if !errors.Is(err, ErrSubscriptionQuota) {
		t.Fatalf("third subscription: %v", err)
	}
	if got, _ := tb.ClientSubscriptions("q"); len(got) != 2 {
		t.Fatalf("subscriptions %+v", got)
	}
}

// TestManageOfflineSession: SubscribeFor on an offline persistent session,
// messages queue for it (QueuedMessages), and the client gets them, and
// its in-flight window shows them (InflightMessages), when it comes back.
func TestManageOfflineSession(t *testing.T) {
	tb := startBroker(t, testConfig(), Options{})
	c := dialRaw(t, tb.addr, packet.V5, "off", persistent)
	c.send(&packet.Disconnect{})
	eventually(t, "disconnect", func() bool { cs, _ := tb.Client("off"); return !cs.Connected })
	if err := tb.SubscribeFor("off", []SubscriptionSnapshot{{Filter: "q/#", QoS: 1}}); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	for _, p := range []string{"one", "two"} {
		tb.Publish(&Message{Topic: "q/t", Payload: []byte(p), QoS: 1, From: "api"})
	}
	q, err := tb.QueuedMessages("off")
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 2 || string(q[0].Payload) != "one" || string(q[1].Payload) != "two" || q[0].QoS != 1 ||
		q[0].Topic != "q/t" || q[0].From != "api" || q[0].PacketID != 0 || q[0].InsertedAt.Before(before.Add(-time.Second)) ||
		q[0].MsgID >= q[1].MsgID {
		t.Fatalf("queued %+v", q)
	}
	if in, _ := tb.InflightMessages("off"); len(in) != 0 {
		t.Fatalf("inflight while offline: %+v", in)
	}
	c = dialRaw(t, tb.addr, packet.V5, "off", persistent)
	p1, p2 := c.expectPublish("q/t"), c.expectPublish("q/t")
	in, err := tb.InflightMessages("off")
	if err != nil {
		t.Fatal(err)
	}
	if len(in) != 2 || in[0].PacketID != p1.PacketID || in[1].PacketID != p2.PacketID || string(in[1].Payload) != "two" {
		t.Fatalf("inflight %+v", in)
	}
	if q, _ := tb.QueuedMessages("off"); len(q) != 0 {
		t.Fatalf("queued after reconnect: %+v", q)
	}
	c.send(&packet.Ack{PacketType: packet.PUBACK, PacketID: p1.PacketID})
	eventually(t, "ack", func() bool { in, _ := tb.InflightMessages("off"); return len(in) == 1 })
	if _, err := tb.QueuedMessages("nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown client: %v", err)
	}
}

// opStore is a Store that records the ops committed to it.
type opStore struct {
	mu  sync.Mutex
	ops []StoreOp
}

func (s *opStore) Commit(ops []StoreOp, _ bool, done func(error)) {
	s.mu.Lock()
	s.ops = append(s.ops, ops...)
	s.mu.Unlock()
	if done != nil {
		done(nil)
	}
}
func (s *opStore) LoadSessions(func(*LoadedSession) error) error { return nil }
func (s *opStore) LoadRetained(func(*Message) error) error       { return nil }
func (s *opStore) Close() error                                  { return nil }

// has reports whether an op of kind for filter was committed.
func (s *opStore) has(kind OpKind, filter string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range s.ops {
		if op.Kind == kind && (op.Filter == filter || op.Sub != nil && op.Sub.Filter == filter) {
			return true
		}
	}
	return false
}

func TestManageSubscribeForPersists(t *testing.T) {
	st := &opStore{}
	tb := startBroker(t, testConfig(), Options{Store: st})
	dialRaw(t, tb.addr, packet.V5, "dur", persistent)
	if err := tb.SubscribeFor("dur", []SubscriptionSnapshot{{Filter: "$share/g/p", QoS: 1}}); err != nil {
		t.Fatal(err)
	}
	if !st.has(OpPutSub, "$share/g/p") {
		t.Fatal("subscription not stored")
	}
	if err := tb.UnsubscribeFor("dur", []string{"$share/g/p"}); err != nil {
		t.Fatal(err)
	}
	if !st.has(OpDeleteSub, "$share/g/p") {
		t.Fatal("subscription not deleted from the store")
	}
}

// TestManageCounters: per-connection counters of a publisher and a
// subscriber over one QoS 0, 1 and 2 message each.
func TestManageCounters(t *testing.T) {
	tb := startBroker(t, testConfig(), Options{})
	sub := dialRaw(t, tb.addr, packet.V5, "csub")
	sub.subscribe(packet.Subscription{Filter: "c/#", QoS: 2})
	pub := dialRaw(t, tb.addr, packet.V5, "cpub", persistent)
	sent := 0
	for q := byte(0); q <= 2; q++ {
		p := &packet.Publish{Topic: []byte("c/t"), QoS: q, PacketID: uint16(q), Payload: []byte("x")}
		b, _ := p.Append(nil, packet.V5)
		sent += len(b)
		pub.send(p)
	}
	if a, ok := pub.next().(*packet.Ack); !ok || a.PacketType != packet.PUBACK {
		t.Fatal("no PUBACK")
	}
	if a, ok := pub.next().(*packet.Ack); !ok || a.PacketType != packet.PUBREC {
		t.Fatal("no PUBREC")
	}
	pub.send(&packet.Ack{PacketType: packet.PUBREL, PacketID: 2})
	pub.next() // PUBCOMP
	for q := byte(0); q <= 2; q++ {
		p := sub.expectPublish("c/t")
		switch p.QoS {
		case 1:
			sub.send(&packet.Ack{PacketType: packet.PUBACK, PacketID: p.PacketID})
		case 2:
			sub.send(&packet.Ack{PacketType: packet.PUBREC, PacketID: p.PacketID})
			sub.next() // PUBREL
			sub.send(&packet.Ack{PacketType: packet.PUBCOMP, PacketID: p.PacketID})
		}
	}
	var pc, sc ClientCounters
	eventually(t, "counters", func() bool {
		pc, _ = tb.ClientCounters("cpub")
		sc, _ = tb.ClientCounters("csub")
		return pc.RecvPkt == 5 && sc.RecvPkt == 5
	})
	if pc.RecvMsg != 3 || pc.RecvMsgQoS0 != 1 || pc.RecvMsgQoS1 != 1 || pc.RecvMsgQoS2 != 1 ||
		pc.SendPkt != 4 || pc.SendMsg != 0 || pc.RecvCnt == 0 || pc.RecvOct < uint64(sent) || pc.SendOct == 0 || pc.SendCnt == 0 {
		t.Fatalf("publisher counters %+v", pc)
	}
	if sc.SendMsg != 3 || sc.SendMsgQoS0 != 1 || sc.SendMsgQoS1 != 1 || sc.SendMsgQoS2 != 1 ||
		sc.SendPkt != 6 || sc.RecvMsg != 0 || sc.SendOct == 0 {
		t.Fatalf("subscriber counters %+v", sc)
	}
	// No subscriber: counted as a dropped received message; kept after disconnect.
	pub.send(&packet.Publish{Topic: []byte("none"), Payload: []byte("x")})
	pub.send(&packet.Disconnect{})
	eventually(t, "disconnect", func() bool { cs, _ := tb.Client("cpub"); return cs.Counters.RecvMsgDropped == 1 })
	if cs, _ := tb.Client("cpub"); cs.Counters.RecvMsg != 4 {
		t.Fatalf("counters after disconnect %+v", cs.Counters)
	}
}

// cachingAuthz allows everything and keeps a fake cache per client id.
type cachingAuthz struct {
	mu      sync.Mutex
	cleared []string
}

func (*cachingAuthz) Authorize(*ClientInfo, Action, string, byte, bool) bool { return true }
func (*cachingAuthz) AuthzCache(id string) []AuthzCacheEntry {
	return []AuthzCacheEntry{{Action: ActionPublish.String(), Topic: id, Allowed: true}}
}
func (a *cachingAuthz) ClearAuthzCache(id string) {
	a.mu.Lock()
	a.cleared = append(a.cleared, id)
	a.mu.Unlock()
}

func TestManageAuthzCache(t *testing.T) {
	az := &cachingAuthz{}
	tb := startBroker(t, testConfig(), Options{Authorizer: az})
	dialRaw(t, tb.addr, packet.V311, "ac")
	list, err := tb.AuthzCache("ac")
	if err != nil || len(list) != 1 || list[0].Topic != "ac" || list[0].Action != "publish" {
		t.Fatalf("AuthzCache = %+v, %v", list, err)
	}
	if err := tb.ClearAuthzCache("ac"); err != nil || len(az.cleared) != 1 {
		t.Fatalf("ClearAuthzCache: %v, cleared %v", err, az.cleared)
	}
	if _, err := tb.AuthzCache("nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown client: %v", err)
	}
	if err := tb.ClearAuthzCache("nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown client: %v", err)
	}
	plain := startBroker(t, testConfig(), Options{})
	dialRaw(t, plain.addr, packet.V311, "ac")
	if list, err := plain.AuthzCache("ac"); err != nil || list == nil || len(list) != 0 {
		t.Fatalf("without a caching authorizer: %+v, %v", list, err)
	}
}

// TestManageUpdateConfigFixedAtConnect: what a CONNACK stated holds for
// that connection after UpdateConfig; new connections get the new value.
func TestManageUpdateConfigFixedAtConnect(t *testing.T) {
	tb := startBroker(t, testConfig(), Options{})
	old := dialRaw(t, tb.addr, packet.V5, "old")
	cfg := tb.Config()
	cfg.MaxQoS = 1
	if err := tb.UpdateConfig(cfg); err != nil {
		t.Fatal(err)
	}
	old.send(&packet.Publish{Topic: []byte("t"), QoS: 2, PacketID: 9})
	if a, ok := old.next().(*packet.Ack); !ok || a.PacketType != packet.PUBREC {
		t.Fatalf("QoS 2 on a connection made under max_qos 2: %+v", a)
	}
	nc, err := net.Dial("tcp", tb.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	late := &rawClient{t: t, nc: nc, v: packet.V5}
	late.send(&packet.Connect{ProtocolVersion: packet.V5, ClientID: "late", CleanStart: true})
	ack, ok := late.next().(*packet.Connack)
	if !ok || !ack.Props.Has(packet.PropMaximumQoS) || ack.Props.MaximumQoS != 1 {
		t.Fatalf("CONNACK after the update: %+v", ack)
	}
	bad := cfg
	bad.NodeName = "elsewhere"
	if err := tb.UpdateConfig(bad); err == nil || tb.Config().NodeName == "elsewhere" {
		t.Fatalf("node name change: %v", err)
	}
}
