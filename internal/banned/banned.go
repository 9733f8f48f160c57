// Package banned is the node's ban list (EMQX's "banned" table): client
// ids, usernames and peer addresses refused at CONNECT, exactly or by
// pattern (clientid_re, username_re, peerhost_net), each until a time.
//
// Exact bans are map lookups; pattern bans are checked in turn, so keep
// them few. An expired ban neither matches nor lists, and Sweep removes it.
// The list is kept as one JSON document in a metastore (DataDir/mgmt), so
// bans survive a restart.
package banned

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is what a ban matches ("as" in EMQX's API).
type Kind string

// Kinds of bans.
const (
	ClientID    Kind = "clientid"
	Username    Kind = "username"
	Peerhost    Kind = "peerhost"
	ClientIDRe  Kind = "clientid_re"
	UsernameRe  Kind = "username_re"
	PeerhostNet Kind = "peerhost_net"
)

// Kinds lists every kind, in EMQX's order.
var Kinds = []Kind{ClientID, Username, Peerhost, ClientIDRe, UsernameRe, PeerhostNet}

// DefaultBy is who made a ban when the request does not say (EMQX's
// default).
const DefaultBy = "mgmt_api"

// DefaultDuration is how long a ban without an until lasts: one year from
// its at, as EMQX 5.6 does (5.8 changed the default to infinity).
const DefaultDuration = 365 * 24 * time.Hour

// Ban is one entry of the list.
type Ban struct {
	As     Kind      `json:"as"`
	Who    string    `json:"who"` // canonical: an address or prefix as netip prints it
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
	Until  time.Time `json:"until"` // zero: never expires
}

// Expired reports whether the ban no longer applies at now.
func (b *Ban) Expired(now time.Time) bool { return !b.Until.IsZero() && !now.Before(b.Until) }

// Errors of the list.
var (
	ErrInvalid  = errors.New("banned: invalid ban")
	ErrNotFound = errors.New("banned: not found")
	ErrExists   = errors.New("banned: already exists")
)

// ExistsError is returned by Add when an unexpired ban of the same as and
// who exists; it wraps ErrExists.
type ExistsError struct{ Existing Ban }

func (e *ExistsError) Error() string {
	return fmt.Sprintf("banned: %s %q already banned", e.Existing.As, e.Existing.Who)
}

// Unwrap returns ErrExists.
func (e *ExistsError) Unwrap() error { return ErrExists }

// Store keeps the list durable (a *metastore.Store).
type Store interface {
	Load(name string, v any) (bool, error)
	Save(name string, v any) error
}

// document is the metastore document name.
const document = "banned"

type key struct {
	as  Kind
	who string
}

// entry is a ban with its compiled matcher.
type entry struct {
	Ban
	match func(clientID, username string, addr netip.Addr) bool
}

// List is the ban list. Safe for concurrent use; Check takes a read lock
// and is lock-free while the list is empty.
type List struct {
	mu      sync.RWMutex
	exact   map[key]*entry // clientid, username, peerhost
	rules   map[key]*entry // the pattern kinds
	n       atomic.Int64   // entries, for the empty fast path
	version uint64         // bumped by every change, under mu

	saveMu sync.Mutex
	saved  uint64 // version last written, under saveMu
	store  Store
	now    func() time.Time
}

// New returns the list kept in store (nil: in memory only), loading what
// it holds. now is the clock (nil: time.Now).
func New(store Store, now func() time.Time) (*List, error) {
	if now == nil {
		now = time.Now
	}
	l := &List{exact: map[key]*entry{}, rules: map[key]*entry{}, store: store, now: now}
	if store == nil {
		return l, nil
	}
	var bans []Ban
	if _, err := store.Load(document, &bans); err != nil {
		return nil, fmt.Errorf("banned: load: %w", err)
	}
	t := now()
	for _, b := range bans {
		e, err := compile(b)
		if err != nil || e.Expired(t) {
			continue // a stored ban that no longer parses (or has expired) is dropped
		}
		l.put(e)
	}
	return l, nil
}

// Normalize checks a ban and puts its who in canonical form (addresses
// and prefixes as netip prints them, a prefix masked). It fills By and
// Until with their defaults. A ban whose until is not after now is
// invalid, as in EMQX.
func Normalize(b Ban, now time.Time) (Ban, error) {
	if b.By == "" {
		b.By = DefaultBy
	}
	if b.At.IsZero() {
		b.At = now
	}
	if b.Until.IsZero() {
		b.Until = b.At.Add(DefaultDuration)
	}
	if !b.Until.After(now) {
		return b, fmt.Errorf("%w: cannot create an expired ban (until %s)", ErrInvalid, b.Until.Format(time.RFC3339))
	}
	e, err := compile(b)
	if err != nil {
		return b, err
	}
	return e.Ban, nil
}

// compile parses a ban's who and builds its matcher.
func compile(b Ban) (*entry, error) {
	if b.Who == "" {
		return nil, fmt.Errorf("%w: who is empty", ErrInvalid)
	}
	e := &entry{Ban: b}
	switch b.As {
	case ClientID:
		e.match = func(c, _ string, _ netip.Addr) bool { return c == b.Who }
	case Username:
		e.match = func(_, u string, _ netip.Addr) bool { return u != "" && u == b.Who }
	case Peerhost:
		a, err := netip.ParseAddr(b.Who)
		if err != nil {
			return nil, fmt.Errorf("%w: bad peerhost %q", ErrInvalid, b.Who)
		}
		a = a.Unmap()
		e.Who = a.String()
		e.match = func(_, _ string, x netip.Addr) bool { return x.Unmap() == a }
	case PeerhostNet:
		p, err := netip.ParsePrefix(b.Who)
		if err != nil {
			return nil, fmt.Errorf("%w: bad peerhost_net %q (want a CIDR such as 10.0.0.0/8)", ErrInvalid, b.Who)
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		p = p.Masked()
		e.Who = p.String()
		e.match = func(_, _ string, x netip.Addr) bool { return x.IsValid() && p.Contains(x.Unmap()) }
	case ClientIDRe, UsernameRe:
		re, err := regexp.Compile(b.Who)
		if err != nil {
			return nil, fmt.Errorf("%w: bad regular expression %q: %v", ErrInvalid, b.Who, err)
		}
		if b.As == ClientIDRe {
			e.match = func(c, _ string, _ netip.Addr) bool { return re.MatchString(c) }
		} else {
			e.match = func(_, u string, _ netip.Addr) bool { return u != "" && re.MatchString(u) }
		}
	default:
		return nil, fmt.Errorf("%w: as must be one of %s", ErrInvalid, kindNames())
	}
	return e, nil
}

func kindNames() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// ValidKind reports whether as names a kind.
func ValidKind(as string) bool { return slices.Contains(Kinds, Kind(as)) }

// Matcher returns a function reporting whether a client is caught by b
// (for kicking the live clients a new ban catches).
func Matcher(b Ban) (func(clientID, username string, addr netip.Addr) bool, error) {
	e, err := compile(b)
	if err != nil {
		return nil, err
	}
	return e.match, nil
}

func (l *List) table(as Kind) map[key]*entry {
	switch as {
	case ClientID, Username, Peerhost:
		return l.exact
	}
	return l.rules
}

// put stores e. Lock held (or not yet shared).
func (l *List) put(e *entry) {
	t := l.table(e.As)
	k := key{e.As, e.Who}
	if _, ok := t[k]; !ok {
		l.n.Add(1)
	}
	t[k] = e
	l.version++
}

// del removes a ban. Lock held.
func (l *List) del(k key) bool {
	t := l.table(k.as)
	if _, ok := t[k]; !ok {
		return false
	}
	delete(t, k)
	l.n.Add(-1)
	l.version++
	return true
}
