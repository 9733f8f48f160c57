package service

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// Token bounds. Tokens live in memory only: a restart logs everyone out.
const (
	// maxTokens bounds the live tokens; issuing one more first sweeps the
	// expired ones, then drops the one closest to expiry.
	maxTokens = 10000
	// tokenGrace keeps an expired token this long, so its holder is told
	// TOKEN_TIME_OUT (log in again) rather than BAD_TOKEN.
	tokenGrace = 5 * time.Minute
	// sweepInterval is how often expired tokens and stale login failures
	// are swept.
	sweepInterval = time.Minute
)

// token is a bearer token's session.
type token struct {
	user    string
	role    string
	expires time.Time
}

// tokenTable holds the bearer tokens POST /login gave out. Safe for
// concurrent use.
type tokenTable struct {
	mu  sync.Mutex
	m   map[string]token
	max int
}

func newTokenTable(max int) *tokenTable {
	return &tokenTable{m: map[string]token{}, max: max}
}

// issue returns a new random token (256 bits, base64url) for user.
func (t *tokenTable) issue(user, role string, now time.Time, ttl time.Duration) string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) >= t.max {
		t.sweepLocked(now, 0)
	}
	if len(t.m) >= t.max {
		t.evictSoonestLocked()
	}
	t.m[tok] = token{user: user, role: role, expires: now.Add(ttl)}
	return tok
}

// lookup returns the session of tok.
func (t *tokenTable) lookup(tok string) (token, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.m[tok]
	return s, ok
}

// revoke ends tok; false when it was unknown.
func (t *tokenTable) revoke(tok string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.m[tok]
	delete(t.m, tok)
	return ok
}

// revokeUser ends every token of user (deleted, role or password changed).
func (t *tokenTable) revokeUser(user string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, s := range t.m {
		if s.user == user {
			delete(t.m, k)
		}
	}
}

// sweep drops the tokens that expired more than grace before now.
func (t *tokenTable) sweep(now time.Time, grace time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweepLocked(now, grace)
}

func (t *tokenTable) sweepLocked(now time.Time, grace time.Duration) {
	cut := now.Add(-grace)
	for k, s := range t.m {
		if s.expires.Before(cut) {
			delete(t.m, k)
		}
	}
}

func (t *tokenTable) evictSoonestLocked() {
	var victim string
	var first time.Time
	for k, s := range t.m {
		if victim == "" || s.expires.Before(first) {
			victim, first = k, s.expires
		}
	}
	delete(t.m, victim)
}

// len returns the number of tokens held.
func (t *tokenTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}
