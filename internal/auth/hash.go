package auth

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Password hash algorithms (User.Algorithm, HashPassword), named as EMQX's
// password_hash_algorithm.
const (
	AlgBcrypt = "bcrypt"
	AlgPBKDF2 = "pbkdf2"
	AlgSHA256 = "sha256"
	AlgSHA512 = "sha512"
	AlgPlain  = "plain"
)

// Salt positions (User.SaltPosition) for the plain and sha* algorithms.
const (
	SaltPrefix  = "prefix" // hash(salt + password), the default
	SaltSuffix  = "suffix" // hash(password + salt)
	SaltDisable = "disable"
)

// Defaults used by HashPassword and by users that leave a parameter zero.
const (
	DefaultBcryptCost       = 10       // EMQX's default salt_rounds
	DefaultPBKDF2Iterations = 600_000  // OWASP 2023 for PBKDF2-HMAC-SHA256
	DefaultPBKDF2MAC        = "sha256" // EMQX's usual mac_fun
	bcryptMaxPassword       = 72       // bcrypt ignores bytes beyond 72
	saltBytes               = 16       // HashPassword's random salt, hex-encoded
)

// ErrUnknownAlgorithm is returned for an algorithm, MAC or salt position
// name that is not supported.
var ErrUnknownAlgorithm = errors.New("auth: unknown password hash algorithm")

// verifier checks a password against one stored hash.
type verifier interface {
	verify(password []byte) bool
	slow() bool // worth caching successful verifications
}

// newVerifier compiles a user's stored hash, validating its format.
func newVerifier(u *User) (verifier, error) {
	switch u.Algorithm {
	case AlgBcrypt:
		return newBcrypt(u.PasswordHash)
	case AlgPBKDF2:
		return newPBKDF2(u)
	case AlgSHA256:
		return newDigest(sha256.New, u)
	case AlgSHA512:
		return newDigest(sha512.New, u)
	case AlgPlain:
		return newPlain(u)
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownAlgorithm, u.Algorithm)
}

// salter applies a salt at its position.
type salter struct {
	salt   []byte
	suffix bool
}

func newSalter(u *User) (salter, error) {
	switch u.SaltPosition {
	case "", SaltPrefix:
		return salter{salt: []byte(u.Salt)}, nil
	case SaltSuffix:
		return salter{salt: []byte(u.Salt), suffix: true}, nil
	case SaltDisable:
		return salter{}, nil
	}
	return salter{}, fmt.Errorf("%w: salt position %q", ErrUnknownAlgorithm, u.SaltPosition)
}

func (s salter) apply(password []byte) []byte {
	out := make([]byte, 0, len(s.salt)+len(password))
	if s.suffix {
		return append(append(out, password...), s.salt...)
	}
	return append(append(out, s.salt...), password...)
}

// plainVerifier compares the salted password itself (EMQX "plain").
type plainVerifier struct {
	s    salter
	want []byte
}

func newPlain(u *User) (verifier, error) {
	s, err := newSalter(u)
	return &plainVerifier{s: s, want: []byte(u.PasswordHash)}, err
}

func (v *plainVerifier) verify(pw []byte) bool {
	return subtle.ConstantTimeCompare(v.s.apply(pw), v.want) == 1
}

func (v *plainVerifier) slow() bool { return false }

// digestVerifier compares hash(salted password) (EMQX "sha256", "sha512").
type digestVerifier struct {
	newHash func() hash.Hash
	s       salter
	want    []byte
}

func newDigest(h func() hash.Hash, u *User) (verifier, error) {
	s, err := newSalter(u)
	if err != nil {
		return nil, err
	}
	want, err := decodeHex(u.PasswordHash, h().Size())
	if err != nil {
		return nil, err
	}
	return &digestVerifier{newHash: h, s: s, want: want}, nil
}

func (v *digestVerifier) verify(pw []byte) bool {
	h := v.newHash()
	h.Write(v.s.apply(pw))
	return subtle.ConstantTimeCompare(h.Sum(nil), v.want) == 1
}

func (v *digestVerifier) slow() bool { return false }

// decodeHex decodes a stored hex hash of n bytes (n <= 0: any non-empty length).
func decodeHex(s string, n int) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("password hash is not hex: %w", err)
	}
	if (n > 0 && len(b) != n) || len(b) == 0 {
		return nil, fmt.Errorf("password hash has %d bytes, want %d", len(b), n)
	}
	return b, nil
}

// pbkdf2Verifier compares PBKDF2-HMAC(mac, password, salt, iter, len(want)).
type pbkdf2Verifier struct {
	mac  func() hash.Hash
	salt []byte
	iter int
	want []byte
}

func newPBKDF2(u *User) (verifier, error) {
	mac, err := macFunc(u.MAC)
	if err != nil {
		return nil, err
	}
	want, err := decodeHex(u.PasswordHash, u.DKLength)
	if err != nil {
		return nil, err
	}
	iter := u.Iterations
	if iter == 0 {
		iter = DefaultPBKDF2Iterations
	}
	if iter < 0 {
		return nil, fmt.Errorf("pbkdf2 iterations %d", iter)
	}
	return &pbkdf2Verifier{mac: mac, salt: []byte(u.Salt), iter: iter, want: want}, nil
}

func (v *pbkdf2Verifier) verify(pw []byte) bool {
	got, err := pbkdf2.Key(v.mac, string(pw), v.salt, v.iter, len(v.want))
	return err == nil && subtle.ConstantTimeCompare(got, v.want) == 1
}

func (v *pbkdf2Verifier) slow() bool { return true }

// macFunc names EMQX's pbkdf2 mac_fun values ("" is sha256).
func macFunc(name string) (func() hash.Hash, error) {
	switch name {
	case "", "sha256":
		return sha256.New, nil
	case "sha", "sha1":
		return sha1.New, nil
	case "sha224":
		return sha256.New224, nil
	case "sha384":
		return sha512.New384, nil
	case "sha512":
		return sha512.New, nil
	}
	return nil, fmt.Errorf("%w: pbkdf2 mac %q", ErrUnknownAlgorithm, name)
}

// bcryptVerifier checks a modular-crypt bcrypt hash ($2a$, $2b$, $2y$).
type bcryptVerifier struct{ hash []byte }

func newBcrypt(stored string) (verifier, error) {
	if _, err := bcrypt.Cost([]byte(stored)); err != nil {
		return nil, fmt.Errorf("bcrypt hash: %w", err)
	}
	return &bcryptVerifier{hash: []byte(stored)}, nil
}

// verify refuses passwords longer than bcrypt's 72-byte limit instead of
// silently comparing only their first 72 bytes.
func (v *bcryptVerifier) verify(pw []byte) bool {
	return len(pw) <= bcryptMaxPassword && bcrypt.CompareHashAndPassword(v.hash, pw) == nil
}

func (v *bcryptVerifier) slow() bool { return true }

// HashPassword hashes a password for a User entry with the given algorithm
// and default parameters: bcrypt at DefaultBcryptCost in $2b$ form (salt
// embedded, returned salt empty); pbkdf2 with DefaultPBKDF2MAC,
// DefaultPBKDF2Iterations and a 32-byte key; sha256/sha512 with a prefix
// salt; plain returns the password itself. Hashes are lower-case hex and
// salts random hex text, as EMQX generates them. It backs `herald passwd`.
func HashPassword(algorithm, password string) (hash, salt string, err error) {
	switch algorithm {
	case AlgBcrypt:
		return hashBcrypt(password)
	case AlgPBKDF2:
		return hashPBKDF2(password)
	case AlgSHA256:
		return hashDigest(sha256.New, password)
	case AlgSHA512:
		return hashDigest(sha512.New, password)
	case AlgPlain:
		return password, "", nil
	}
	return "", "", fmt.Errorf("%w: %q", ErrUnknownAlgorithm, algorithm)
}

// hashBcrypt returns the $2b$ form. x/crypto writes $2a$; for passwords it
// accepts (at most 72 bytes) the two versions produce identical hashes, $2b$
// only fixing a length wrap-around bug in OpenBSD's C code that Go never had.
func hashBcrypt(password string) (string, string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), DefaultBcryptCost)
	if err != nil {
		return "", "", fmt.Errorf("auth: bcrypt: %w", err)
	}
	return strings.Replace(string(h), "$2a$", "$2b$", 1), "", nil
}

func hashPBKDF2(password string) (string, string, error) {
	salt := newSalt()
	key, err := pbkdf2.Key(sha256.New, password, []byte(salt), DefaultPBKDF2Iterations, sha256.Size)
	if err != nil {
		return "", "", fmt.Errorf("auth: pbkdf2: %w", err)
	}
	return hex.EncodeToString(key), salt, nil
}

func hashDigest(h func() hash.Hash, password string) (string, string, error) {
	salt := newSalt()
	d := h()
	d.Write([]byte(salt + password))
	return hex.EncodeToString(d.Sum(nil)), salt, nil
}

// newSalt returns random hex text, used verbatim as the salt bytes.
func newSalt() string {
	b := make([]byte, saltBytes)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return hex.EncodeToString(b)
}
