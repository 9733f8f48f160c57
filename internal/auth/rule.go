package auth

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/herald-mqtt/herald/internal/broker"
)

// Rule is one access-control rule, as an EMQX acl.conf line:
// {Permission, Who, Action, Topics}, with EMQX 5's optional qos and retain.
type Rule struct {
	Permission string // "allow" | "deny"
	// Who: "all", "username:<name>", "clientid:<id>" or "ipaddr:<cidr or address>".
	Who string
	// Action: "publish", "subscribe" or "all".
	Action string
	// Topics are filters ("t/+/x", "%u/#", "${clientid}/in") or exact strings
	// ("eq t/#"); the rule applies when any of them matches.
	Topics []string
	QoS    []byte // the rule applies only to these QoS levels; empty: all
	Retain string // publish only: "true" or "false" narrows; "" or "all": any
}

// Permission, Who and Action keywords.
const (
	PermAllow     = "allow"
	PermDeny      = "deny"
	WhoAll        = "all"
	WhoUsername   = "username:"
	WhoClientID   = "clientid:"
	WhoIPAddr     = "ipaddr:"
	ActPublish    = "publish"
	ActSubscribe  = "subscribe"
	ActAll        = "all"
	eqPrefix      = "eq "
	maxTopicBytes = 65535 // [MQTT-4.7.3-3]
)

type whoKind uint8

const (
	whoAll whoKind = iota
	whoUsername
	whoClientID
	whoIPAddr
)

// rule is a compiled Rule.
type rule struct {
	allow   bool
	who     whoKind
	whoStr  string
	prefix  netip.Prefix
	actions broker.Action
	qos     uint8 // bit q set: QoS q allowed; 0: any
	retain  int8  // -1 any, 0 false, 1 true
	topics  []ruleTopic
}

// compileRules compiles a rule list; errors name the rule index.
func compileRules(rules []Rule) ([]rule, error) {
	out := make([]rule, len(rules))
	for i := range rules {
		r, err := compileRule(&rules[i])
		if err != nil {
			return nil, fmt.Errorf("%w: rule %d: %w", ErrInvalidConfig, i, err)
		}
		out[i] = r
	}
	return out, nil
}

func compileRule(in *Rule) (rule, error) {
	var r rule
	var err error
	if r.allow, err = parsePermission(in.Permission); err != nil {
		return r, err
	}
	if err = r.parseWho(in.Who); err != nil {
		return r, err
	}
	if r.actions, err = parseAction(in.Action); err != nil {
		return r, err
	}
	if r.qos, err = parseQoS(in.QoS); err != nil {
		return r, err
	}
	if r.retain, err = parseRetain(in.Retain); err != nil {
		return r, err
	}
	r.topics, err = compileTopics(in.Topics)
	return r, err
}

func parsePermission(s string) (bool, error) {
	switch s {
	case PermAllow:
		return true, nil
	case PermDeny:
		return false, nil
	}
	return false, fmt.Errorf("permission %q, want allow or deny", s)
}

func (r *rule) parseWho(s string) error {
	switch {
	case s == WhoAll:
		r.who = whoAll
	case strings.HasPrefix(s, WhoUsername) && len(s) > len(WhoUsername):
		r.who, r.whoStr = whoUsername, s[len(WhoUsername):]
	case strings.HasPrefix(s, WhoClientID) && len(s) > len(WhoClientID):
		r.who, r.whoStr = whoClientID, s[len(WhoClientID):]
	case strings.HasPrefix(s, WhoIPAddr):
		p, err := parsePrefix(s[len(WhoIPAddr):])
		r.who, r.prefix = whoIPAddr, p
		return err
	default:
		return fmt.Errorf("who %q, want all, username:<u>, clientid:<c> or ipaddr:<cidr>", s)
	}
	return nil
}

// parsePrefix accepts a CIDR or a single address, IPv4-mapped forms unmapped.
func parsePrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil {
			return p, fmt.Errorf("ipaddr %q: %w", s, err)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

func parseAction(s string) (broker.Action, error) {
	switch s {
	case ActPublish:
		return broker.ActionPublish, nil
	case ActSubscribe:
		return broker.ActionSubscribe, nil
	case ActAll:
		return broker.ActionPublish | broker.ActionSubscribe, nil
	}
	return 0, fmt.Errorf("action %q, want publish, subscribe or all", s)
}

func parseQoS(qs []byte) (uint8, error) {
	var m uint8
	for _, q := range qs {
		if q > 2 {
			return 0, fmt.Errorf("qos %d", q)
		}
		m |= 1 << q
	}
	return m, nil
}

func parseRetain(s string) (int8, error) {
	switch s {
	case "", "all":
		return -1, nil
	case "false":
		return 0, nil
	case "true":
		return 1, nil
	}
	return 0, fmt.Errorf("retain %q, want true, false or all", s)
}

func compileTopics(topics []string) ([]ruleTopic, error) {
	if len(topics) == 0 {
		return nil, errors.New("no topics")
	}
	out := make([]ruleTopic, len(topics))
	for i, t := range topics {
		ct, err := compileTopic(t)
		if err != nil {
			return nil, fmt.Errorf("topic %d (%q): %w", i, t, err)
		}
		out[i] = ct
	}
	return out, nil
}

// validFilter checks the topic filter rules of MQTT 4.7: non-empty
// [MQTT-4.7.3-1], no U+0000 [MQTT-4.7.3-2], at most 65535 bytes
// [MQTT-4.7.3-3], valid UTF-8 [MQTT-1.5.4-1], '#' alone and last
// [MQTT-4.7.1-1], '+' alone in its level [MQTT-4.7.1-2].
func validFilter(f string) error {
	if f == "" || len(f) > maxTopicBytes || !utf8.ValidString(f) || strings.IndexByte(f, 0) >= 0 {
		return errors.New("not a valid topic filter")
	}
	levels := strings.Split(f, "/")
	for i, l := range levels {
		if strings.ContainsAny(l, "+#") && l != "+" && l != "#" {
			return fmt.Errorf("wildcard not alone in level %q", l)
		}
		if l == "#" && i != len(levels)-1 {
			return errors.New("'#' is not the last level")
		}
	}
	return nil
}
