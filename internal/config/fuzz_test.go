package config

import "testing"

// FuzzConfigParsers feeds one string to the duration, byte-size and rate
// parsers: none may panic, and whatever parses must format back to a
// string that parses to the same value. Seeds: testdata/fuzz/FuzzConfigParsers.
func FuzzConfigParsers(f *testing.F) {
	for _, s := range []string{"15s", "1h30m", "2.5m", "1MB", "1024", "100/10s", "infinity", "60/m", "0", ".5s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := ParseDuration(s); err == nil {
			if back, err := ParseDuration(FormatDuration(d)); err != nil || back != d {
				t.Fatalf("duration %q -> %v -> %q -> %v, %v", s, d, FormatDuration(d), back, err)
			}
		}
		if n, err := ParseByteSize(s); err == nil {
			if back, err := ParseByteSize(FormatByteSize(n)); err != nil || back != n {
				t.Fatalf("size %q -> %d -> %q -> %d, %v", s, n, FormatByteSize(n), back, err)
			}
		}
		if r, err := ParseRate(s); err == nil {
			if back, err := ParseRate(r.String()); err != nil || back != r {
				t.Fatalf("rate %q -> %v -> %q -> %v, %v", s, r, r.String(), back, err)
			}
		}
	})
}
