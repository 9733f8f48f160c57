package service

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/broker"
)

func TestClientQueryMatch(t *testing.T) {
	t0 := time.Unix(1000, 0)
	c := &broker.ClientSnapshot{ClientID: "dev-1", Username: "alice", ProtoVer: 5, CleanStart: true, Connected: true,
		Peer: netip.MustParseAddrPort("[::ffff:10.0.0.7]:5000"), CreatedAt: t0, ConnectedAt: t0.Add(time.Second)}
	yes, no := true, false
	for _, tc := range []struct {
		name string
		q    ClientQuery
		want bool
	}{
		{"empty", ClientQuery{}, true},
		{"clientid any of", ClientQuery{ClientIDs: []string{"x", "dev-1"}}, true},
		{"clientid other", ClientQuery{ClientIDs: []string{"dev-2"}}, false},
		{"username", ClientQuery{Usernames: []string{"alice"}}, true},
		{"username other", ClientQuery{Usernames: []string{"bob"}}, false},
		{"ip (v4-mapped peer)", ClientQuery{IPAddress: netip.MustParseAddr("10.0.0.7")}, true},
		{"ip other", ClientQuery{IPAddress: netip.MustParseAddr("10.0.0.8")}, false},
		{"clean_start", ClientQuery{CleanStart: &yes}, true},
		{"clean_start false", ClientQuery{CleanStart: &no}, false},
		{"proto_ver", ClientQuery{ProtoVer: 5}, true},
		{"proto_ver 4", ClientQuery{ProtoVer: 4}, false},
		{"like_clientid", ClientQuery{LikeClientID: "ev-"}, true},
		{"like_username", ClientQuery{LikeUsername: "bo"}, false},
		{"connected", ClientQuery{ConnState: ConnStateConnected}, true},
		{"disconnected", ClientQuery{ConnState: ConnStateDisconnected}, false},
		{"idle", ClientQuery{ConnState: ConnStateIdle}, false},
		{"created inclusive", ClientQuery{CreatedFrom: t0, CreatedTo: t0}, true},
		{"created after", ClientQuery{CreatedFrom: t0.Add(time.Nanosecond)}, false},
		{"connected before", ClientQuery{ConnectedTo: t0}, false},
		{"connected range", ClientQuery{ConnectedFrom: t0, ConnectedTo: t0.Add(time.Hour)}, true},
	} {
		if got := tc.q.match(c); got != tc.want {
			t.Errorf("%s: match %v, want %v", tc.name, got, tc.want)
		}
	}
	never := &broker.ClientSnapshot{ClientID: "restored"}
	if (&ClientQuery{ConnectedFrom: t0}).match(never) || (&ClientQuery{IPAddress: netip.MustParseAddr("10.0.0.7")}).match(never) {
		t.Error("a session never connected since restore matched a connection filter")
	}
}

func TestClientQueryValidate(t *testing.T) {
	ok := ClientQuery{PageQuery: PageQuery{Page: 1, Limit: 10}}
	if err := ok.validate(); err != nil {
		t.Fatal(err)
	}
	for _, q := range []ClientQuery{
		{PageQuery: PageQuery{Page: 0, Limit: 10}},
		{PageQuery: PageQuery{Page: 1, Limit: MaxLimit + 1}},
		{PageQuery: PageQuery{Page: 1, Limit: 1}, ConnState: "asleep"},
	} {
		if err := q.validate(); CodeOf(err) != "INVALID_PARAMETER" {
			t.Errorf("%+v: %v", q, err)
		}
	}
}

func TestChunkOf(t *testing.T) {
	base := time.Unix(0, 1_000)
	var msgs []broker.QueuedMessage
	for i := range 5 {
		msgs = append(msgs, broker.QueuedMessage{MsgID: uint64(10 + i), Topic: "t", InsertedAt: base.Add(time.Duration(i/2) * time.Nanosecond)})
	}
	slices.Reverse(msgs) // paging follows positions, not the slice order
	var got []uint64
	after, pos := msgPos{}, ""
	for range 4 {
		c := chunkOf(slices.Clone(msgs), after, 2)
		if c.Start != "1000_10" {
			t.Errorf("start %q", c.Start)
		}
		for _, m := range c.Items {
			p, _ := parsePos(m.Position)
			got = append(got, p.id)
		}
		pos = c.Position
		if pos != PositionEndOfData {
			after, _ = parsePos(pos)
		}
	}
	if !slices.Equal(got, []uint64{10, 11, 12, 13, 14}) || pos != PositionEndOfData {
		t.Errorf("chunks gave %v, last position %q", got, pos)
	}
	empty := chunkOf(nil, msgPos{}, 10)
	if empty.Start != PositionNone || empty.Position != PositionEndOfData || empty.Items == nil {
		t.Errorf("empty queue: %+v", empty)
	}
	for _, bad := range []string{"", "1", "a_b", "1_"} {
		if _, ok := parsePos(bad); ok {
			t.Errorf("parsePos(%q) accepted", bad)
		}
	}
}

func TestSubscriptionQueryMatch(t *testing.T) {
	subs := []broker.SubscriptionSnapshot{
		{ClientID: "a", Filter: "s/a", QoS: 0},
		{ClientID: "a", Filter: "s/+", QoS: 1},
		{ClientID: "b", Filter: "$share/g1/s/a", QoS: 2},
		{ClientID: "b", Filter: "$SYS/x", QoS: 0},
	}
	q1 := byte(1)
	for _, tc := range []struct {
		name string
		q    SubscriptionQuery
		want []string
	}{
		{"topic", SubscriptionQuery{Topic: "s/a"}, []string{"s/a", "$share/g1/s/a"}},
		{"shared topic", SubscriptionQuery{Topic: "$share/g1/s/a"}, []string{"$share/g1/s/a"}},
		{"share_group", SubscriptionQuery{ShareGroup: "g1"}, []string{"$share/g1/s/a"}},
		{"qos", SubscriptionQuery{QoS: &q1}, []string{"s/+"}},
		{"match_topic", SubscriptionQuery{MatchTopic: "s/#"}, []string{"s/a", "s/+", "$share/g1/s/a"}},
		{"match_topic plus", SubscriptionQuery{MatchTopic: "s/+"}, []string{"s/a", "s/+", "$share/g1/s/a"}},
		{"match_topic exact", SubscriptionQuery{MatchTopic: "s/a"}, []string{"s/a", "$share/g1/s/a"}},
		{"match_topic #", SubscriptionQuery{MatchTopic: "#"}, []string{"s/a", "s/+", "$share/g1/s/a"}},
	} {
		var got []string
		for i := range subs {
			if tc.q.match(&subs[i]) {
				got = append(got, subs[i].Filter)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	bad := SubscriptionQuery{PageQuery: PageQuery{Page: 1, Limit: 1}, MatchTopic: "$share/g/s/#"}
	if err := bad.validate(); CodeOf(err) != "INVALID_PARAMETER" {
		t.Errorf("shared match_topic: %v", err)
	}
}

func TestPublishPropertiesAndID(t *testing.T) {
	if (&PublishProperties{}).packet() != nil {
		t.Error("no properties gave a property set")
	}
	one := byte(1)
	p := (&PublishProperties{PayloadFormatIndicator: &one, ContentType: "text/plain",
		UserProperties: map[string]string{"b": "2", "a": "1"}}).packet()
	if p == nil || p.PayloadFormat != 1 || string(p.ContentType) != "text/plain" || len(p.User) != 2 || string(p.User[0].Key) != "a" {
		t.Errorf("properties %+v", p)
	}
	id := messageID(&broker.Message{ID: 0xAB, Created: 2_000_000})
	if id != "00000000000007D000000000000000AB" {
		t.Errorf("message id %s", id)
	}
	for _, name := range []string{"", "a/+", "a/#", "a\x00b", "\xff"} {
		if validateTopicName(name) == nil {
			t.Errorf("topic %q accepted", name)
		}
	}
}
