package topic

import "testing"

func TestTopicMatch(t *testing.T) {
	cases := []struct {
		filter, name string
		want         bool
	}{
		{"a/b", "a/b", true},
		{"a/b", "a/c", false},
		{"a/+", "a/b", true},
		{"a/+", "a/b/c", false},
		{"a/#", "a", true},
		{"a/#", "a/b/c", true},
		{"#", "a/b", true},
		{"+/+", "/a", true},
		{"+", "", true},
		{"a/+/c", "a//c", true},
		{"#", "$SYS/x", false},
		{"+/x", "$SYS/x", false},
		{"$SYS/#", "$SYS/x", true},
		{"a/b", "a/b/", false},
		{"a/+", "a/", true},
		{"a/b/#", "a", false},
	}
	for _, c := range cases {
		if got := Match(c.filter, c.name); got != c.want {
			t.Fatalf("Match(%q, %q) = %v, want %v", c.filter, c.name, got, c.want)
		}
	}
}
