package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

// ErrInvalidConfig is wrapped by every configuration error of NewUsers,
// NewACL and SetRules; the message names the offending user or rule.
var ErrInvalidConfig = errors.New("auth: invalid configuration")

// DefaultCredentialCacheSize bounds the verified-credential cache.
const DefaultCredentialCacheSize = 4096

// User is one entry of the built-in user list, as EMQX's built-in database
// stores it.
type User struct {
	Username     string
	PasswordHash string // hex for sha*/pbkdf2, $2b$... for bcrypt, text for plain
	Algorithm    string // AlgBcrypt, AlgPBKDF2, AlgSHA256, AlgSHA512, AlgPlain
	Salt         string // used as text; ignored by bcrypt (the hash embeds it)
	SaltPosition string // SaltPrefix (default), SaltSuffix, SaltDisable; plain and sha* only
	IsSuperuser  bool

	// PBKDF2 parameters (EMQX mac_fun, iterations, dk_length).
	MAC        string // sha1 ("sha"), sha224, sha256 (default), sha384, sha512
	Iterations int    // 0: DefaultPBKDF2Iterations
	DKLength   int    // derived key bytes; 0: the length of PasswordHash
}

// UsersConfig configures NewUsers.
type UsersConfig struct {
	// AllowAnonymous accepts clients without a username, and every client
	// when Users is empty. DefaultUsersConfig sets it; the zero value refuses.
	AllowAnonymous bool
	Users          []User
	// CacheSize bounds the cache of successful bcrypt/pbkdf2 verifications:
	// 0 means DefaultCredentialCacheSize, negative disables it.
	CacheSize int
	Logger    *slog.Logger // nil: discard
}

// DefaultUsersConfig returns the configuration defaults: anonymous clients
// allowed and no users, i.e. every client accepted.
func DefaultUsersConfig() UsersConfig {
	return UsersConfig{AllowAnonymous: true}
}

// Users is the built-in password authenticator. It implements
// broker.Authenticator and is safe for concurrent use.
type Users struct {
	anonymous bool
	accounts  map[string]*account
	cache     *credCache // nil: disabled
	log       *slog.Logger
}

var _ broker.Authenticator = (*Users)(nil)

type account struct {
	v         verifier
	superuser bool
}

// NewUsers validates the user list and compiles every stored hash.
func NewUsers(cfg UsersConfig) (*Users, error) {
	u := &Users{
		anonymous: cfg.AllowAnonymous,
		accounts:  make(map[string]*account, len(cfg.Users)),
		cache:     newCredCache(cfg.CacheSize),
		log:       loggerOrDiscard(cfg.Logger),
	}
	for i := range cfg.Users {
		if err := u.add(&cfg.Users[i]); err != nil {
			return nil, fmt.Errorf("%w: user %d (%q): %w", ErrInvalidConfig, i, cfg.Users[i].Username, err)
		}
	}
	return u, nil
}

func (u *Users) add(usr *User) error {
	if usr.Username == "" {
		return errors.New("empty username")
	}
	if _, dup := u.accounts[usr.Username]; dup {
		return errors.New("duplicate username")
	}
	v, err := newVerifier(usr)
	if err != nil {
		return err
	}
	u.accounts[usr.Username] = &account{v: v, superuser: usr.IsSuperuser}
	return nil
}

func loggerOrDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// Authenticate decides a CONNECT as the package documentation describes. It
// returns nil or an error wrapping a packet.ReasonCode, and sets
// req.Client.Superuser for superusers.
func (u *Users) Authenticate(ctx context.Context, req *broker.AuthRequest) error {
	if req == nil || req.Client == nil {
		return fmt.Errorf("auth: request without client: %w", broker.ErrNotAuthorized)
	}
	if req.AuthMethod != "" {
		return u.refuse(req, "authentication method not supported", broker.ErrBadAuthMethod)
	}
	name := req.Client.Username
	if name == "" || len(u.accounts) == 0 {
		return u.admitAnonymous(req)
	}
	acc, ok := u.accounts[name]
	if !ok {
		return u.refuse(req, "unknown user", broker.ErrBadCredentials)
	}
	if !req.HasPass {
		return u.refuse(req, "no password", broker.ErrBadCredentials)
	}
	ok, err := u.check(ctx, name, acc, req.Password)
	if err != nil {
		return fmt.Errorf("auth: %w: %w", packet.ServerUnavailable, err)
	}
	if !ok {
		return u.refuse(req, "wrong password", broker.ErrBadCredentials)
	}
	if acc.superuser {
		req.Client.Superuser = true
	}
	return nil
}

// admitAnonymous handles clients without a username and the empty user list.
func (u *Users) admitAnonymous(req *broker.AuthRequest) error {
	if u.anonymous {
		return nil
	}
	return u.refuse(req, "anonymous access disabled", broker.ErrNotAuthorized)
}

// check verifies the password, through the cache for slow hashes. The error
// is the context's, when it ended before a slow verification.
func (u *Users) check(ctx context.Context, name string, acc *account, pw []byte) (bool, error) {
	if u.cache == nil || !acc.v.slow() {
		return acc.v.verify(pw), nil
	}
	key := u.cache.key(name, pw)
	if u.cache.has(key) {
		return true, nil
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	ok := acc.v.verify(pw)
	if ok {
		u.cache.add(key)
	}
	return ok, nil
}

// refuse logs a refused CONNECT and returns the reason code wrapped.
func (u *Users) refuse(req *broker.AuthRequest, why string, code packet.ReasonCode) error {
	c := req.Client
	u.log.Debug("auth: connect refused", "clientid", c.ClientID, "username", c.Username,
		"peername", c.RemoteAddr.String(), "reason", why)
	return fmt.Errorf("auth: %s: %w", why, code)
}
