package service

import (
	"sync"
	"time"
)

// maxIPEntries bounds the client addresses the login limiter remembers.
const maxIPEntries = 10000

// ipAttemptsFactor: a client address may fail this many times the
// per-user attempts before it is locked, so that several people behind one
// NAT do not lock each other out at once.
const ipAttemptsFactor = 4

// lockPolicy is EMQX's login lock: max failures within window lock the
// login for lock.
type lockPolicy struct {
	max    int
	window time.Duration
	lock   time.Duration
}

// failures are the recent failed logins of one user or address.
type failures struct {
	times       []time.Time // within the window, oldest first, at most max
	lockedUntil time.Time
}

// loginLimiter counts failed logins per username (existing users only, so
// its size is bounded by the user count) and per client address (bounded
// by maxIPEntries), and locks either after too many. Safe for concurrent
// use.
type loginLimiter struct {
	mu    sync.Mutex
	users map[string]*failures
	ips   map[string]*failures
	maxIP int
}

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{users: map[string]*failures{}, ips: map[string]*failures{}, maxIP: maxIPEntries}
}

// locked reports whether user or ip may not log in now.
func (l *loginLimiter) locked(user, ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := l.users[user]; f != nil && now.Before(f.lockedUntil) {
		return true
	}
	f := l.ips[ip]
	return ip != "" && f != nil && now.Before(f.lockedUntil)
}

// fail records a failed login. user is "" when no such user exists (only
// the address counts then). It reports whether the user or the address is
// now locked.
func (l *loginLimiter) fail(user, ip string, now time.Time, p lockPolicy) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lockedNow := false
	if user != "" {
		lockedNow = record(l.users, user, now, p)
	}
	if ip != "" {
		if _, ok := l.ips[ip]; !ok && len(l.ips) >= l.maxIP {
			l.makeRoomLocked(now, p.window)
		}
		ipPolicy := lockPolicy{max: p.max * ipAttemptsFactor, window: p.window, lock: p.lock}
		lockedNow = record(l.ips, ip, now, ipPolicy) || lockedNow
	}
	return lockedNow
}

// record adds a failure of key and locks it when the policy says so.
func record(m map[string]*failures, key string, now time.Time, p lockPolicy) bool {
	f := m[key]
	if f == nil {
		f = &failures{}
		m[key] = f
	}
	f.times = append(trimBefore(f.times, now.Add(-p.window)), now)
	if len(f.times) < p.max {
		return false
	}
	f.times = f.times[:0]
	f.lockedUntil = now.Add(p.lock)
	return true
}

// trimBefore drops the times before cut (times is sorted).
func trimBefore(times []time.Time, cut time.Time) []time.Time {
	i := 0
	for i < len(times) && times[i].Before(cut) {
		i++
	}
	return append(times[:0], times[i:]...)
}

// reset forgets user's failures and lock (a successful login or a new
// password).
func (l *loginLimiter) reset(user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.users, user)
}

// makeRoomLocked frees one address entry: the expired ones if any, else an
// arbitrary unlocked one, else an arbitrary one.
func (l *loginLimiter) makeRoomLocked(now time.Time, window time.Duration) {
	sweepMap(l.ips, now, window)
	if len(l.ips) < l.maxIP {
		return
	}
	var victim string
	for k, f := range l.ips {
		if !now.Before(f.lockedUntil) {
			delete(l.ips, k)
			return
		}
		victim = k
	}
	delete(l.ips, victim)
}

// sweep drops the entries with no failure within window and no lock.
func (l *loginLimiter) sweep(now time.Time, window time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	sweepMap(l.users, now, window)
	sweepMap(l.ips, now, window)
}

func sweepMap(m map[string]*failures, now time.Time, window time.Duration) {
	cut := now.Add(-window)
	for k, f := range m {
		f.times = trimBefore(f.times, cut)
		if len(f.times) == 0 && !now.Before(f.lockedUntil) {
			delete(m, k)
		}
	}
}

// size returns the number of users and addresses remembered.
func (l *loginLimiter) size() (users, ips int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.users), len(l.ips)
}
