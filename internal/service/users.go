package service

import (
	"cmp"
	"context"
	"crypto/subtle"
	"regexp"
	"slices"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/herald-mqtt/herald/internal/broker"
)

// dashUser is a dashboard user as persisted.
type dashUser struct {
	Username    string `json:"username"`
	Hash        string `json:"hash,omitempty"` // bcrypt of the password
	Role        string `json:"role"`
	Description string `json:"description"`
	// Default marks the bootstrap administrator whose password was never
	// changed: its password is dashboard.default_password in force, and
	// Hash is empty.
	Default bool `json:"default,omitempty"`
}

// User is a dashboard user as the API shows it.
type User struct {
	Username    string
	Role        string
	Description string
	Backend     string // always "local"
}

func (u dashUser) view() User {
	return User{Username: u.Username, Role: u.Role, Description: u.Description, Backend: "local"}
}

// LoginInput is what Login checks.
type LoginInput struct {
	Username string
	Password string
	ClientIP string // the caller's address, for the login limiter ("" = unknown)
}

// LoginResult is what Login returns.
type LoginResult struct {
	Token   string
	Role    string
	Version string
}

// dummyHash is compared against when the user does not exist, so an
// unknown username costs as much time as a wrong password.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword(randomBytes(16), bcryptCost)
	return h
})

// Login checks a dashboard user's password and returns a bearer token
// lasting dashboard.token_expired_time. A wrong username or password is
// ErrUnauthorized BAD_USERNAME_OR_PWD; after too many failures of the user
// (dashboard.unsuccessful_login_*) or of the client address (four times
// as many) every attempt is ErrUnauthorized LOGIN_LOCKED until the lock
// ends, as EMQX's login lock.
func (s *Service) Login(ctx context.Context, in LoginInput) (LoginResult, error) {
	now := s.now()
	if s.sec.limiter.locked(in.Username, in.ClientIP, now) {
		s.log.Info("dashboard login locked", "username", in.Username, "peerhost", in.ClientIP)
		return LoginResult{}, Errorf(ErrUnauthorized, "LOGIN_LOCKED", "Login locked")
	}
	u, ok := s.user(in.Username)
	if !s.passwordMatches(u, ok, in.Password) {
		known := ""
		if ok {
			known = u.Username
		}
		if s.sec.limiter.fail(known, in.ClientIP, s.now(), s.lockPolicy()) {
			s.log.Warn("dashboard login locked after repeated failures", "username", in.Username, "peerhost", in.ClientIP)
		}
		s.log.Info("dashboard login failed", "username", in.Username, "peerhost", in.ClientIP)
		return LoginResult{}, Errorf(ErrUnauthorized, "BAD_USERNAME_OR_PWD", "Auth failed")
	}
	s.sec.limiter.reset(u.Username)
	tok := s.sec.tokens.issue(u.Username, u.Role, s.now(), s.tokenTTL())
	s.log.Info("dashboard login", "username", u.Username, "peerhost", in.ClientIP)
	return LoginResult{Token: tok, Role: u.Role, Version: broker.Version}, nil
}

// passwordMatches checks password against the user (ok false: no such
// user, compared against a dummy hash all the same).
func (s *Service) passwordMatches(u dashUser, ok bool, password string) bool {
	if ok && u.Default {
		def := s.opts.Controller.Config().Dashboard.DefaultPassword
		return def != "" && subtle.ConstantTimeCompare([]byte(def), []byte(password)) == 1
	}
	hash := []byte(u.Hash)
	if !ok || u.Hash == "" {
		hash = dummyHash()
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	return ok && u.Hash != "" && match
}

// Logout ends the caller's bearer token. username, when given, must be
// the caller's (else ErrUnauthorized BAD_USERNAME_OR_PWD).
func (s *Service) Logout(ctx context.Context, username string) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	if (username != "" && username != p.Name) || !s.sec.tokens.revoke(p.Token) {
		return Errorf(ErrUnauthorized, "BAD_USERNAME_OR_PWD", "Ensure your token & username")
	}
	s.log.Info("dashboard logout", "username", p.Name)
	return nil
}

// Users lists the dashboard users by name.
func (s *Service) Users(ctx context.Context) ([]User, error) {
	s.sec.mu.Lock()
	all := sortedValues(s.sec.users, func(u dashUser) string { return u.Username })
	s.sec.mu.Unlock()
	out := make([]User, len(all))
	for i, u := range all {
		out[i] = u.view()
	}
	return out, nil
}

// NewUser is what CreateUser needs.
type NewUser struct {
	Username    string
	Password    string
	Role        string // "" = administrator
	Description string
}

// CreateUser adds a dashboard user. A bad username, password or role, or
// an existing username, is ErrBadRequest.
func (s *Service) CreateUser(ctx context.Context, in NewUser) (User, error) {
	if in.Role == "" {
		in.Role = RoleAdministrator
	}
	if err := firstErr(checkUsername(in.Username), checkPassword(in.Password), checkUserRole(in.Role)); err != nil {
		return User{}, err
	}
	if _, exists := s.user(in.Username); exists {
		return User{}, Errorf(ErrBadRequest, "BAD_REQUEST", "username %q already exists", in.Username)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(in.Password), bcryptCost)
	if err != nil {
		return User{}, Errorf(ErrBadRequest, "BAD_REQUEST", "%v", err)
	}
	u := dashUser{Username: in.Username, Hash: string(hash), Role: in.Role, Description: in.Description}
	err = s.updateUsers(func(users map[string]dashUser) error {
		if _, exists := users[u.Username]; exists {
			return Errorf(ErrBadRequest, "BAD_REQUEST", "username %q already exists", u.Username)
		}
		users[u.Username] = u
		return nil
	})
	if err != nil {
		return User{}, err
	}
	s.log.Info("dashboard user created", "username", u.Username, "role", u.Role)
	return u.view(), nil
}

// UserUpdate changes a user's role and description (nil: unchanged).
type UserUpdate struct {
	Role        *string
	Description *string
}

// UpdateUser changes a user's role or description. ErrNotFound
// USER_NOT_FOUND for an unknown user; demoting the last administrator is
// ErrBadRequest NOT_ALLOWED. A role change ends the user's tokens.
func (s *Service) UpdateUser(ctx context.Context, username string, in UserUpdate) (User, error) {
	if in.Role != nil {
		if err := checkUserRole(*in.Role); err != nil {
			return User{}, err
		}
	}
	var out dashUser
	roleChanged := false
	err := s.updateUsers(func(users map[string]dashUser) error {
		u, ok := users[username]
		if !ok {
			return errUserNotFound(username)
		}
		if in.Role != nil && *in.Role != u.Role {
			if u.Role == RoleAdministrator && admins(users) == 1 {
				return errNotAllowed("the last administrator cannot be demoted")
			}
			u.Role, roleChanged = *in.Role, true
		}
		if in.Description != nil {
			u.Description = *in.Description
		}
		users[username], out = u, u
		return nil
	})
	if err != nil {
		return User{}, err
	}
	if roleChanged {
		s.sec.tokens.revokeUser(username)
	}
	return out.view(), nil
}

// DeleteUser removes a user and ends its tokens. Deleting oneself or the
// last administrator is ErrBadRequest NOT_ALLOWED.
func (s *Service) DeleteUser(ctx context.Context, username string) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	if p.Name == username {
		return errNotAllowed("Cannot delete self")
	}
	err = s.updateUsers(func(users map[string]dashUser) error {
		u, ok := users[username]
		if !ok {
			return errUserNotFound(username)
		}
		if u.Role == RoleAdministrator && admins(users) == 1 {
			return errNotAllowed("the last administrator cannot be deleted")
		}
		delete(users, username)
		return nil
	})
	if err != nil {
		return err
	}
	s.sec.tokens.revokeUser(username)
	s.sec.limiter.reset(username)
	s.log.Info("dashboard user deleted", "username", username, "by", p.Name)
	return nil
}

// ChangePassword sets a user's password after checking the old one. A
// viewer may change only its own (else ErrForbidden UNAUTHORIZED_ROLE); a
// wrong old password is ErrBadRequest ERROR_PWD_NOT_MATCH; a weak new one
// ErrBadRequest. The user's tokens end and its login lock is lifted.
func (s *Service) ChangePassword(ctx context.Context, username, oldPwd, newPwd string) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	if p.Role != RoleAdministrator && p.Name != username {
		return Errorf(ErrForbidden, "UNAUTHORIZED_ROLE", "a %s may change only its own password", p.Role)
	}
	if oldPwd == "" || newPwd == "" {
		return Errorf(ErrBadRequest, "BAD_REQUEST", "Old password or new password undefined")
	}
	u, ok := s.user(username)
	if !ok {
		return errUserNotFound(username)
	}
	if !s.passwordMatches(u, true, oldPwd) {
		return Errorf(ErrBadRequest, "ERROR_PWD_NOT_MATCH", "Old password not match")
	}
	if err := checkPassword(newPwd); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(newPwd), bcryptCost)
	if err != nil {
		return Errorf(ErrBadRequest, "BAD_REQUEST", "%v", err)
	}
	err = s.updateUsers(func(users map[string]dashUser) error {
		u, ok := users[username]
		if !ok {
			return errUserNotFound(username)
		}
		u.Hash, u.Default = string(hash), false
		users[username] = u
		return nil
	})
	if err != nil {
		return err
	}
	s.sec.tokens.revokeUser(username)
	s.sec.limiter.reset(username)
	s.log.Info("dashboard password changed", "username", username, "by", p.Name)
	return nil
}

func errUserNotFound(username string) error {
	return Errorf(ErrNotFound, "USER_NOT_FOUND", "User %q not found", username)
}

// admins counts the administrators.
func admins(users map[string]dashUser) int {
	n := 0
	for _, u := range users {
		if u.Role == RoleAdministrator {
			n++
		}
	}
	return n
}

// UsernamePattern is EMQX's rule for a dashboard username: 1..100
// characters of [A-Za-z0-9_]; the API documents it from here.
const UsernamePattern = `^[A-Za-z0-9_]{1,100}$`

var usernameRE = regexp.MustCompile(UsernamePattern)

// checkUsername applies UsernamePattern.
func checkUsername(name string) error {
	if name == "" || len(name) > 100 {
		return Errorf(ErrBadRequest, "BAD_REQUEST", "username must be 1..100 characters")
	}
	if !usernameRE.MatchString(name) {
		return Errorf(ErrBadRequest, "BAD_REQUEST",
			"Bad Username. Only upper and lower case letters, numbers and underscores are supported")
	}
	return nil
}

// Password lengths.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 64
)

// PasswordPattern is EMQX's password rule as a pattern, with MinPasswordLen
// and MaxPasswordLen: printable ASCII holding at least two of the groups
// letters, digits and specials (EMQX's !@#$%^&*()_+-=[]{}"|;':,./<>?`~ and space: the printable ASCII that
// is neither, except the backslash, which counts for no group). The API
// documents it from here.
const PasswordPattern = "^[ -~]*(" + pwL + "[ -~]*" + pwD + "|" + pwD + "[ -~]*" + pwL + "|" + pwL + "[ -~]*" + pwS + "|" +
	pwS + "[ -~]*" + pwL + "|" + pwD + "[ -~]*" + pwS + "|" + pwS + "[ -~]*" + pwD + ")[ -~]*$"

const (
	pwL = "[A-Za-z]"
	pwD = "[0-9]"
	pwS = "[ -/:-@\\[\\]-`{-~]"
)

var passwordRE = regexp.MustCompile(PasswordPattern)

// checkPassword applies EMQX's rule: 8..64 ASCII characters from at least
// two of the groups letters, digits and specials (PasswordPattern).
func checkPassword(pw string) error {
	if len(pw) < MinPasswordLen || len(pw) > MaxPasswordLen {
		return Errorf(ErrBadRequest, "BAD_REQUEST", "The range of password length is 8~64")
	}
	for _, c := range pw {
		if c > 0x7f {
			return Errorf(ErrBadRequest, "BAD_REQUEST", "Only ascii characters are allowed in the password")
		}
	}
	if !passwordRE.MatchString(pw) {
		return Errorf(ErrBadRequest, "BAD_REQUEST", "Bad password. At least two different kind of characters "+
			"from groups of letters, numbers, and special characters.")
	}
	return nil
}

// checkUserRole accepts the dashboard roles.
func checkUserRole(role string) error {
	if role != RoleAdministrator && role != RoleViewer {
		return Errorf(ErrBadRequest, "BAD_REQUEST", "Role does not exist: %q (administrator or viewer)", role)
	}
	return nil
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// sortedValues returns m's values sorted by key.
func sortedValues[V any](m map[string]V, key func(V) string) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b V) int { return cmp.Compare(key(a), key(b)) })
	return out
}
