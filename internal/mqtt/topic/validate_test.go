package topic

import (
	"errors"
	"strings"
	"testing"
)

func TestTopicValidateName(t *testing.T) {
	cases := []struct {
		name string
		want error
	}{
		{"a", nil},
		{"/", nil},
		{"a//b", nil},
		{"$SYS/broker", nil},
		{"a b/ü", nil},
		{"", ErrEmpty},             // [MQTT-4.7.3-1]
		{"a/+", ErrWildcardInName}, // [MQTT-3.3.2-2]
		{"a/#", ErrWildcardInName}, // [MQTT-3.3.2-2]
		{"a+b", ErrWildcardInName}, // [MQTT-3.3.2-2]
		{"#", ErrWildcardInName},   // [MQTT-3.3.2-2]
		{strings.Repeat("x", MaxLen), nil},
		{strings.Repeat("x", MaxLen+1), ErrTooLong}, // [MQTT-4.7.3-3]
	}
	for _, c := range cases {
		if err := ValidateName(c.name); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Fatalf("ValidateName(%.20q) = %v, want %v", c.name, err, c.want)
		}
		if err := ValidateNameBytes([]byte(c.name)); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Fatalf("ValidateNameBytes(%.20q) = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestTopicValidateNameBytesNoAlloc(t *testing.T) {
	b := []byte("device/1234/status")
	bad := []byte("device/+/status")
	allocs := testing.AllocsPerRun(100, func() {
		if ValidateNameBytes(b) != nil || ValidateNameBytes(bad) == nil {
			t.Fatal("unexpected result")
		}
	})
	if allocs != 0 {
		t.Fatalf("ValidateNameBytes allocates %v times", allocs)
	}
}

func TestTopicValidateFilter(t *testing.T) {
	cases := []struct {
		filter string
		want   error
	}{
		{"a", nil},
		{"#", nil},
		{"+", nil},
		{"/", nil},
		{"a/#", nil},
		{"/#", nil},
		{"+/+/#", nil},
		{"a//+/", nil},
		{"$SYS/#", nil},
		{"$share/g/a", nil},        // a plain filter here; ParseShare unwraps shares
		{"", ErrEmpty},             // [MQTT-4.7.3-1]
		{"a/#/b", ErrBadWildcard},  // [MQTT-4.7.1-1]
		{"#/", ErrBadWildcard},     // [MQTT-4.7.1-1]
		{"a#", ErrBadWildcard},     // [MQTT-4.7.1-1]
		{"a/b#", ErrBadWildcard},   // [MQTT-4.7.1-1]
		{"##", ErrBadWildcard},     // [MQTT-4.7.1-1]
		{"a+", ErrBadWildcard},     // [MQTT-4.7.1-2]
		{"a/+b/c", ErrBadWildcard}, // [MQTT-4.7.1-2]
		{"++", ErrBadWildcard},     // [MQTT-4.7.1-2]
		{"+#", ErrBadWildcard},     // [MQTT-4.7.1-2]
		{strings.Repeat("a/", MaxLen/2+1) + "#", ErrTooLong}, // [MQTT-4.7.3-3]
	}
	for _, c := range cases {
		err := ValidateFilter(c.filter)
		if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Fatalf("ValidateFilter(%.20q) = %v, want %v", c.filter, err, c.want)
		}
	}
}

func TestTopicLevels(t *testing.T) {
	cases := map[string]int{"a": 1, "/": 2, "a/b/c": 3, "a//b": 3, "#": 1, "a/": 2}
	for s, want := range cases {
		if got := Levels(s); got != want {
			t.Fatalf("Levels(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestTopicParseShare(t *testing.T) {
	cases := []struct {
		in, group, real string
		shared          bool
		want            error
	}{
		{"a/b", "", "a/b", false, nil},
		{"#", "", "#", false, nil},
		{"$SYS/#", "", "$SYS/#", false, nil},
		{"$sharex/a", "", "$sharex/a", false, nil},
		{"$SHARE/g/a", "", "$SHARE/g/a", false, nil}, // the prefix is case sensitive
		{"$share/g/a/b", "g", "a/b", true, nil},      // [MQTT-4.8.2-1]
		{"$share/g/#", "g", "#", true, nil},
		{"$share/g/+/x", "g", "+/x", true, nil},
		{"$share/g//", "g", "/", true, nil},
		{"$share/$g/$SYS/x", "$g", "$SYS/x", true, nil},
		{"$queue/a/+", QueueGroup, "a/+", true, nil},
		{"$queue/#", QueueGroup, "#", true, nil},
		{"a/+b", "", "", false, ErrBadWildcard},
		{"", "", "", false, ErrEmpty},
		{"$share", "", "", false, ErrBadShare},      // [MQTT-4.8.2-1]
		{"$queue", "", "", false, ErrBadShare},      // [MQTT-4.8.2-1]
		{"$share/", "", "", false, ErrBadShare},     // [MQTT-4.8.2-1]
		{"$share/g", "", "", false, ErrBadShare},    // [MQTT-4.8.2-2]
		{"$share/g/", "", "", false, ErrEmpty},      // [MQTT-4.8.2-2]
		{"$share//a", "", "", false, ErrBadShare},   // [MQTT-4.8.2-1]
		{"$share/g+/a", "", "", false, ErrBadShare}, // [MQTT-4.8.2-2]
		{"$share/#/a", "", "", false, ErrBadShare},  // [MQTT-4.8.2-2]
		{"$share/g/a#", "", "", false, ErrBadWildcard},
		{"$share/g/$share/h/a", "", "", false, ErrBadShare},
		{"$share/g/$queue/a", "", "", false, ErrBadShare},
		{"$queue/$share/g/a", "", "", false, ErrBadShare},
		{"$queue/", "", "", false, ErrEmpty},
	}
	for _, c := range cases {
		group, real, shared, err := ParseShare(c.in)
		if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Fatalf("ParseShare(%q) error = %v, want %v", c.in, err, c.want)
		}
		if group != c.group || real != c.real || shared != c.shared {
			t.Fatalf("ParseShare(%q) = %q, %q, %v; want %q, %q, %v", c.in, group, real, shared, c.group, c.real, c.shared)
		}
	}
}

func TestTopicParseShareErrorsWrapBadShare(t *testing.T) {
	for _, in := range []string{"$share/g/", "$share/g/a#", "$queue/", "$queue/a/#/b"} {
		if _, _, _, err := ParseShare(in); !errors.Is(err, ErrBadShare) {
			t.Fatalf("ParseShare(%q) = %v, want it to wrap ErrBadShare", in, err)
		}
	}
}
