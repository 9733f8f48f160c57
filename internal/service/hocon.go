package service

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A small HOCON subset, enough for GET /configs with Accept: text/plain
// and the PUT /configs body:
//
//	# comment (also //)
//	mqtt {
//	  max_packet_size = "2MB"
//	  max_inflight = 64
//	}
//	sys_topics.sys_msg_interval = 2m
//	alarm { actions = [log, publish] }
//
// Keys are bare words or quoted strings, dotted paths nest; "=" or ":"
// before a value (optional before "{"); values are quoted strings,
// numbers, true/false/null, bare words (to the end of the line, a comma or
// a closing bracket), arrays and objects; fields end with a newline or a
// comma. Objects given twice merge. Substitutions (${...}), includes and
// triple-quoted strings are not supported and are refused.

// RenderHOCON writes a configuration tree as HOCON, keys sorted.
func RenderHOCON(tree map[string]any) string {
	var b strings.Builder
	writeHOCONObject(&b, tree, 0)
	return b.String()
}

func writeHOCONObject(b *strings.Builder, m map[string]any, depth int) {
	indent := strings.Repeat("  ", depth)
	for _, k := range sortedKeys(m) {
		b.WriteString(indent)
		b.WriteString(hoconKey(k))
		if sub, ok := m[k].(map[string]any); ok {
			if len(sub) == 0 {
				b.WriteString(" {}\n")
				continue
			}
			b.WriteString(" {\n")
			writeHOCONObject(b, sub, depth+1)
			b.WriteString(indent + "}\n")
			continue
		}
		b.WriteString(" = ")
		b.WriteString(jsonText(m[k]))
		b.WriteString("\n")
	}
}

// hoconKey quotes a key unless it is a plain word.
func hoconKey(k string) string {
	for _, r := range k {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return jsonText(k) // JSON string syntax, which the parser reads
		}
	}
	if k == "" {
		return `""`
	}
	return k
}

// ParseHOCON parses the subset described above into a JSON-like tree
// (numbers as float64).
func ParseHOCON(text string) (map[string]any, error) {
	if !utf8.ValidString(text) {
		return nil, fmt.Errorf("HOCON text is not valid UTF-8")
	}
	p := &hoconParser{s: text}
	obj, err := p.object(false)
	if err != nil {
		line := 1 + strings.Count(p.s[:min(p.i, len(p.s))], "\n")
		return nil, fmt.Errorf("HOCON line %d: %w", line, err)
	}
	return obj, nil
}

type hoconParser struct {
	s     string
	i     int
	depth int // nesting of objects and arrays (and dotted key parts), bounded by maxHOCONDepth
}

// maxHOCONDepth bounds nesting: Herald's configuration is a few levels
// deep, and a bound keeps a hostile body from costing deep recursion.
const maxHOCONDepth = 32

// nest enters one level of nesting.
func (p *hoconParser) nest(levels int) error {
	p.depth += levels
	if p.depth > maxHOCONDepth {
		return fmt.Errorf("nested more than %d levels deep", maxHOCONDepth)
	}
	return nil
}

func (p *hoconParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// skip skips blanks and comments; with nl, newlines too.
func (p *hoconParser) skip(nl bool) {
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || nl && c == '\n':
			p.i++
		case c == '#' || c == '/' && strings.HasPrefix(p.s[p.i:], "//"):
			for p.i < len(p.s) && p.s[p.i] != '\n' {
				p.i++
			}
		default:
			return
		}
	}
}

// object parses fields until '}' (braced) or the end.
func (p *hoconParser) object(braced bool) (map[string]any, error) {
	obj := map[string]any{}
	for {
		p.skip(true)
		c := p.peek()
		switch {
		case c == 0 && braced:
			return nil, fmt.Errorf("missing }")
		case c == 0:
			return obj, nil
		case c == '}' && braced:
			p.i++
			return obj, nil
		case c == ',':
			p.i++
			continue
		}
		if err := p.field(obj); err != nil {
			return nil, err
		}
	}
}

// field parses one key path and its value into obj.
func (p *hoconParser) field(obj map[string]any) error {
	path, err := p.keyPath()
	if err != nil {
		return err
	}
	if err := p.nest(len(path) - 1); err != nil {
		return err
	}
	defer func() { p.depth -= len(path) - 1 }()
	p.skip(false)
	switch p.peek() {
	case '=', ':':
		p.i++
		p.skip(false)
	case '{':
	default:
		return fmt.Errorf("want = or { after %q", strings.Join(path, "."))
	}
	v, err := p.value()
	if err != nil {
		return err
	}
	for i := len(path) - 1; i > 0; i-- {
		v = map[string]any{path[i]: v}
	}
	merge(obj, path[0], v)
	return nil
}

// merge stores v under k, merging objects.
func merge(obj map[string]any, k string, v any) {
	old, ok1 := obj[k].(map[string]any)
	nv, ok2 := v.(map[string]any)
	if !ok1 || !ok2 {
		obj[k] = v
		return
	}
	for sk, sv := range nv {
		merge(old, sk, sv)
	}
}

// keyPath parses a dotted key of bare or quoted parts.
func (p *hoconParser) keyPath() ([]string, error) {
	var parts []string
	for {
		var part string
		if p.peek() == '"' {
			s, err := p.quoted()
			if err != nil {
				return nil, err
			}
			part = s
		} else {
			start := p.i
			for p.i < len(p.s) && isKeyChar(p.s[p.i]) {
				p.i++
			}
			part = p.s[start:p.i]
			if part == "" {
				return nil, fmt.Errorf("want a key, got %q", string(p.peek()))
			}
		}
		parts = append(parts, part)
		if p.peek() != '.' {
			return parts, nil
		}
		p.i++
	}
}

func isKeyChar(c byte) bool {
	return c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// quoted parses a JSON string.
func (p *hoconParser) quoted() (string, error) {
	if strings.HasPrefix(p.s[p.i:], `"""`) {
		return "", fmt.Errorf("triple-quoted strings are not supported")
	}
	j := p.i + 1
	for j < len(p.s) && p.s[j] != '"' {
		if p.s[j] == '\\' {
			j++
		}
		if j < len(p.s) && p.s[j] == '\n' {
			break
		}
		j++
	}
	if j >= len(p.s) || p.s[j] != '"' {
		return "", fmt.Errorf("unterminated string")
	}
	var s string
	if err := json.Unmarshal([]byte(p.s[p.i:j+1]), &s); err != nil {
		return "", fmt.Errorf("bad string %s: %w", p.s[p.i:j+1], err)
	}
	p.i = j + 1
	return s, nil
}

// value parses one value.
func (p *hoconParser) value() (any, error) {
	switch c := p.peek(); c {
	case '{', '[':
		if err := p.nest(1); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		p.i++
		if c == '{' {
			return p.object(true)
		}
		return p.array()
	case '"':
		return p.quoted()
	case 0, '\n', ',', '}', ']':
		return nil, fmt.Errorf("missing value")
	}
	return p.bare()
}

// array parses values until ']'.
func (p *hoconParser) array() ([]any, error) {
	out := []any{}
	for {
		p.skip(true)
		switch p.peek() {
		case 0:
			return nil, fmt.Errorf("missing ]")
		case ']':
			p.i++
			return out, nil
		case ',':
			p.i++
			continue
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

// bare parses an unquoted value: a number, true/false/null, or a string.
func (p *hoconParser) bare() (any, error) {
	start := p.i
	for p.i < len(p.s) && !strings.ContainsRune("\n,}]#", rune(p.s[p.i])) && !strings.HasPrefix(p.s[p.i:], "//") {
		p.i++
	}
	w := strings.TrimSpace(p.s[start:p.i])
	if strings.Contains(w, "${") {
		return nil, fmt.Errorf("substitutions (${...}) are not supported")
	}
	switch w {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	}
	if f, err := strconv.ParseFloat(w, 64); err == nil && !strings.ContainsAny(w, "xXnN") {
		return f, nil
	}
	return w, nil
}
