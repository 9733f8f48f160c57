package topic

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func FuzzTopicValidateFilter(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateFilter(s)
		levels := strings.Split(s, "/")
		if Levels(s) != len(levels) {
			t.Fatalf("Levels(%q) = %d, want %d", s, Levels(s), len(levels))
		}
		if nameErr := ValidateName(s); nameErr == nil && err != nil {
			t.Fatalf("%q is a valid name but not a valid filter: %v", s, err)
		}
		if !errors.Is(ValidateNameBytes([]byte(s)), ValidateName(s)) {
			t.Fatalf("ValidateNameBytes and ValidateName disagree on %q", s)
		}
		if err != nil {
			if !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrTooLong) && !errors.Is(err, ErrBadWildcard) {
				t.Fatalf("ValidateFilter(%q) = %v: not a sentinel", s, err)
			}
			return
		}
		if s == "" || len(s) > MaxLen {
			t.Fatalf("ValidateFilter accepted %d bytes", len(s))
		}
		for i, l := range levels {
			if l != "+" && (l != "#" || i != len(levels)-1) && strings.ContainsAny(l, "+#") {
				t.Fatalf("ValidateFilter accepted %q with level %q", s, l) // [MQTT-4.7.1-1] [MQTT-4.7.1-2]
			}
		}
	})
}

func FuzzTopicParseShare(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		group, real, shared, err := ParseShare(s)
		if err != nil {
			if group != "" || real != "" || shared {
				t.Fatalf("ParseShare(%q) returned %q, %q, %v with error %v", s, group, real, shared, err)
			}
			return
		}
		if ValidateFilter(real) != nil {
			t.Fatalf("ParseShare(%q) returned invalid real filter %q", s, real)
		}
		switch {
		case !shared:
			if group != "" || real != s || strings.HasPrefix(s, "$share/") || strings.HasPrefix(s, "$queue/") {
				t.Fatalf("ParseShare(%q) = %q, %q, not shared", s, group, real)
			}
		case group == QueueGroup:
			if s != "$queue/"+real {
				t.Fatalf("ParseShare(%q) = $queue, %q", s, real)
			}
		default:
			if group == "" || strings.ContainsAny(group, "/+#") || s != "$share/"+group+"/"+real {
				t.Fatalf("ParseShare(%q) = %q, %q", s, group, real) // [MQTT-4.8.2-1] [MQTT-4.8.2-2]
			}
		}
	})
}

// FuzzTopicMatch builds a small trie from newline-separated filters and
// checks that it agrees with Match on name, before and after removals.
func FuzzTopicMatch(f *testing.F) {
	f.Fuzz(func(t *testing.T, filterList, name string) {
		var filters []string
		for _, fl := range strings.Split(filterList, "\n") {
			if ValidateFilter(fl) == nil && !slices.Contains(filters, fl) && len(filters) < 32 {
				filters = append(filters, fl)
			}
		}
		tr := newTrieOf(filters...)
		checkMatches(t, tr, filters, name)
		for _, fl := range filters {
			if v, ok := tr.Load(fl); !ok || v != fl {
				t.Fatalf("Load(%q) = %q, %v", fl, v, ok)
			}
		}
		for i := 0; i < len(filters); i += 2 {
			del(tr, filters[i])
		}
		var kept []string
		for i := 1; i < len(filters); i += 2 {
			kept = append(kept, filters[i])
		}
		checkMatches(t, tr, kept, name)
		if tr.Len() != len(kept) {
			t.Fatalf("Len() = %d after removals, want %d", tr.Len(), len(kept))
		}
	})
}
