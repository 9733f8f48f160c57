package auth

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-mqtt/herald/internal/broker"
)

// DefaultACLCacheSize is the default number of slots of the result cache.
const DefaultACLCacheSize = 1 << 14

// ACLConfig configures NewACL.
type ACLConfig struct {
	Rules []Rule
	// NoMatch decides when no rule matches: "allow" (the default, as EMQX's
	// authorization.no_match) or "deny".
	NoMatch string
	// CacheSize is the number of result-cache slots, rounded up to a power
	// of two: 0 means DefaultACLCacheSize, negative disables the cache.
	CacheSize int
	Logger    *slog.Logger // nil: discard
}

// ACL is the built-in rule-based authorizer. It implements broker.Authorizer
// and is safe for concurrent use; see the package documentation for the rule
// semantics and the cache.
type ACL struct {
	cache *resultCache // nil: disabled
	log   *slog.Logger
	set   atomic.Pointer[ruleSet]

	mu      sync.Mutex // serializes SetRules
	noMatch bool
	gen     uint64
}

var _ broker.Authorizer = (*ACL)(nil)

// ruleSet is an immutable compiled rule list of one generation.
type ruleSet struct {
	gen     uint64
	rules   []rule
	noMatch bool
}

// anonymousClient stands in for a nil *ClientInfo: no identity at all.
var anonymousClient broker.ClientInfo

// NewACL validates and compiles the rules.
func NewACL(cfg ACLConfig) (*ACL, error) {
	a := &ACL{cache: newResultCache(cfg.CacheSize), log: loggerOrDiscard(cfg.Logger)}
	switch cfg.NoMatch {
	case "", PermAllow:
		a.noMatch = true
	case PermDeny:
	default:
		return nil, fmt.Errorf("%w: no_match %q, want allow or deny", ErrInvalidConfig, cfg.NoMatch)
	}
	if err := a.SetRules(cfg.Rules); err != nil {
		return nil, err
	}
	return a, nil
}

// SetRules compiles rules and atomically replaces the rule set, bumping the
// generation so that no result cached under the old rules is used again. On
// error the current rules stay in force.
func (a *ACL) SetRules(rules []Rule) error {
	compiled, err := compileRules(rules)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.gen++
	a.set.Store(&ruleSet{gen: a.gen, rules: compiled, noMatch: a.noMatch})
	a.log.Info("auth: ACL rules installed", "rules", len(compiled), "generation", a.gen)
	return nil
}

// Generation returns the generation of the rules in force (1 after NewACL).
func (a *ACL) Generation() uint64 { return a.set.Load().gen }

// Authorize reports whether client c may publish to the topic name or
// subscribe to the topic filter. Superusers always may; with no rules the
// answer is NoMatch. An action other than exactly one of ActionPublish and
// ActionSubscribe is refused.
func (a *ACL) Authorize(c *broker.ClientInfo, action broker.Action, topic string, qos byte, retain bool) bool {
	if c != nil && c.Superuser {
		return true
	}
	set := a.set.Load()
	if len(set.rules) == 0 {
		return set.noMatch
	}
	if c == nil {
		c = &anonymousClient
	}
	switch action {
	case broker.ActionPublish:
	case broker.ActionSubscribe:
		topic, retain = realFilter(topic), false
	default:
		return false
	}
	if a.cache == nil {
		return set.eval(c, action, topic, qos, retain)
	}
	return a.cached(set, c, action, topic, qos, retain)
}

// cached answers from the result cache, evaluating and storing on a miss.
func (a *ACL) cached(set *ruleSet, c *broker.ClientInfo, action broker.Action, topic string, qos byte, retain bool) bool {
	slot := a.cache.slot(c, action, topic, qos, retain)
	if e := slot.Load(); e != nil && e.is(set.gen, c, action, topic, qos, retain) {
		return e.allow
	}
	allow := set.eval(c, action, topic, qos, retain)
	slot.Store(&cacheEntry{
		client: c, topic: strings.Clone(topic), gen: set.gen,
		action: action, qos: qos, retain: retain, allow: allow, at: time.Now().UnixNano(),
	})
	return allow
}

// eval runs the rules in order: the first match decides.
func (s *ruleSet) eval(c *broker.ClientInfo, action broker.Action, topic string, qos byte, retain bool) bool {
	for i := range s.rules {
		if s.rules[i].match(c, action, topic, qos, retain) {
			return s.rules[i].allow
		}
	}
	return s.noMatch
}

// realFilter strips a shared-subscription prefix: "$share/<group>/<filter>"
// and "$queue/<filter>" are authorized as <filter> (MQTT 5 section 4.8.2).
func realFilter(f string) string {
	if rest, ok := strings.CutPrefix(f, "$share/"); ok {
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			return rest[i+1:]
		}
		return f
	}
	if rest, ok := strings.CutPrefix(f, "$queue/"); ok {
		return rest
	}
	return f
}
