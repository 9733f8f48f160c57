package integration

import (
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// aclConfig is the rule set of the authorization tests: no match denies.
func aclConfig(denyAction string) func(*config.Config) {
	return func(c *config.Config) {
		c.Authentication.AllowAnonymous = true
		c.Authentication.Users = []config.User{plainUser("alice", "a"), plainUser("bob", "b"), plainUser("root", "r")}
		c.Authentication.Users[2].IsSuperuser = true
		c.Authorization.NoMatch, c.Authorization.DenyAction = "deny", denyAction
		c.Authorization.Rules = []config.Rule{
			{Permission: "allow", Who: "username:alice", Action: "all", Topics: []string{"%u/#"}},
			{Permission: "allow", Who: "clientid:dev1", Action: "publish", Topics: []string{"%c/up"}},
			{Permission: "allow", Who: "ipaddr:127.0.0.0/8", Action: "subscribe", Topics: []string{"local/#"}},
			{Permission: "allow", Who: "ipaddr:10.0.0.0/8", Action: "all", Topics: []string{"remote/#"}},
			{Permission: "deny", Who: "all", Action: "subscribe", Topics: []string{"open/secret/#"}},
			{Permission: "allow", Who: "all", Action: "all", Topics: []string{"open/#", "eq literal/#"}},
		}
	}
}

// subscribeCodes sends one SUBSCRIBE with several filters (QoS 1) and
// returns the SUBACK codes.
func subscribeCodes(t *testing.T, c *testutil.Raw, pid uint16, filters ...string) []packet.ReasonCode {
	t.Helper()
	sub := &packet.Subscribe{PacketID: pid}
	for _, f := range filters {
		sub.Subscriptions = append(sub.Subscriptions, packet.Subscription{Filter: f, QoS: 1})
	}
	c.Send(sub)
	ack := c.Expect(packet.SUBACK).(*packet.Suback)
	if ack.PacketID != pid || len(ack.ReasonCodes) != len(filters) {
		t.Fatalf("SUBACK id %d codes %v for %d filters [MQTT-3.8.4-6]", ack.PacketID, ack.ReasonCodes, len(filters))
	}
	return ack.ReasonCodes
}

func checkCodes(t *testing.T, what string, got []packet.ReasonCode, want ...packet.ReasonCode) {
	t.Helper()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: codes % x, want % x", what, got, want)
		}
	}
}

// pubEcho publishes at QoS 1 from a client subscribed to the topic and
// expects both the PUBACK and its own message back, in either order.
func pubEcho(t *testing.T, c *testutil.Raw, pid uint16, topic string) {
	t.Helper()
	c.Send(&packet.Publish{QoS: 1, PacketID: pid, Topic: []byte(topic), Payload: []byte("echo")})
	var acked, echoed bool
	for !acked || !echoed {
		p, err := c.Read(testutil.Timeout)
		if err != nil {
			t.Fatalf("read: %v (acked %v, echoed %v)", err, acked, echoed)
		}
		switch p := p.(type) {
		case *packet.Ack:
			acked = p.PacketType == packet.PUBACK && p.PacketID == pid && !p.ReasonCode.IsError()
		case *packet.Publish:
			echoed = string(p.Topic) == topic
			c.Send(&packet.Ack{PacketType: packet.PUBACK, PacketID: p.PacketID})
		}
	}
}

// rootWatcher connects the superuser subscribed to everything.
func rootWatcher(t *testing.T, s *testutil.Server) *testutil.Raw {
	t.Helper()
	w, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, login("root", "root", "r"))
	checkCodes(t, "root", subscribeCodes(t, w, 1, "#"), 1)
	return w
}

// TestAuthACLSubscribe checks refused subscriptions: 0x87 per filter in a
// v5 SUBACK and 0x80 in 3.1.1, the others granted, in order
// [MQTT-3.9.3-1] [MQTT-3.8.4-6] [MQTT-3.9.3-2]; the first matching rule
// decides, no match denies (EMQX authorization.no_match), and a shared
// subscription is checked on its real filter.
func TestAuthACLSubscribe(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, aclConfig("ignore"))
	filters := []string{"open/a", "open/secret/x", "closed/a", "local/#", "remote/#", "literal/#", "literal/a",
		"$share/g/open/b", "$share/g/closed/b"}
	c5, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, &packet.Connect{ClientID: "anon5", CleanStart: true})
	no := packet.NotAuthorized
	checkCodes(t, "v5", subscribeCodes(t, c5, 1, filters...), 1, no, no, 1, no, 1, no, 1, no)
	c3, _ := testutil.ConnectRaw(t, s.TCP(), packet.V311, &packet.Connect{ClientID: "anon3", CleanStart: true})
	checkCodes(t, "v3", subscribeCodes(t, c3, 1, filters...), 1, 0x80, 0x80, 1, 0x80, 1, 0x80, 1, 0x80)
	rawPingPong(t, c5) // ignore: the connections stay
	rawPingPong(t, c3)
}

// TestAuthACLPublish checks refused publishes: dropped, with 0x87 in the v5
// PUBACK or PUBREC [MQTT-3.4.2.1] [MQTT-3.5.2.1], a plain PUBACK for
// 3.1.1, nothing for QoS 0; allowed ones are delivered.
func TestAuthACLPublish(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, aclConfig("ignore"))
	w := rootWatcher(t, s)
	c5, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, &packet.Connect{ClientID: "anon5", CleanStart: true})
	c5.Send(&packet.Publish{QoS: 1, PacketID: 1, Topic: []byte("closed/a"), Payload: []byte("x")})
	if a := expectAck(t, c5, packet.PUBACK, 1); a.ReasonCode != packet.NotAuthorized {
		t.Fatalf("PUBACK 0x%02x, want 0x87", byte(a.ReasonCode))
	}
	c5.Send(&packet.Publish{QoS: 2, PacketID: 2, Topic: []byte("closed/b"), Payload: []byte("x")})
	if a := expectAck(t, c5, packet.PUBREC, 2); a.ReasonCode != packet.NotAuthorized {
		t.Fatalf("PUBREC 0x%02x, want 0x87", byte(a.ReasonCode))
	}
	rawPub(t, c5, 0, "closed/c", 0, "x")
	c3, _ := testutil.ConnectRaw(t, s.TCP(), packet.V311, &packet.Connect{ClientID: "anon3", CleanStart: true})
	rawPub(t, c3, 1, "closed/d", 1, "x")
	w.ExpectNothing(200 * time.Millisecond)

	rawPub(t, c5, 3, "open/ok", 1, "x")
	expectPub(t, w, "open/ok", 1, false)
	// An error PUBREC ends the QoS 2 flow, so its packet id is free again
	// (MQTT 5 section 4.3.3).
	c5.Send(&packet.Publish{QoS: 2, PacketID: 2, Topic: []byte("open/q2"), Payload: []byte("x")})
	if a := expectAck(t, c5, packet.PUBREC, 2); a.ReasonCode.IsError() {
		t.Fatalf("PUBREC 0x%02x for an allowed publish", byte(a.ReasonCode))
	}
	expectPub(t, w, "open/q2", 1, false)
}

// TestAuthACLPlaceholders checks %u (user name) and %c (client id) in rule
// topics, and who = username / clientid (EMQX ACL placeholders).
func TestAuthACLPlaceholders(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, aclConfig("ignore"))
	w := rootWatcher(t, s)
	alice, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, login("a1", "alice", "a"))
	checkCodes(t, "alice", subscribeCodes(t, alice, 1, "alice/#", "bob/#"), 1, packet.NotAuthorized)
	bob, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, login("b1", "bob", "b"))
	checkCodes(t, "bob", subscribeCodes(t, bob, 1, "bob/#"), packet.NotAuthorized)
	pubEcho(t, alice, 2, "alice/x")
	expectPub(t, w, "alice/x", 1, false)

	dev1, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, &packet.Connect{ClientID: "dev1", CleanStart: true})
	rawPub(t, dev1, 1, "dev1/up", 1, "x")
	expectPub(t, w, "dev1/up", 1, false)
	dev1.Send(&packet.Publish{QoS: 1, PacketID: 2, Topic: []byte("dev2/up"), Payload: []byte("x")})
	if a := expectAck(t, dev1, packet.PUBACK, 2); a.ReasonCode != packet.NotAuthorized {
		t.Fatalf("dev1 to dev2/up: PUBACK 0x%02x, want 0x87", byte(a.ReasonCode))
	}
	checkCodes(t, "dev1 subscribe", subscribeCodes(t, dev1, 3, "dev1/up"), packet.NotAuthorized) // publish-only rule
	w.ExpectNothing(200 * time.Millisecond)
}

// TestAuthACLSuperuser checks that a superuser skips authorization (EMQX
// is_superuser), here on topics every rule denies.
func TestAuthACLSuperuser(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, aclConfig("disconnect"))
	root, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, login("r1", "root", "r"))
	checkCodes(t, "root", subscribeCodes(t, root, 1, "open/secret/#", "closed/#"), 1, 1)
	pubEcho(t, root, 2, "closed/x")
}

// TestAuthACLDenyDisconnect sets authorization.deny_action = disconnect: a
// refused publish or subscribe ends the connection, with DISCONNECT 0x87
// for v5 [MQTT-4.13.1-1] (EMQX deny_action).
func TestAuthACLDenyDisconnect(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, aclConfig("disconnect"))
	c, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, &packet.Connect{ClientID: "p5", CleanStart: true})
	c.Send(&packet.Publish{QoS: 1, PacketID: 1, Topic: []byte("closed/a"), Payload: []byte("x")})
	expectDisconnect(t, c, packet.NotAuthorized)
	c, _ = testutil.ConnectRaw(t, s.TCP(), packet.V5, &packet.Connect{ClientID: "q5", CleanStart: true})
	c.Send(&packet.Publish{Topic: []byte("closed/a"), Payload: []byte("x")})
	expectDisconnect(t, c, packet.NotAuthorized)
	c, _ = testutil.ConnectRaw(t, s.TCP(), packet.V5, &packet.Connect{ClientID: "s5", CleanStart: true})
	c.Send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "closed/#", QoS: 1}}})
	expectDisconnect(t, c, packet.NotAuthorized)
	c, _ = testutil.ConnectRaw(t, s.TCP(), packet.V311, &packet.Connect{ClientID: "p3", CleanStart: true})
	c.Send(&packet.Publish{QoS: 1, PacketID: 1, Topic: []byte("closed/a"), Payload: []byte("x")})
	expectSilentClose(t, c)
	c, _ = testutil.ConnectRaw(t, s.TCP(), packet.V311, &packet.Connect{ClientID: "s3", CleanStart: true})
	c.Send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "closed/#", QoS: 1}}})
	expectSilentClose(t, c)
}

// TestAuthACLWill checks that a will is authorized like a publish: one on a
// topic the client may not publish to is dropped, an allowed one is
// published [MQTT-3.1.2-8] (EMQX checks the will topic at CONNECT).
func TestAuthACLWill(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, aclConfig("ignore"))
	w := rootWatcher(t, s)
	c, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, withWill(&packet.Connect{ClientID: "wd", CleanStart: true}, "closed/will", "x", 1, 0))
	c.Conn.Close()
	c, _ = testutil.ConnectRaw(t, s.TCP(), packet.V5, withWill(&packet.Connect{ClientID: "wa", CleanStart: true}, "open/will", "y", 1, 0))
	c.Conn.Close()
	expectPub(t, w, "open/will", 1, false)
	w.ExpectNothing(200 * time.Millisecond)
}

// TestAuthACLProblemInfo checks the Reason String of refusals: sent in the
// SUBACK and PUBACK by default, left out when the client set Request
// Problem Information to 0 [MQTT-3.1.2-29].
func TestAuthACLProblemInfo(t *testing.T) {
	t.Parallel()
	s := testutil.RunServer(t, aclConfig("ignore"))
	for _, want := range []bool{true, false} {
		cp := &packet.Connect{ClientID: "rpi", CleanStart: true}
		if !want {
			cp.Props.RequestProblemInfo = 0
			cp.Props.Set(packet.PropRequestProblemInfo)
		}
		c, _ := testutil.ConnectRaw(t, s.TCP(), packet.V5, cp)
		c.Send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "closed/#", QoS: 1}}})
		sa := c.Expect(packet.SUBACK).(*packet.Suback)
		c.Send(&packet.Publish{QoS: 1, PacketID: 2, Topic: []byte("closed/x"), Payload: []byte("x")})
		pa := expectAck(t, c, packet.PUBACK, 2)
		if sa.Props.Has(packet.PropReasonString) != want || pa.Props.Has(packet.PropReasonString) != want {
			t.Fatalf("problem info %v: SUBACK reason string %q, PUBACK reason string %q", want, sa.Props.ReasonString, pa.Props.ReasonString)
		}
	}
}
