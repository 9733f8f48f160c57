package banned

import (
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/metastore"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newList(t *testing.T) (*List, *clock, *metastore.Store) {
	t.Helper()
	st, err := metastore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	l, err := New(st, c.now)
	if err != nil {
		t.Fatal(err)
	}
	return l, c, st
}

var lo = netip.MustParseAddr("127.0.0.1")

func TestBannedMatching(t *testing.T) {
	l, _, _ := newList(t)
	if _, ok := l.Check("c", "u", lo); ok {
		t.Fatal("empty list matched")
	}
	for _, b := range []Ban{
		{As: ClientID, Who: "bad"},
		{As: Username, Who: "evil"},
		{As: Peerhost, Who: "::ffff:10.0.0.1"},
		{As: ClientIDRe, Who: "^dev-[0-9]+$"},
		{As: UsernameRe, Who: "^guest"},
		{As: PeerhostNet, Who: "192.168.1.77/24"},
	} {
		if _, err := l.Add(b); err != nil {
			t.Fatalf("add %+v: %v", b, err)
		}
	}
	cases := []struct {
		c, u string
		a    string
		want bool
	}{
		{"bad", "", "1.1.1.1", true},
		{"good", "evil", "1.1.1.1", true},
		{"good", "", "10.0.0.1", true},
		{"good", "", "::ffff:10.0.0.1", true},
		{"dev-42", "", "1.1.1.1", true},
		{"dev-x", "", "1.1.1.1", false},
		{"good", "guest7", "1.1.1.1", true},
		{"good", "", "192.168.1.3", true},
		{"good", "", "192.168.2.3", false},
		{"good", "nice", "1.1.1.1", false},
	}
	for _, tc := range cases {
		if _, got := l.Check(tc.c, tc.u, netip.MustParseAddr(tc.a)); got != tc.want {
			t.Errorf("Check(%q, %q, %s) = %v, want %v", tc.c, tc.u, tc.a, got, tc.want)
		}
	}
	all := l.All()
	if len(all) != 6 {
		t.Fatalf("All = %d", len(all))
	}
	for _, b := range all {
		if b.As == PeerhostNet && b.Who != "192.168.1.0/24" || b.As == Peerhost && b.Who != "10.0.0.1" {
			t.Errorf("not canonical: %+v", b)
		}
		if b.By != DefaultBy || b.Until.Sub(b.At) != DefaultDuration {
			t.Errorf("defaults: %+v", b)
		}
	}
}

func TestBannedErrors(t *testing.T) {
	l, _, _ := newList(t)
	for _, b := range []Ban{{As: "ip", Who: "x"}, {As: Peerhost, Who: "nope"}, {As: PeerhostNet, Who: "1.2.3.4"},
		{As: ClientIDRe, Who: "("}, {As: ClientID, Who: ""}} {
		if _, err := l.Add(b); !errors.Is(err, ErrInvalid) {
			t.Errorf("Add(%+v) = %v, want ErrInvalid", b, err)
		}
	}
	b := Ban{As: ClientID, Who: "x", Reason: "first"}
	if _, err := l.Add(b); err != nil {
		t.Fatal(err)
	}
	_, err := l.Add(Ban{As: ClientID, Who: "x", Reason: "second"})
	var ee *ExistsError
	if !errors.As(err, &ee) || ee.Existing.Reason != "first" || !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate: %v", err)
	}
	if err := l.Delete(ClientID, "y"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete missing: %v", err)
	}
	if err := l.Delete(ClientID, "x"); err != nil {
		t.Fatal(err)
	}
	past := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := l.Add(Ban{As: ClientID, Who: "x", Until: past}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("expired ban accepted: %v", err)
	}
}

func TestBannedExpiryAndPersistence(t *testing.T) {
	l, c, st := newList(t)
	if _, err := l.Add(Ban{As: ClientID, Who: "short", Until: c.now().Add(2 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Add(Ban{As: PeerhostNet, Who: "127.0.0.0/8"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := l.Check("short", "", netip.Addr{}); !ok {
		t.Fatal("ban not in force")
	}
	c.add(2 * time.Second)
	if _, ok := l.Check("short", "", netip.Addr{}); ok {
		t.Fatal("expired ban still matches")
	}
	if n := len(l.All()); n != 1 {
		t.Fatalf("expired ban listed: %d", n)
	}
	// An expired ban may be replaced.
	if _, err := l.Add(Ban{As: ClientID, Who: "short", Until: c.now().Add(time.Hour)}); err != nil {
		t.Fatalf("replace expired: %v", err)
	}
	c.add(2 * time.Hour)
	if n, err := l.Sweep(); n != 1 || err != nil {
		t.Fatalf("Sweep = %d, %v", n, err)
	}
	l2, err := New(st, c.now)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l2.Check("any", "", lo); !ok || l2.Len() != 1 {
		t.Fatalf("reloaded list: len %d", l2.Len())
	}
	if err := l2.Clear(); err != nil {
		t.Fatal(err)
	}
	l3, _ := New(st, c.now)
	if l3.Len() != 0 {
		t.Fatal("Clear not persisted")
	}
}
