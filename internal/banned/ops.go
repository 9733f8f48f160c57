package banned

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
)

// Add normalizes b and adds it. An unexpired ban of the same as and who
// is an *ExistsError holding it (EMQX does not update a ban in place); an
// expired one is replaced. It returns the ban as stored.
func (l *List) Add(b Ban) (Ban, error) {
	now := l.now()
	b, err := Normalize(b, now)
	if err != nil {
		return b, err
	}
	e, err := compile(b)
	if err != nil {
		return b, err
	}
	l.mu.Lock()
	if old, ok := l.table(b.As)[key{b.As, b.Who}]; ok && !old.Expired(now) {
		l.mu.Unlock()
		return b, &ExistsError{Existing: old.Ban}
	}
	l.put(e)
	snap, v := l.snapshot()
	l.mu.Unlock()
	return b, l.save(snap, v)
}

// Delete removes the ban of as and who (who in any form Normalize
// accepts). ErrNotFound when there is none, or only an expired one.
func (l *List) Delete(as Kind, who string) error {
	e, err := compile(Ban{As: as, Who: who})
	if err != nil {
		return err
	}
	k := key{as, e.Who}
	now := l.now()
	l.mu.Lock()
	old, ok := l.table(as)[k]
	if !ok || old.Expired(now) {
		if ok {
			l.del(k)
		}
		l.mu.Unlock()
		return fmt.Errorf("%w: %s %q", ErrNotFound, as, who)
	}
	l.del(k)
	snap, v := l.snapshot()
	l.mu.Unlock()
	return l.save(snap, v)
}

// Clear removes every ban.
func (l *List) Clear() error {
	l.mu.Lock()
	clear(l.exact)
	clear(l.rules)
	l.n.Store(0)
	l.version++
	snap, v := l.snapshot()
	l.mu.Unlock()
	return l.save(snap, v)
}

// All returns the unexpired bans, oldest first (then by as and who).
func (l *List) All() []Ban {
	now := l.now()
	l.mu.RLock()
	out := make([]Ban, 0, len(l.exact)+len(l.rules))
	for _, t := range []map[key]*entry{l.exact, l.rules} {
		for _, e := range t {
			if !e.Expired(now) {
				out = append(out, e.Ban)
			}
		}
	}
	l.mu.RUnlock()
	slices.SortFunc(out, func(a, b Ban) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.As, b.As), cmp.Compare(a.Who, b.Who))
	})
	return out
}

// Len returns the number of entries, expired ones not yet swept included.
func (l *List) Len() int { return int(l.n.Load()) }

// Check returns the unexpired ban that catches a client, if any: its
// client id, its username ("" for none) or its address.
func (l *List) Check(clientID, username string, addr netip.Addr) (Ban, bool) {
	if l.n.Load() == 0 {
		return Ban{}, false
	}
	now := l.now()
	addr = addr.Unmap()
	l.mu.RLock()
	defer l.mu.RUnlock()
	keys := [3]key{{ClientID, clientID}, {Username, username}, {Peerhost, ""}}
	if addr.IsValid() {
		keys[2].who = addr.String()
	}
	for _, k := range keys {
		if k.who == "" {
			continue
		}
		if e, ok := l.exact[k]; ok && !e.Expired(now) {
			return e.Ban, true
		}
	}
	for _, e := range l.rules {
		if !e.Expired(now) && e.match(clientID, username, addr) {
			return e.Ban, true
		}
	}
	return Ban{}, false
}

// Sweep removes the expired bans and returns how many it removed.
func (l *List) Sweep() (int, error) {
	if l.n.Load() == 0 {
		return 0, nil
	}
	now := l.now()
	l.mu.Lock()
	removed := 0
	for _, t := range []map[key]*entry{l.exact, l.rules} {
		for k, e := range t {
			if e.Expired(now) {
				l.del(k)
				removed++
			}
		}
	}
	if removed == 0 {
		l.mu.Unlock()
		return 0, nil
	}
	snap, v := l.snapshot()
	l.mu.Unlock()
	return removed, l.save(snap, v)
}

// snapshot copies the list for saving. Lock held.
func (l *List) snapshot() ([]Ban, uint64) {
	out := make([]Ban, 0, len(l.exact)+len(l.rules))
	for _, t := range []map[key]*entry{l.exact, l.rules} {
		for _, e := range t {
			out = append(out, e.Ban)
		}
	}
	return out, l.version
}

// save writes a snapshot unless a newer one has been written already.
func (l *List) save(snap []Ban, version uint64) error {
	if l.store == nil {
		return nil
	}
	l.saveMu.Lock()
	defer l.saveMu.Unlock()
	if version <= l.saved {
		return nil
	}
	if err := l.store.Save(document, snap); err != nil {
		return fmt.Errorf("banned: save: %w", err)
	}
	l.saved = version
	return nil
}
