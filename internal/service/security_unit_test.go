package service

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTokenTableSweepAndBound(t *testing.T) {
	now := time.Unix(1000, 0)
	tt := newTokenTable(3)
	a := tt.issue("a", RoleAdministrator, now, time.Minute)
	tt.issue("b", RoleViewer, now, 2*time.Minute)
	tt.issue("c", RoleViewer, now, 3*time.Minute)
	// Full: the next one evicts the token closest to expiry (a).
	d := tt.issue("d", RoleViewer, now, 4*time.Minute)
	if _, ok := tt.lookup(a); ok || tt.len() != 3 {
		t.Fatalf("bound not kept: len %d, a still there %v", tt.len(), ok)
	}
	// Expired tokens stay through the grace (TOKEN_TIME_OUT), then go.
	tt.sweep(now.Add(3*time.Minute+time.Second), time.Minute)
	if tt.len() != 2 {
		t.Fatalf("after sweep within grace: %d tokens, want 2", tt.len())
	}
	tt.sweep(now.Add(10*time.Minute), time.Minute)
	if tt.len() != 0 {
		t.Fatalf("after sweep: %d tokens, want 0", tt.len())
	}
	if tt.revoke(d) {
		t.Fatalf("revoke of a swept token reported true")
	}
	e := tt.issue("e", RoleViewer, now, time.Minute)
	tt.issue("e", RoleViewer, now, time.Minute)
	tt.revokeUser("e")
	if _, ok := tt.lookup(e); ok || tt.len() != 0 {
		t.Fatalf("revokeUser left tokens")
	}
}

func TestLoginLimiterLocksUserAndAddress(t *testing.T) {
	p := lockPolicy{max: 3, window: time.Minute, lock: 10 * time.Minute}
	l := newLoginLimiter()
	now := time.Unix(1000, 0)
	for i := range 2 {
		if l.fail("alice", "10.0.0.1", now.Add(time.Duration(i)*time.Second), p) {
			t.Fatalf("locked after %d failures", i+1)
		}
	}
	if !l.fail("alice", "10.0.0.1", now.Add(2*time.Second), p) || !l.locked("alice", "10.0.0.2", now.Add(3*time.Second)) {
		t.Fatalf("alice not locked after 3 failures")
	}
	if l.locked("bob", "10.0.0.1", now.Add(3*time.Second)) {
		t.Fatalf("the address is locked after 3 failures (its limit is 12)")
	}
	if l.locked("alice", "", now.Add(11*time.Minute)) {
		t.Fatalf("lock did not end")
	}
	// Failures outside the window do not add up.
	l.reset("alice")
	for i := range 5 {
		if l.fail("alice", "", now.Add(time.Duration(i)*time.Minute), p) {
			t.Fatalf("locked by failures spread beyond the window (%d)", i)
		}
	}
	// The address: unknown users count only there, 4x the limit.
	for i := range 12 {
		l.fail("", "10.0.0.9", now.Add(time.Duration(i)*time.Millisecond), p)
	}
	if !l.locked("carol", "10.0.0.9", now.Add(time.Second)) {
		t.Fatalf("address not locked after 12 failures")
	}
	l.sweep(now.Add(time.Hour), p.window)
	if u, ips := l.size(); u != 0 || ips != 0 {
		t.Fatalf("sweep left %d users, %d addresses", u, ips)
	}
}

func TestLoginLimiterAddressBound(t *testing.T) {
	p := lockPolicy{max: 1, window: time.Minute, lock: time.Minute}
	l := newLoginLimiter()
	l.maxIP = 4
	now := time.Unix(1000, 0)
	for i := range 10 {
		l.fail("", "10.0.0."+string(rune('0'+i)), now, p)
	}
	if _, ips := l.size(); ips != 4 {
		t.Fatalf("%d addresses remembered, want the bound 4", ips)
	}
}

func TestPasswordAndUsernameRules(t *testing.T) {
	for _, pw := range []string{"abcdefg1", "abcdefg!", "12345678 ", "Passw0rd"} {
		if err := checkPassword(pw); err != nil {
			t.Errorf("checkPassword(%q) = %v", pw, err)
		}
	}
	for _, pw := range []string{"short1", "abcdefgh", "12345678", strings.Repeat("a1", 33), "pässword1"} {
		if checkPassword(pw) == nil {
			t.Errorf("checkPassword(%q) accepted", pw)
		}
	}
	for _, u := range []string{"admin", "a_b_C9", strings.Repeat("x", 100)} {
		if err := checkUsername(u); err != nil {
			t.Errorf("checkUsername(%q) = %v", u, err)
		}
	}
	for _, u := range []string{"", "a b", "a-b", "a.b", strings.Repeat("x", 101), "é"} {
		if checkUsername(u) == nil {
			t.Errorf("checkUsername(%q) accepted", u)
		}
	}
}

func TestBootstrapFileErrorsNameTheLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	content := "# comment\n\nk1:s1\nk2:s2:viewer\nk3:s3:root\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := parseBootstrapFile(path)
	if err == nil || !strings.Contains(err.Error(), "line 5") || strings.Contains(err.Error(), "s3") {
		t.Fatalf("error = %v, want one naming line 5 without the secret", err)
	}
	if err := os.WriteFile(path, []byte("k1:s1\nk2:s2:publisher\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := parseBootstrapFile(path)
	if err != nil || len(keys) != 2 || keys[1].Role != RolePublisher || keys[0].Role != RoleAdministrator {
		t.Fatalf("parse = %+v, %v", keys, err)
	}
	if !strings.HasPrefix(keys[0].Name, bootstrapPrefix) || len(keys[0].Name) != len(bootstrapPrefix)+16 {
		t.Fatalf("name %q", keys[0].Name)
	}
	if !keys[0].secretMatches("s1") || keys[0].secretMatches("s2") {
		t.Fatalf("secret hash does not check")
	}
	if err := os.WriteFile(path, []byte("nosecret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := parseBootstrapFile(path); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("error = %v", err)
	}
}
