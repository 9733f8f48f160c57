package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// DefaultTokenTTL is dashboard.token_expired_time's default.
const DefaultTokenTTL = 60 * time.Minute

// security holds dashboard users, their tokens and API keys.
type security struct {
	mu     sync.Mutex
	users  map[string]*dashUser
	tokens map[string]token
	ttl    time.Duration
}

type dashUser struct {
	Username    string `json:"username"`
	Hash        []byte `json:"hash"` // bcrypt
	Role        string `json:"role"`
	Description string `json:"description"`
}

type token struct {
	user    string
	role    string
	expires time.Time
}

// LoginResult is what Login returns.
type LoginResult struct {
	Token   string
	Role    string
	Version string
}

// initSecurity creates the bootstrap administrator from
// dashboard.default_username / default_password.
func (s *Service) initSecurity() error {
	cfg := s.opts.Controller.Config()
	s.sec = &security{users: map[string]*dashUser{}, tokens: map[string]token{}, ttl: DefaultTokenTTL}
	h, err := bcrypt.GenerateFromPassword([]byte(cfg.Dashboard.DefaultPassword), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	u := cfg.Dashboard.DefaultUsername
	s.sec.users[u] = &dashUser{Username: u, Hash: h, Role: RoleAdministrator}
	return nil
}

// Login checks a dashboard user's password and returns a bearer token.
func (s *Service) Login(ctx context.Context, username, password string) (LoginResult, error) {
	s.sec.mu.Lock()
	u := s.sec.users[username]
	s.sec.mu.Unlock()
	if u == nil || bcrypt.CompareHashAndPassword(u.Hash, []byte(password)) != nil {
		return LoginResult{}, Errorf(ErrUnauthorized, "BAD_USERNAME_OR_PWD", "Auth failed")
	}
	var b [24]byte
	_, _ = rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	s.sec.mu.Lock()
	s.sec.tokens[tok] = token{user: u.Username, role: u.Role, expires: s.now().Add(s.sec.ttl)}
	s.sec.mu.Unlock()
	return LoginResult{Token: tok, Role: u.Role}, nil
}

// AuthenticateAPIKey checks an API key and secret (HTTP Basic). An unknown,
// disabled or expired key, or a wrong secret, is ErrUnauthorized with code
// BAD_API_KEY_OR_SECRET.
func (s *Service) AuthenticateAPIKey(ctx context.Context, key, secret string) (Principal, error) {
	return Principal{}, Errorf(ErrUnauthorized, "BAD_API_KEY_OR_SECRET", "Check api_key/api_secret")
}

// AuthenticateToken checks a bearer token from Login. An expired token is
// ErrUnauthorized with code TOKEN_TIME_OUT, an unknown one BAD_TOKEN.
func (s *Service) AuthenticateToken(ctx context.Context, tok string) (Principal, error) {
	s.sec.mu.Lock()
	t, ok := s.sec.tokens[tok]
	s.sec.mu.Unlock()
	switch {
	case !ok:
		return Principal{}, Errorf(ErrUnauthorized, "BAD_TOKEN", "Get a token by POST /login")
	case s.now().After(t.expires):
		return Principal{}, Errorf(ErrUnauthorized, "TOKEN_TIME_OUT", "Token expired, get new token by POST /login")
	}
	return Principal{Name: t.user, Role: t.role, Token: tok}, nil
}
