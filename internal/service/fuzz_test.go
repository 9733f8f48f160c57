package service

import (
	"fmt"
	"reflect"
	"testing"
)

// FuzzParseHOCON: any text either parses or is refused with an error,
// never a panic; what parses renders to HOCON that parses to the same tree.
func FuzzParseHOCON(f *testing.F) {
	for _, s := range []string{
		"mqtt.max_packet_size = 2MB\n",
		"mqtt { max_inflight = 32, retry_interval: \"30s\" }\n# comment\nlog.level = debug",
		"a = [1, 2, {b = c}]\n", "a { b { c = \"x\\\"y\" } }\na.b.d = true", "x = ${y}", "{",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		tree, err := ParseHOCON(text)
		if err != nil {
			return
		}
		again, err := ParseHOCON(RenderHOCON(tree))
		if err != nil {
			t.Fatalf("rendered HOCON does not parse: %v\n%s", err, RenderHOCON(tree))
		}
		if !reflect.DeepEqual(normalize(tree), normalize(again)) {
			t.Fatalf("round trip changed the tree:\n%#v\n%#v", tree, again)
		}
	})
}

// normalize renders scalars as strings: a bare word and a quoted string
// with the same text are the same value to config.Set.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = normalize(e)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	}
	return fmt.Sprint(v)
}

// FuzzBootstrapLine: a bootstrap file line is accepted or refused, never a
// panic, and an accepted one has a key, a secret and a known role.
func FuzzBootstrapLine(f *testing.F) {
	for _, s := range []string{"key:secret", "k:s:viewer", "k:s:bad", ":", "a::", "k:s:publisher:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		k, err := parseBootstrapLine(line)
		if err != nil {
			return
		}
		if k.secret == "" || checkKeyRole(k.Role) != nil {
			t.Fatalf("accepted %q as %+v", line, k)
		}
	})
}
