package auth

import (
	"fmt"
	"strings"

	"github.com/herald-mqtt/herald/internal/broker"
)

type levelKind uint8

const (
	levelLiteral  levelKind = iota
	levelPlus               // '+'
	levelHash               // '#', always the last level
	levelTemplate           // literal text with placeholders
)

type varKind uint8

const (
	varNone varKind = iota
	varUsername
	varClientID
	varCertCN
)

// Placeholders: EMQX 4 short forms and EMQX 5 ${...} forms.
var (
	shortVars = map[byte]varKind{'u': varUsername, 'c': varClientID, 'C': varCertCN}
	longVars  = map[string]varKind{"username": varUsername, "clientid": varClientID, "cert_common_name": varCertCN}
)

// part is a template piece: literal text, or a placeholder when v != varNone.
type part struct {
	v   varKind
	lit string
}

// level is one compiled level of a rule topic.
type level struct {
	kind  levelKind
	lit   string
	parts []part
}

// ruleTopic is a compiled rule topic: an exact string ("eq ...") or a
// filter split into levels.
type ruleTopic struct {
	eq     bool
	exact  string
	levels []level
}

func compileTopic(t string) (ruleTopic, error) {
	if f, ok := strings.CutPrefix(t, eqPrefix); ok {
		return ruleTopic{eq: true, exact: f}, validFilter(f)
	}
	if err := validFilter(t); err != nil {
		return ruleTopic{}, err
	}
	words := strings.Split(t, "/")
	rt := ruleTopic{levels: make([]level, len(words))}
	for i, w := range words {
		lv, err := compileLevel(w)
		if err != nil {
			return ruleTopic{}, err
		}
		rt.levels[i] = lv
	}
	return rt, nil
}

func compileLevel(w string) (level, error) {
	switch w {
	case "+":
		return level{kind: levelPlus}, nil
	case "#":
		return level{kind: levelHash}, nil
	}
	parts, err := parseTemplate(w)
	if err != nil || len(parts) == 0 || (len(parts) == 1 && parts[0].v == varNone) {
		return level{kind: levelLiteral, lit: w}, err
	}
	return level{kind: levelTemplate, parts: parts}, nil
}

// parseTemplate splits a level into literal text and placeholders.
func parseTemplate(w string) ([]part, error) {
	var parts []part
	lit := 0 // start of the pending literal
	for i := 0; i < len(w); {
		v, n, err := placeholderAt(w, i)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			i++
			continue
		}
		if i > lit {
			parts = append(parts, part{lit: w[lit:i]})
		}
		parts = append(parts, part{v: v})
		i += n
		lit = i
	}
	if lit < len(w) {
		parts = append(parts, part{lit: w[lit:]})
	}
	return parts, nil
}

// placeholderAt reports the placeholder starting at w[i] and its length
// (0: none). Other '%' sequences are literal text, as in EMQX.
func placeholderAt(w string, i int) (varKind, int, error) {
	if w[i] == '%' && i+1 < len(w) {
		if v, ok := shortVars[w[i+1]]; ok {
			return v, 2, nil
		}
	}
	if !strings.HasPrefix(w[i:], "${") {
		return varNone, 0, nil
	}
	end := strings.IndexByte(w[i:], '}')
	if end < 0 {
		return varNone, 0, fmt.Errorf("unterminated placeholder in %q", w)
	}
	v, ok := longVars[w[i+2:i+end]]
	if !ok {
		return varNone, 0, fmt.Errorf("unknown placeholder %q", w[i:i+end+1])
	}
	return v, end + 1, nil
}

// nextLevel splits off the first level of a topic; last reports that no '/'
// followed it.
func nextLevel(s string) (word, rest string, last bool) {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return s[:i], s[i+1:], false
	}
	return s, "", true
}

// match reports whether the rule topic matches a topic name (publish) or a
// requested filter (subscribe), EMQX emqx_topic:match/2 on words: rule '+'
// takes any one level, rule '#' the rest including none. In an allow rule a
// '+' does not take a requested '#' (see the package documentation).
func (t *ruleTopic) match(topic string, c *broker.ClientInfo, allow bool) bool {
	if t.eq {
		return topic == t.exact
	}
	rest, last := topic, false
	for i := range t.levels {
		lv := &t.levels[i]
		if lv.kind == levelHash {
			return true
		}
		if last {
			return false // the topic has fewer levels than the rule
		}
		var w string
		w, rest, last = nextLevel(rest)
		if !lv.match(w, c, allow) {
			return false
		}
	}
	return last
}

func (lv *level) match(w string, c *broker.ClientInfo, allow bool) bool {
	switch lv.kind {
	case levelLiteral:
		return w == lv.lit
	case levelPlus:
		return !allow || w != "#"
	}
	return lv.matchTemplate(w, c)
}

// matchTemplate compares w with the level rendered for client c, without
// rendering it. An unusable placeholder value never matches.
func (lv *level) matchTemplate(w string, c *broker.ClientInfo) bool {
	for _, p := range lv.parts {
		s := p.lit
		if p.v != varNone {
			s = value(p.v, c)
			if s == "" || strings.ContainsAny(s, "/+#") {
				return false
			}
		}
		if !strings.HasPrefix(w, s) {
			return false
		}
		w = w[len(s):]
	}
	return w == ""
}

func value(v varKind, c *broker.ClientInfo) string {
	switch v {
	case varUsername:
		return c.Username
	case varClientID:
		return c.ClientID
	case varCertCN:
		return c.CertCN
	}
	return ""
}

// matchWho reports whether the rule's principal is client c.
func (r *rule) matchWho(c *broker.ClientInfo) bool {
	switch r.who {
	case whoAll:
		return true
	case whoUsername:
		return c.Username == r.whoStr
	case whoClientID:
		return c.ClientID == r.whoStr
	}
	a := c.RemoteAddr.Addr()
	return a.IsValid() && r.prefix.Contains(a.Unmap().WithZone(""))
}

// match reports whether the rule applies, in EMQX's order: action (with QoS
// and retain conditions), principal, topics.
func (r *rule) match(c *broker.ClientInfo, action broker.Action, topic string, qos byte, retain bool) bool {
	if r.actions&action == 0 {
		return false
	}
	if r.qos != 0 && (qos > 2 || r.qos&(1<<qos) == 0) {
		return false
	}
	if action == broker.ActionPublish && r.retain >= 0 && (r.retain == 1) != retain {
		return false
	}
	if !r.matchWho(c) {
		return false
	}
	for i := range r.topics {
		if r.topics[i].match(topic, c, r.allow) {
			return true
		}
	}
	return false
}
