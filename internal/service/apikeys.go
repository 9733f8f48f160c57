package service

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"regexp"
	"strings"
	"time"
)

// maxAPIKeys is EMQX's limit on API keys created through the API.
const maxAPIKeys = 100

// bootstrapPrefix names the keys from api_key.bootstrap_file, as EMQX.
const bootstrapPrefix = "from_bootstrap_file_"

// apiKeyRecord is an API key as persisted. The secret is kept only as
// SHA-256(salt || secret) with a random 16-byte salt: secrets made by the
// API are 256 random bits, so a fast hash is as safe as a slow one and
// keeps the per-request check cheap.
type apiKeyRecord struct {
	Name      string    `json:"name"`
	Key       string    `json:"api_key"`
	Salt      []byte    `json:"salt"`
	Hash      []byte    `json:"secret_hash"`
	Enable    bool      `json:"enable"`
	Desc      string    `json:"desc"`
	Role      string    `json:"role"`
	ExpiredAt time.Time `json:"expired_at"` // zero = infinity
	CreatedAt time.Time `json:"created_at"`
}

var dummySalt [16]byte

func hashSecret(salt []byte, secret string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(secret))
	return h.Sum(nil)
}

func (k apiKeyRecord) secretMatches(secret string) bool {
	return subtle.ConstantTimeCompare(hashSecret(k.Salt, secret), k.Hash) == 1 && len(k.Hash) > 0
}

// expired reports whether the key's expiry has passed.
func (k apiKeyRecord) expired(now time.Time) bool {
	return !k.ExpiredAt.IsZero() && now.After(k.ExpiredAt)
}

// APIKey is an API key as the API shows it. Secret is set only in the
// answer of CreateAPIKey.
type APIKey struct {
	Name      string
	Key       string
	Secret    string
	ExpiredAt time.Time // zero = infinity
	CreatedAt time.Time
	Desc      string
	Enable    bool
	Expired   bool
	Role      string
}

func (k apiKeyRecord) view(now time.Time) APIKey {
	return APIKey{Name: k.Name, Key: k.Key, ExpiredAt: k.ExpiredAt, CreatedAt: k.CreatedAt, Desc: k.Desc,
		Enable: k.Enable, Expired: k.expired(now), Role: k.Role}
}

// APIKeyInput creates or changes an API key; nil fields keep their value
// (on create: enabled, never expiring, administrator, no description).
type APIKeyInput struct {
	Name      string     // create only
	ExpiredAt *time.Time // a zero time = infinity
	Desc      *string
	Enable    *bool
	Role      *string
}

type apiKeysDocument struct {
	Version int            `json:"version"`
	Keys    []apiKeyRecord `json:"keys"`
}

func loadAPIKeys(st interface {
	Load(string, any) (bool, error)
}) (map[string]apiKeyRecord, error) {
	var doc apiKeysDocument
	if _, err := st.Load(apiKeysDoc, &doc); err != nil {
		return nil, fmt.Errorf("load api keys: %w", err)
	}
	keys := map[string]apiKeyRecord{}
	for _, k := range doc.Keys {
		keys[k.Name] = k
	}
	return keys, nil
}

// updateKeys is updateUsers for the API keys.
func (s *Service) updateKeys(change func(keys map[string]apiKeyRecord) error) error {
	sec := s.sec
	sec.wmu.Lock()
	defer sec.wmu.Unlock()
	sec.mu.Lock()
	next := maps.Clone(sec.keys)
	sec.mu.Unlock()
	if err := change(next); err != nil {
		return err
	}
	doc := apiKeysDocument{Version: docsVersion, Keys: sortedValues(next, func(k apiKeyRecord) string { return k.Name })}
	if err := sec.store.Save(apiKeysDoc, doc); err != nil {
		return fmt.Errorf("save api keys: %w", err)
	}
	sec.mu.Lock()
	sec.keys = next
	sec.mu.Unlock()
	return nil
}

// keyByAPIKey finds a key by its api_key.
func (s *Service) keyByAPIKey(key string) (apiKeyRecord, bool) {
	s.sec.mu.Lock()
	defer s.sec.mu.Unlock()
	for _, k := range s.sec.keys {
		if k.Key == key {
			return k, true
		}
	}
	return apiKeyRecord{}, false
}

// APIKeys lists the API keys by name (no secrets).
func (s *Service) APIKeys(ctx context.Context) ([]APIKey, error) {
	s.sec.mu.Lock()
	all := sortedValues(s.sec.keys, func(k apiKeyRecord) string { return k.Name })
	s.sec.mu.Unlock()
	now := s.now()
	out := make([]APIKey, len(all))
	for i, k := range all {
		out[i] = k.view(now)
	}
	return out, nil
}

// APIKey returns one key; ErrNotFound for an unknown name.
func (s *Service) APIKey(ctx context.Context, name string) (APIKey, error) {
	s.sec.mu.Lock()
	k, ok := s.sec.keys[name]
	s.sec.mu.Unlock()
	if !ok {
		return APIKey{}, errKeyNotFound()
	}
	return k.view(s.now()), nil
}

// APIKeyNamePattern is the rule for an API key's name (at most
// MaxAPIKeyNameLen characters); the API documents it from here.
const APIKeyNamePattern = `^[A-Za-z]+[A-Za-z0-9_-]*$`

// MaxAPIKeyNameLen bounds an API key's name.
const MaxAPIKeyNameLen = 256

var keyNameRE = regexp.MustCompile(APIKeyNamePattern)

// CreateAPIKey makes a key with a random api_key (16 hex digits) and
// api_secret (256 bits, base64url), returned only here. A bad name or
// role, an existing name or more than 100 keys is ErrBadRequest.
func (s *Service) CreateAPIKey(ctx context.Context, in APIKeyInput) (APIKey, error) {
	if len(in.Name) > MaxAPIKeyNameLen || !keyNameRE.MatchString(in.Name) {
		return APIKey{}, Errorf(ErrBadRequest, "BAD_REQUEST", "Name should be ^[A-Za-z]+[A-Za-z0-9-_]*$, at most 256 characters")
	}
	now := s.now()
	k := apiKeyRecord{Name: in.Name, Enable: true, Role: RoleAdministrator, CreatedAt: now.Truncate(time.Second)}
	if err := applyKeyInput(&k, in); err != nil {
		return APIKey{}, err
	}
	secret := randomString(32)
	k.Key, k.Salt = randomHex(8), randomBytes(16)
	k.Hash = hashSecret(k.Salt, secret)
	err := s.updateKeys(func(keys map[string]apiKeyRecord) error {
		if _, ok := keys[k.Name]; ok {
			return Errorf(ErrBadRequest, "BAD_REQUEST", "name %q already exists", k.Name)
		}
		if len(keys) >= maxAPIKeys {
			return Errorf(ErrBadRequest, "BAD_REQUEST", "Maximum number of ApiKeys reached.")
		}
		keys[k.Name] = k
		return nil
	})
	if err != nil {
		return APIKey{}, err
	}
	s.log.Info("api key created", "name", k.Name, "api_key", k.Key, "role", k.Role)
	out := k.view(now)
	out.Secret = secret
	return out, nil
}

// UpdateAPIKey changes a key's expiry, description, enable flag or role.
func (s *Service) UpdateAPIKey(ctx context.Context, name string, in APIKeyInput) (APIKey, error) {
	var out apiKeyRecord
	err := s.updateKeys(func(keys map[string]apiKeyRecord) error {
		k, ok := keys[name]
		if !ok {
			return errKeyNotFound()
		}
		if err := applyKeyInput(&k, in); err != nil {
			return err
		}
		keys[name], out = k, k
		return nil
	})
	if err != nil {
		return APIKey{}, err
	}
	return out.view(s.now()), nil
}

// DeleteAPIKey removes a key; ErrNotFound for an unknown name.
func (s *Service) DeleteAPIKey(ctx context.Context, name string) error {
	err := s.updateKeys(func(keys map[string]apiKeyRecord) error {
		if _, ok := keys[name]; !ok {
			return errKeyNotFound()
		}
		delete(keys, name)
		return nil
	})
	if err == nil {
		s.log.Info("api key deleted", "name", name)
	}
	return err
}

func applyKeyInput(k *apiKeyRecord, in APIKeyInput) error {
	if in.Role != nil {
		if err := checkKeyRole(*in.Role); err != nil {
			return err
		}
		k.Role = *in.Role
	}
	if in.ExpiredAt != nil {
		k.ExpiredAt = in.ExpiredAt.Truncate(time.Second)
	}
	if in.Desc != nil {
		k.Desc = *in.Desc
	}
	if in.Enable != nil {
		k.Enable = *in.Enable
	}
	return nil
}

func checkKeyRole(role string) error {
	switch role {
	case RoleAdministrator, RoleViewer, RolePublisher:
		return nil
	}
	return Errorf(ErrBadRequest, "BAD_REQUEST", "Role does not exist: %q (administrator, viewer or publisher)", role)
}

func errKeyNotFound() error { return Errorf(ErrNotFound, "NOT_FOUND", "Name NOT FOUND") }

// loadBootstrapKeys loads api_key.bootstrap_file: one "key:secret[:role]"
// a line (role administrator by default; blank lines and lines starting
// with '#' are skipped). Each key is named from_bootstrap_file_<16 hex of
// SHA-512(key)>, as EMQX, enabled and never expiring; loading again
// overwrites the same records, so a restart is idempotent. A bad line is
// an error naming the file and the line (never its content: it holds a
// secret).
func (s *Service) loadBootstrapKeys(path string) error {
	if path == "" {
		return nil
	}
	recs, err := parseBootstrapFile(path)
	if err != nil {
		return err
	}
	now := s.now().Truncate(time.Second)
	err = s.updateKeys(func(keys map[string]apiKeyRecord) error {
		for _, r := range recs {
			for name, k := range keys { // the file wins over a same api_key
				if k.Key == r.Key && name != r.Name {
					delete(keys, name)
				}
			}
			if old, ok := keys[r.Name]; ok && old.secretMatches(r.secret) {
				r.Salt, r.Hash, r.CreatedAt = old.Salt, old.Hash, old.CreatedAt
			} else {
				r.CreatedAt = now
			}
			keys[r.Name] = r.apiKeyRecord
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.log.Info("api keys loaded from api_key.bootstrap_file", "file", path, "keys", len(recs))
	return nil
}

type bootstrapKey struct {
	apiKeyRecord
	secret string
}

func parseBootstrapFile(path string) ([]bootstrapKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("api_key.bootstrap_file: %w", err)
	}
	defer f.Close()
	var out []bootstrapKey
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := parseBootstrapLine(line)
		if err != nil {
			return nil, fmt.Errorf("api_key.bootstrap_file %s line %d: %w", path, n, err)
		}
		out = append(out, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("api_key.bootstrap_file %s: %w", path, err)
	}
	return out, nil
}

func parseBootstrapLine(line string) (bootstrapKey, error) {
	parts := strings.SplitN(line, ":", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return bootstrapKey{}, fmt.Errorf("want key:secret[:role]")
	}
	role := RoleAdministrator
	if len(parts) == 3 {
		role = parts[2]
		if checkKeyRole(role) != nil {
			return bootstrapKey{}, fmt.Errorf("role must be administrator, viewer or publisher")
		}
	}
	sum := sha512.Sum512([]byte(parts[0]))
	salt := randomBytes(16)
	rec := apiKeyRecord{Name: bootstrapPrefix + hex.EncodeToString(sum[:])[:16], Key: parts[0], Salt: salt,
		Hash: hashSecret(salt, parts[1]), Enable: true, Desc: "Bootstrapped From File", Role: role}
	return bootstrapKey{apiKeyRecord: rec, secret: parts[1]}, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (Go 1.24+)
	return b
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }

func randomString(n int) string { return base64.RawURLEncoding.EncodeToString(randomBytes(n)) }
