package auth

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/herald-mqtt/herald/internal/broker"
)

const (
	pub = broker.ActionPublish
	sub = broker.ActionSubscribe
)

func newACL(t *testing.T, noMatch string, rules ...Rule) *ACL {
	t.Helper()
	a, err := NewACL(ACLConfig{Rules: rules, NoMatch: noMatch})
	if err != nil {
		t.Fatalf("NewACL: %v", err)
	}
	return a
}

func client(username, clientID, addr string) *broker.ClientInfo {
	c := &broker.ClientInfo{Username: username, ClientID: clientID}
	if addr != "" {
		c.RemoteAddr = netip.MustParseAddrPort(addr)
	}
	return c
}

func allow(who, action string, topics ...string) Rule {
	return Rule{Permission: PermAllow, Who: who, Action: action, Topics: topics}
}

func deny(who, action string, topics ...string) Rule {
	return Rule{Permission: PermDeny, Who: who, Action: action, Topics: topics}
}

type authzCase struct {
	c      *broker.ClientInfo
	action broker.Action
	topic  string
	want   bool
}

// check runs the cases twice: the second pass answers from the cache.
func check(t *testing.T, a *ACL, cases []authzCase) {
	t.Helper()
	for pass := range 2 {
		for _, tc := range cases {
			if got := a.Authorize(tc.c, tc.action, tc.topic, 0, false); got != tc.want {
				t.Fatalf("pass %d: Authorize(%+v, %d, %q) = %v, want %v", pass, *tc.c, tc.action, tc.topic, got, tc.want)
			}
		}
	}
}

func TestAuthzNoRules(t *testing.T) {
	anyone := client("u", "c", "")
	super := &broker.ClientInfo{ClientID: "s", Superuser: true}
	check(t, newACL(t, ""), []authzCase{{anyone, pub, "a", true}, {anyone, sub, "#", true}, {nil, pub, "a", true}})
	check(t, newACL(t, PermDeny), []authzCase{{anyone, pub, "a", false}, {super, pub, "a", true}, {super, sub, "#", true}})
}

func TestAuthzSuperuserBypass(t *testing.T) {
	a := newACL(t, PermDeny, deny(WhoAll, ActAll, "#"))
	check(t, a, []authzCase{
		{&broker.ClientInfo{ClientID: "s", Superuser: true}, pub, "x", true},
		{&broker.ClientInfo{ClientID: "s"}, pub, "x", false},
	})
}

func TestAuthzWho(t *testing.T) {
	a := newACL(t, PermDeny,
		allow("username:alice", ActPublish, "u"),
		allow("clientid:dev-1", ActPublish, "c"),
		allow("ipaddr:10.1.0.0/16", ActPublish, "net"),
		allow("ipaddr:192.168.1.7", ActPublish, "host"),
		allow("ipaddr:2001:db8::/32", ActPublish, "v6"),
		allow("ipaddr:::ffff:172.16.0.0/112", ActPublish, "mapped"),
		allow(WhoAll, ActPublish, "everyone"),
	)
	check(t, a, []authzCase{
		{client("alice", "x", ""), pub, "u", true},
		{client("bob", "x", ""), pub, "u", false},
		{client("", "x", ""), pub, "u", false},
		{client("alice", "dev-1", ""), pub, "c", true},
		{client("alice", "dev-2", ""), pub, "c", false},
		{client("", "x", "10.1.200.3:1883"), pub, "net", true},
		{client("", "x", "10.2.0.1:1883"), pub, "net", false},
		{client("", "x", "[::ffff:10.1.0.9]:1883"), pub, "net", true}, // dual-stack listener
		{client("", "x", ""), pub, "net", false},                      // no address known
		{client("", "x", "192.168.1.7:5"), pub, "host", true},
		{client("", "x", "192.168.1.8:5"), pub, "host", false},
		{client("", "x", "[2001:db8::1]:5"), pub, "v6", true},
		{client("", "x", "[2001:db9::1]:5"), pub, "v6", false},
		{client("", "x", "172.16.3.3:5"), pub, "mapped", true},
		{client("", "x", "172.17.3.3:5"), pub, "mapped", false},
		{client("", "", ""), pub, "everyone", true},
		{nil, pub, "everyone", true},
		{nil, pub, "u", false},
	})
}

func TestAuthzActions(t *testing.T) {
	a := newACL(t, PermDeny,
		allow(WhoAll, ActPublish, "p/#"),
		allow(WhoAll, ActSubscribe, "s/#"),
		allow(WhoAll, ActAll, "b/#"),
	)
	c := client("u", "c", "")
	check(t, a, []authzCase{
		{c, pub, "p/1", true}, {c, sub, "p/1", false},
		{c, pub, "s/1", false}, {c, sub, "s/1", true},
		{c, pub, "b/1", true}, {c, sub, "b/1", true},
	})
	if a.Authorize(c, pub|sub, "b/1", 0, false) || a.Authorize(c, 0, "b/1", 0, false) {
		t.Fatalf("an invalid action was allowed")
	}
}

func TestAuthzRuleOrder(t *testing.T) {
	c := client("u", "c", "")
	first := newACL(t, PermAllow, deny(WhoAll, ActPublish, "t/secret"), allow(WhoAll, ActPublish, "t/#"))
	check(t, first, []authzCase{{c, pub, "t/secret", false}, {c, pub, "t/open", true}})
	// Reversed, the broad allow shadows the deny.
	second := newACL(t, PermDeny, allow(WhoAll, ActPublish, "t/#"), deny(WhoAll, ActPublish, "t/secret"))
	check(t, second, []authzCase{{c, pub, "t/secret", true}, {c, pub, "x", false}})
}

func TestAuthzNoMatch(t *testing.T) {
	c := client("u", "c", "")
	rules := []Rule{allow("username:other", ActAll, "#")}
	check(t, newACL(t, PermAllow, rules...), []authzCase{{c, pub, "a", true}})
	check(t, newACL(t, PermDeny, rules...), []authzCase{{c, pub, "a", false}})
}

// TestAuthzSubscribeFilter pins EMQX's emqx_authz_rule:match_topic/2 on
// words: the requested filter is matched as if it were a name.
func TestAuthzSubscribeFilter(t *testing.T) {
	cases := []struct {
		rule, filter string
		allowWant    bool // as the topic of an allow rule
		denyWant     bool // as the topic of a deny rule
	}{
		{"t/#", "t/a", true, true},
		{"t/#", "t/+", true, true},
		{"t/#", "t/#", true, true},
		{"t/#", "t", true, true}, // '#' includes the parent level
		{"t/#", "u/#", false, false},
		{"t/+", "t/a", true, true},
		{"t/+", "t/+", true, true},
		{"t/+", "t/#", false, true}, // EMQX allows; Herald's allow rules do not
		{"t/+", "t/a/b", false, false},
		{"t/a", "t/+", false, false},
		{"t/a", "t/#", false, false},
		{"t/a", "t/a", true, true},
		{"+/+", "t/#", false, true},
		{"#", "#", true, true},
		{"#", "+/x", true, true},
		{"+", "#", false, true},
		{"a/+/c", "a/+/c", true, true},
		{"a/+/#", "a/#", false, true},
		{"a/+/#", "a/b/#", true, true},
	}
	c := client("u", "c", "")
	for _, tc := range cases {
		yes := newACL(t, PermDeny, allow(WhoAll, ActSubscribe, tc.rule))
		no := newACL(t, PermAllow, deny(WhoAll, ActSubscribe, tc.rule))
		if got := yes.Authorize(c, sub, tc.filter, 0, false); got != tc.allowWant {
			t.Errorf("allow %q, subscribe %q: %v, want %v", tc.rule, tc.filter, got, tc.allowWant)
		}
		if got := !no.Authorize(c, sub, tc.filter, 0, false); got != tc.denyWant {
			t.Errorf("deny %q, subscribe %q: denied=%v, want %v", tc.rule, tc.filter, got, tc.denyWant)
		}
	}
}

func TestAuthzEq(t *testing.T) {
	// EMQX's default acl.conf: deny subscribing to exactly "#" and $SYS,
	// allow the rest.
	a := newACL(t, PermDeny,
		deny(WhoAll, ActSubscribe, "$SYS/#", "eq #"),
		allow(WhoAll, ActAll, "#"),
	)
	c := client("u", "c", "")
	check(t, a, []authzCase{
		{c, sub, "#", false},
		{c, sub, "+/#", true}, // eq is exact, not a filter
		{c, sub, "a/#", true},
		{c, sub, "$SYS/broker/uptime", false},
		{c, pub, "#", true}, // the deny is subscribe-only
	})
	b := newACL(t, PermDeny, allow(WhoAll, ActAll, "eq t/+"))
	check(t, b, []authzCase{{c, sub, "t/+", true}, {c, sub, "t/a", false}, {c, pub, "t/a", false}})
}

func TestAuthzDollarTopics(t *testing.T) {
	// EMQX matches rule words, so a wildcard rule covers $-topics too
	// (unlike subscription matching, [MQTT-4.7.2-1]).
	a := newACL(t, PermAllow, deny(WhoAll, ActAll, "#"))
	c := client("u", "c", "")
	check(t, a, []authzCase{{c, pub, "$SYS/x", false}, {c, sub, "$SYS/#", false}, {c, pub, "a", false}})
	b := newACL(t, PermDeny, allow(WhoAll, ActPublish, "+/x"))
	check(t, b, []authzCase{{c, pub, "$internal/x", true}})
}

func TestAuthzPlaceholders(t *testing.T) {
	a := newACL(t, PermDeny,
		allow(WhoAll, ActAll, "u/%u/#", "c/%c/#", "cn/%C"),
		allow(WhoAll, ActAll, "v5/${username}/${clientid}", "cert/${cert_common_name}/x"),
		allow(WhoAll, ActPublish, "dev-%c-out", "pre/x%uy"),
		allow(WhoAll, ActPublish, "public/#", "%u"),
	)
	alice := client("alice", "dev1", "")
	alice.CertCN = "alice.example"
	anon := client("", "anon1", "")
	check(t, a, []authzCase{
		{alice, pub, "u/alice/x", true},
		{alice, pub, "u/alice", true},
		{alice, sub, "u/alice/+", true},
		{alice, pub, "u/bob/x", false},
		{alice, pub, "c/dev1/x", true},
		{alice, pub, "c/dev2/x", false},
		{alice, pub, "cn/alice.example", true},
		{alice, pub, "v5/alice/dev1", true},
		{alice, pub, "v5/alice/dev2", false},
		{alice, pub, "cert/alice.example/x", true},
		{alice, pub, "dev-dev1-out", true},
		{alice, pub, "dev-dev1-outx", false},
		{alice, pub, "pre/xalicey", true},
		{alice, pub, "pre/xalice", false},
		{alice, pub, "alice", true},
		{alice, pub, "%u", false},
		{alice, sub, "u/+/x", false}, // a requested wildcard never equals a placeholder
		// No username: %u topics never match, others in the same rule still do.
		{anon, pub, "u//x", false},
		{anon, pub, "pre/xy", false},
		{anon, pub, "c/anon1/x", true},
		{anon, pub, "public/x", true},
		{anon, pub, "cn/", false}, // no certificate
	})
}

func TestAuthzPlaceholderInjection(t *testing.T) {
	// EMQX refuses to render values containing '/', '+' or '#'
	// (topic_template_allow defaults to false): those topics don't match.
	a := newACL(t, PermDeny, allow(WhoAll, ActAll, "t/%u/#", "x/%c"))
	check(t, a, []authzCase{
		{client("#", "c", ""), sub, "t/#", false},
		{client("#", "c", ""), sub, "t/#/#", false},
		{client("+", "c", ""), sub, "t/+", false},
		{client("a/b", "c", ""), pub, "t/a/b", false},
		{client("u", "a/b", ""), pub, "x/a/b", false},
		{client("u", "a+", ""), pub, "x/a+", false},
		{client("u", "ok", ""), pub, "x/ok", true},
	})
}

func TestAuthzSharedSubscriptions(t *testing.T) {
	a := newACL(t, PermDeny, allow(WhoAll, ActSubscribe, "jobs/#"))
	c := client("u", "c", "")
	check(t, a, []authzCase{
		{c, sub, "$share/workers/jobs/+", true},
		{c, sub, "$share/workers/other/+", false},
		{c, sub, "$queue/jobs/a", true},
		{c, sub, "$share/jobs", false}, // malformed: no filter after the group
	})
}

func TestAuthzQoSRetain(t *testing.T) {
	a := newACL(t, PermAllow,
		Rule{Permission: PermDeny, Who: WhoAll, Action: ActPublish, Topics: []string{"r/#"}, Retain: "true"},
		Rule{Permission: PermDeny, Who: WhoAll, Action: ActAll, Topics: []string{"q/#"}, QoS: []byte{2}},
		Rule{Permission: PermDeny, Who: WhoAll, Action: ActSubscribe, Topics: []string{"s/#"}, Retain: "false"},
	)
	c := client("u", "c", "")
	cases := []struct {
		action broker.Action
		topic  string
		qos    byte
		retain bool
		want   bool
	}{
		{pub, "r/1", 0, true, false},
		{pub, "r/1", 0, false, true},
		{pub, "q/1", 2, false, false},
		{pub, "q/1", 1, false, true},
		{sub, "q/#", 2, false, false},
		{sub, "q/#", 0, false, true},
		{sub, "s/1", 0, false, false}, // retain conditions do not apply to subscribe
		{sub, "s/1", 0, true, false},
	}
	for pass := range 2 {
		for _, tc := range cases {
			if got := a.Authorize(c, tc.action, tc.topic, tc.qos, tc.retain); got != tc.want {
				t.Fatalf("pass %d: %d %q qos %d retain %v: %v, want %v", pass, tc.action, tc.topic, tc.qos, tc.retain, got, tc.want)
			}
		}
	}
}

func TestAuthzConfigErrors(t *testing.T) {
	good := allow(WhoAll, ActAll, "#")
	cases := []struct {
		rule Rule
		want string
	}{
		{Rule{Permission: "permit", Who: WhoAll, Action: ActAll, Topics: []string{"#"}}, "permission"},
		{Rule{Permission: PermAllow, Who: "user:x", Action: ActAll, Topics: []string{"#"}}, "who"},
		{Rule{Permission: PermAllow, Who: "username:", Action: ActAll, Topics: []string{"#"}}, "who"},
		{Rule{Permission: PermAllow, Who: "ipaddr:10.0.0.0/33", Action: ActAll, Topics: []string{"#"}}, "ipaddr"},
		{Rule{Permission: PermAllow, Who: WhoAll, Action: "pubsub", Topics: []string{"#"}}, "action"},
		{Rule{Permission: PermAllow, Who: WhoAll, Action: ActAll}, "no topics"},
		{allow(WhoAll, ActAll, "a/#/b"), "topic 0"},
		{allow(WhoAll, ActAll, "ok", "a+/b"), "topic 1"},
		{allow(WhoAll, ActAll, ""), "topic 0"},
		{allow(WhoAll, ActAll, "a\x00b"), "topic 0"},
		{allow(WhoAll, ActAll, "eq "), "topic 0"},
		{allow(WhoAll, ActAll, "t/${user}"), "unknown placeholder"},
		{allow(WhoAll, ActAll, "t/${username"), "unterminated"},
		{Rule{Permission: PermAllow, Who: WhoAll, Action: ActAll, Topics: []string{"#"}, QoS: []byte{3}}, "qos"},
		{Rule{Permission: PermAllow, Who: WhoAll, Action: ActAll, Topics: []string{"#"}, Retain: "yes"}, "retain"},
	}
	for _, tc := range cases {
		_, err := NewACL(ACLConfig{Rules: []Rule{good, good, tc.rule}})
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "rule 2") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want ErrInvalidConfig naming rule 2 and %q", tc.rule, err, tc.want)
		}
	}
	if _, err := NewACL(ACLConfig{NoMatch: "maybe"}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("NoMatch maybe: err = %v", err)
	}
}

func TestAuthzLiteralPercent(t *testing.T) {
	// Only %u, %c and %C are placeholders; other '%' text is literal.
	a := newACL(t, PermDeny, allow(WhoAll, ActPublish, "100%/%x", "%"))
	c := client("u", "c", "")
	check(t, a, []authzCase{{c, pub, "100%/%x", true}, {c, pub, "%", true}, {c, pub, "100%/y", false}})
}
