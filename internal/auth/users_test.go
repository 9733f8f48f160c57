package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

// Stored forms of the password "public" (see hash_test.go).
var (
	userAlice = User{Username: "alice", Algorithm: AlgSHA256, Salt: "salt123",
		PasswordHash: "a5a72f1edf5dcc152e04572ae63b199a01961fa97c1059ccd3238290425e56e4"}
	userRoot = User{Username: "root", Algorithm: AlgPlain, PasswordHash: "toor", IsSuperuser: true}
	userBob  = User{Username: "bob", Algorithm: AlgBcrypt,
		PasswordHash: "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"} // "U*U"
)

func newUsers(t *testing.T, cfg UsersConfig) *Users {
	t.Helper()
	u, err := NewUsers(cfg)
	if err != nil {
		t.Fatalf("NewUsers: %v", err)
	}
	return u
}

// connect authenticates a CONNECT; pw == nil means no password.
func connect(t *testing.T, u *Users, username string, pw []byte) (*broker.ClientInfo, error) {
	t.Helper()
	c := &broker.ClientInfo{ClientID: "c1", Username: username}
	return c, u.Authenticate(context.Background(), &broker.AuthRequest{Client: c, Password: pw, HasPass: pw != nil})
}

// wantCode fails unless err is nil (want == 0) or wraps the reason code want.
func wantCode(t *testing.T, err error, want packet.ReasonCode) {
	t.Helper()
	if want == 0 {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	var rc packet.ReasonCode
	if !errors.As(err, &rc) || rc != want {
		t.Fatalf("err = %v, want reason code %#x (%v)", err, byte(want), want)
	}
}

func TestAuthUsersAnonymous(t *testing.T) {
	withUsers := []User{userAlice}
	cases := []struct {
		anon     bool
		users    []User
		username string
		want     packet.ReasonCode
	}{
		{true, nil, "", 0},                                         // no authenticator configured
		{true, nil, "anyone", 0},                                   // ditto, any username
		{false, nil, "", packet.NotAuthorized},                     // nobody may connect
		{false, nil, "anyone", packet.NotAuthorized},               //
		{true, withUsers, "", 0},                                   // anonymous allowed next to users
		{false, withUsers, "", packet.NotAuthorized},               // EMQX: exhausted chain
		{true, withUsers, "mallory", packet.BadUsernameOrPassword}, // unknown name refused even so
		{false, withUsers, "mallory", packet.BadUsernameOrPassword},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("anon=%v/users=%d/%q", tc.anon, len(tc.users), tc.username), func(t *testing.T) {
			u := newUsers(t, UsersConfig{AllowAnonymous: tc.anon, Users: tc.users})
			c, err := connect(t, u, tc.username, []byte("public"))
			wantCode(t, err, tc.want)
			if c.Superuser {
				t.Fatalf("anonymous client became superuser")
			}
		})
	}
}

func TestAuthUsersDefaultConfig(t *testing.T) {
	u := newUsers(t, DefaultUsersConfig())
	_, err := connect(t, u, "", nil)
	wantCode(t, err, 0)
}

func TestAuthUsersPasswords(t *testing.T) {
	u := newUsers(t, UsersConfig{Users: []User{userAlice, userRoot, userBob}})
	cases := []struct {
		username string
		pw       []byte
		want     packet.ReasonCode
		super    bool
	}{
		{"alice", []byte("public"), 0, false},
		{"alice", []byte("Public"), packet.BadUsernameOrPassword, false},
		{"alice", []byte{}, packet.BadUsernameOrPassword, false},
		{"alice", nil, packet.BadUsernameOrPassword, false}, // no password field
		{"root", []byte("toor"), 0, true},
		{"root", []byte("root"), packet.BadUsernameOrPassword, false},
		{"bob", []byte("U*U"), 0, false},
		{"bob", []byte("U*V"), packet.BadUsernameOrPassword, false},
		{"Alice", []byte("public"), packet.BadUsernameOrPassword, false}, // names are case-sensitive
	}
	for _, tc := range cases {
		c, err := connect(t, u, tc.username, tc.pw)
		wantCode(t, err, tc.want)
		if c.Superuser != tc.super {
			t.Fatalf("%s: Superuser = %v, want %v", tc.username, c.Superuser, tc.super)
		}
	}
}

func TestAuthUsersV3ReturnCodes(t *testing.T) {
	// The broker maps 0x86 and 0x87 to the v3 return codes 0x04 and 0x05
	// (MQTT 3.1.1 section 3.2.2.3); only those two codes may come out.
	u := newUsers(t, UsersConfig{Users: []User{userAlice}})
	_, err := connect(t, u, "alice", []byte("nope"))
	wantCode(t, err, packet.BadUsernameOrPassword)
	_, err = connect(t, u, "", nil)
	wantCode(t, err, packet.NotAuthorized)
}

func TestAuthUsersAuthMethod(t *testing.T) {
	u := newUsers(t, DefaultUsersConfig())
	c := &broker.ClientInfo{ClientID: "c"}
	err := u.Authenticate(context.Background(), &broker.AuthRequest{Client: c, AuthMethod: "SCRAM-SHA-256"})
	wantCode(t, err, packet.BadAuthenticationMethod)
	wantCode(t, u.Authenticate(context.Background(), &broker.AuthRequest{}), packet.NotAuthorized)
}

func TestAuthUsersConfigErrors(t *testing.T) {
	cases := []struct {
		users []User
		want  string
	}{
		{[]User{userAlice, {Algorithm: AlgPlain}}, "user 1"},
		{[]User{userAlice, userRoot, userAlice}, "user 2"},
		{[]User{{Username: "x", Algorithm: "scrypt"}}, "user 0"},
		{[]User{{Username: "x", Algorithm: AlgSHA256, PasswordHash: "nothex"}}, `user 0 ("x")`},
	}
	for _, tc := range cases {
		_, err := NewUsers(UsersConfig{Users: tc.users})
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("err = %v, want ErrInvalidConfig naming %q", err, tc.want)
		}
	}
}

// countingVerifier counts full verifications.
type countingVerifier struct {
	verifier
	n atomic.Int32
}

func (v *countingVerifier) verify(pw []byte) bool {
	v.n.Add(1)
	return v.verifier.verify(pw)
}

func countVerifications(t *testing.T, u *Users, name string) *countingVerifier {
	t.Helper()
	cv := &countingVerifier{verifier: u.accounts[name].v}
	u.accounts[name].v = cv
	return cv
}

func TestAuthUsersCredentialCache(t *testing.T) {
	u := newUsers(t, UsersConfig{Users: []User{userBob, userAlice}})
	bob, alice := countVerifications(t, u, "bob"), countVerifications(t, u, "alice")
	for range 3 {
		_, err := connect(t, u, "bob", []byte("U*U"))
		wantCode(t, err, 0)
	}
	if n := bob.n.Load(); n != 1 {
		t.Fatalf("bcrypt ran %d times for 3 identical logins, want 1", n)
	}
	for range 2 {
		_, err := connect(t, u, "bob", []byte("wrong"))
		wantCode(t, err, packet.BadUsernameOrPassword)
	}
	if n := bob.n.Load(); n != 3 {
		t.Fatalf("bcrypt ran %d times, want 3: failures must not be cached", n)
	}
	for range 2 {
		_, err := connect(t, u, "alice", []byte("public"))
		wantCode(t, err, 0)
	}
	if n, l := alice.n.Load(), u.cache.len(); n != 2 || l != 1 {
		t.Fatalf("sha256: %d verifications, cache holds %d; want 2 and 1 (fast hashes are not cached)", n, l)
	}
}

func TestAuthUsersCredentialCacheBounded(t *testing.T) {
	var users []User
	for i := range 5 {
		users = append(users, User{Username: fmt.Sprint("u", i), Algorithm: AlgPBKDF2, Iterations: 1,
			Salt: "salt", PasswordHash: "120fb6cffcf8b32c43e7225256c4f837a86548c9"}) // "password", sha256, 20 bytes
	}
	u := newUsers(t, UsersConfig{Users: users, CacheSize: 2})
	for i := range 5 {
		_, err := connect(t, u, fmt.Sprint("u", i), []byte("password"))
		wantCode(t, err, 0)
		if l := u.cache.len(); l > 2 {
			t.Fatalf("cache holds %d entries, bound is 2", l)
		}
	}
	off := newUsers(t, UsersConfig{Users: users, CacheSize: -1})
	if off.cache != nil {
		t.Fatalf("CacheSize -1 did not disable the cache")
	}
	_, err := connect(t, off, "u0", []byte("password"))
	wantCode(t, err, 0)
}

func TestAuthUsersCredentialCacheKey(t *testing.T) {
	c := newCredCache(0)
	if c.key("ab", []byte("c")) == c.key("a", []byte("bc")) {
		t.Fatalf("key does not separate username from password")
	}
	if k1, k2 := c.key("a", []byte("b")), c.key("a", []byte("b")); k1 != k2 {
		t.Fatalf("key is not deterministic")
	}
	if newCredCache(0).key("a", []byte("b")) == c.key("a", []byte("b")) {
		t.Fatalf("two caches share a secret")
	}
}

func TestAuthUsersContextCanceled(t *testing.T) {
	u := newUsers(t, UsersConfig{Users: []User{userBob}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := &broker.ClientInfo{ClientID: "c", Username: "bob"}
	err := u.Authenticate(ctx, &broker.AuthRequest{Client: c, Password: []byte("U*U"), HasPass: true})
	wantCode(t, err, packet.ServerUnavailable)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want it to wrap context.Canceled", err)
	}
}

func TestAuthUsersConcurrent(t *testing.T) {
	u := newUsers(t, UsersConfig{Users: []User{userBob, userAlice, userRoot}})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 6 {
		wg.Go(func() {
			for j := range 4 {
				name, pw, ok := "bob", "U*U", (i+j)%3 != 0
				if !ok {
					pw = "bad"
				}
				c := &broker.ClientInfo{ClientID: fmt.Sprint(i, j), Username: name}
				err := u.Authenticate(context.Background(), &broker.AuthRequest{Client: c, Password: []byte(pw), HasPass: true})
				if (err == nil) != ok {
					errs <- fmt.Errorf("%d/%d: ok=%v err=%v", i, j, ok, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
