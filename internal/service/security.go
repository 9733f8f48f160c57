package service

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"sync"
	"time"

	"github.com/herald-mqtt/herald/internal/metastore"
)

// DefaultTokenTTL is dashboard.token_expired_time's default.
const DefaultTokenTTL = 60 * time.Minute

// Management documents in DataDir/mgmt.
const (
	mgmtDir     = "mgmt"
	usersDoc    = "dashboard_users"
	apiKeysDoc  = "api_keys"
	docsVersion = 1
)

// security holds the dashboard users, their bearer tokens, the API keys and
// the login limiter. Users and keys are copy-on-write maps: readers take mu
// briefly; writers serialise on wmu, build the next map, persist it, then
// swap it in, so a failed save changes nothing and authentication never
// waits for the disk.
type security struct {
	store *metastore.Store

	wmu   sync.Mutex // serialises writers (and their saves)
	mu    sync.Mutex // guards the fields below
	users map[string]dashUser
	keys  map[string]apiKeyRecord // by name

	tokens  *tokenTable
	limiter *loginLimiter
}

// initSecurity opens DataDir/mgmt, loads the users and API keys (creating
// the bootstrap administrator on first start, without hashing anything),
// loads api_key.bootstrap_file and starts the sweeper.
func (s *Service) initSecurity() error {
	st, err := metastore.Open(filepath.Join(s.opts.DataDir, mgmtDir))
	if err != nil {
		return err
	}
	sec := &security{store: st, tokens: newTokenTable(maxTokens), limiter: newLoginLimiter()}
	cfg := s.opts.Controller.Config()
	if sec.users, err = loadUsers(st, cfg.Dashboard.DefaultUsername); err != nil {
		return err
	}
	if sec.keys, err = loadAPIKeys(st); err != nil {
		return err
	}
	s.sec = sec
	if err := s.loadBootstrapKeys(cfg.APIKey.BootstrapFile); err != nil {
		return err
	}
	s.every(sweepInterval, s.sweepSecurity)
	return nil
}

// sweepSecurity drops expired tokens and stale login failures.
func (s *Service) sweepSecurity() {
	now := s.now()
	s.sec.tokens.sweep(now, tokenGrace)
	s.sec.limiter.sweep(now, s.lockPolicy().window)
}

// lockPolicy returns the login lock in force.
func (s *Service) lockPolicy() lockPolicy {
	d := s.opts.Controller.Config().Dashboard
	return lockPolicy{max: d.UnsuccessfulLoginMaxAttempts, window: d.UnsuccessfulLoginInterval,
		lock: d.UnsuccessfulLoginLockDuration}
}

// tokenTTL returns dashboard.token_expired_time.
func (s *Service) tokenTTL() time.Duration {
	if d := s.opts.Controller.Config().Dashboard.TokenExpiredTime; d > 0 {
		return d
	}
	return DefaultTokenTTL
}

// usersDocument is the persisted form of the dashboard users.
type usersDocument struct {
	Version int        `json:"version"`
	Users   []dashUser `json:"users"`
}

// loadUsers loads the users; with no document yet, the bootstrap
// administrator (its password is dashboard.default_password until it is
// changed, so no hash is computed or stored at start).
func loadUsers(st *metastore.Store, defaultUser string) (map[string]dashUser, error) {
	var doc usersDocument
	found, err := st.Load(usersDoc, &doc)
	if err != nil {
		return nil, fmt.Errorf("load dashboard users: %w", err)
	}
	users := map[string]dashUser{}
	if !found {
		if defaultUser != "" {
			users[defaultUser] = dashUser{Username: defaultUser, Role: RoleAdministrator,
				Description: "administrator", Default: true}
		}
		return users, nil
	}
	for _, u := range doc.Users {
		users[u.Username] = u
	}
	return users, nil
}

// updateUsers runs change on a copy of the users, persists the result and
// makes it current. An error from change or from the save changes nothing.
func (s *Service) updateUsers(change func(users map[string]dashUser) error) error {
	sec := s.sec
	sec.wmu.Lock()
	defer sec.wmu.Unlock()
	sec.mu.Lock()
	next := maps.Clone(sec.users)
	sec.mu.Unlock()
	if err := change(next); err != nil {
		return err
	}
	doc := usersDocument{Version: docsVersion, Users: sortedValues(next, func(u dashUser) string { return u.Username })}
	if err := sec.store.Save(usersDoc, doc); err != nil {
		return fmt.Errorf("save dashboard users: %w", err)
	}
	sec.mu.Lock()
	sec.users = next
	sec.mu.Unlock()
	return nil
}

// user returns a copy of one user.
func (s *Service) user(name string) (dashUser, bool) {
	s.sec.mu.Lock()
	defer s.sec.mu.Unlock()
	u, ok := s.sec.users[name]
	return u, ok
}

// AuthenticateToken checks a bearer token from Login. An expired token is
// ErrUnauthorized with code TOKEN_TIME_OUT, an unknown one BAD_TOKEN.
func (s *Service) AuthenticateToken(ctx context.Context, tok string) (Principal, error) {
	t, ok := s.sec.tokens.lookup(tok)
	switch {
	case !ok || tok == "":
		return Principal{}, Errorf(ErrUnauthorized, "BAD_TOKEN", "Get a token by POST /login")
	case !s.now().Before(t.expires):
		return Principal{}, Errorf(ErrUnauthorized, "TOKEN_TIME_OUT", "Token expired, get new token by POST /login")
	}
	return Principal{Name: t.user, Role: t.role, Token: tok}, nil
}

// AuthenticateAPIKey checks an API key and secret (HTTP Basic). An unknown,
// disabled or expired key, or a wrong secret, is ErrUnauthorized with code
// BAD_API_KEY_OR_SECRET. The check is one salted SHA-256: cheap enough for
// every request.
func (s *Service) AuthenticateAPIKey(ctx context.Context, key, secret string) (Principal, error) {
	k, ok := s.keyByAPIKey(key)
	if !ok {
		k = apiKeyRecord{Salt: dummySalt[:]} // spend the same hash on an unknown key
	}
	match := k.secretMatches(secret)
	if !ok || !match || !k.Enable || k.expired(s.now()) {
		return Principal{}, Errorf(ErrUnauthorized, "BAD_API_KEY_OR_SECRET", "Check api_key/api_secret")
	}
	return Principal{Name: k.Name, Role: k.Role, APIKey: true}, nil
}

// principal returns the caller; an internal call without one is refused.
func principal(ctx context.Context) (Principal, error) {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return Principal{}, Errorf(ErrUnauthorized, "BAD_TOKEN", "no authenticated caller")
	}
	return p, nil
}

// errNotAllowed is EMQX's 400 NOT_ALLOWED.
func errNotAllowed(format string, a ...any) error {
	return Errorf(ErrBadRequest, "NOT_ALLOWED", format, a...)
}
