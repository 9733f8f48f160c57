package auth

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// Vectors computed independently (Python hashlib) in EMQX's storage format:
// hex(hash(salt+password)) for prefix, hex(hash(password+salt)) for suffix,
// hex(pbkdf2_hmac(mac, password, salt, iterations, dk_length)). The pbkdf2
// sha256 and sha1 vectors are RFC 7914 section 11 and RFC 6070's.
var hashVectors = []struct {
	name     string
	user     User
	password string
}{
	{"sha256 prefix", User{Algorithm: AlgSHA256, Salt: "salt123",
		PasswordHash: "a5a72f1edf5dcc152e04572ae63b199a01961fa97c1059ccd3238290425e56e4"}, "public"},
	{"sha256 upper-case hex", User{Algorithm: AlgSHA256, Salt: "salt123", SaltPosition: SaltPrefix,
		PasswordHash: "A5A72F1EDF5DCC152E04572AE63B199A01961FA97C1059CCD3238290425E56E4"}, "public"},
	{"sha512 suffix", User{Algorithm: AlgSHA512, Salt: "salt123", SaltPosition: SaltSuffix,
		PasswordHash: "331de73b7584229ebc73d667ae58b069238a42db136b462418f3efc5ff4a6904739377322690f027491b09474a4a87f0261c9ccbef0956b17778a64ba33a4d67"}, "public"},
	{"sha256 salt disabled", User{Algorithm: AlgSHA256, Salt: "ignored", SaltPosition: SaltDisable,
		PasswordHash: "efa1f375d76194fa51a3556a97e641e61685f914d446979da50a551a4333ffd7"}, "public"},
	{"pbkdf2 sha256 RFC 7914", User{Algorithm: AlgPBKDF2, Salt: "salt", Iterations: 1, DKLength: 64,
		PasswordHash: "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"}, "passwd"},
	{"pbkdf2 sha256 RFC 7914 NaCl", User{Algorithm: AlgPBKDF2, MAC: "sha256", Salt: "NaCl", Iterations: 80000,
		PasswordHash: "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"}, "Password"},
	{"pbkdf2 sha512", User{Algorithm: AlgPBKDF2, MAC: "sha512", Salt: "e0b7a5c1", Iterations: 1000,
		PasswordHash: "6bc01b71018c18d69bd8a562fc108a824429e422a439ed275644db22117ad1b37d3d2aa6d93fc01013238e858addf236f6d12f81629a403bb341778801b3e669"}, "public"},
	{"pbkdf2 sha1 RFC 6070", User{Algorithm: AlgPBKDF2, MAC: "sha", Salt: "salt", Iterations: 2,
		PasswordHash: "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"}, "password"},
	{"plain", User{Algorithm: AlgPlain, PasswordHash: "public"}, "public"},
	{"plain salted", User{Algorithm: AlgPlain, Salt: "s4lt", PasswordHash: "s4ltpublic"}, "public"},
	// The OpenBSD/Openwall bcrypt test vector, in its three version prefixes.
	{"bcrypt 2a", User{Algorithm: AlgBcrypt, PasswordHash: "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"}, "U*U"},
	{"bcrypt 2b", User{Algorithm: AlgBcrypt, PasswordHash: "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"}, "U*U"},
	{"bcrypt 2y", User{Algorithm: AlgBcrypt, PasswordHash: "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"}, "U*U"},
}

func TestAuthHashVectors(t *testing.T) {
	for _, tc := range hashVectors {
		t.Run(tc.name, func(t *testing.T) {
			v, err := newVerifier(&tc.user)
			if err != nil {
				t.Fatalf("newVerifier: %v", err)
			}
			if !v.verify([]byte(tc.password)) {
				t.Fatalf("correct password refused")
			}
			for _, wrong := range []string{"", tc.password + "x", strings.ToUpper(tc.password), tc.password[1:]} {
				if wrong != tc.password && v.verify([]byte(wrong)) {
					t.Fatalf("wrong password %q accepted", wrong)
				}
			}
		})
	}
}

func TestAuthHashPasswordRoundTrip(t *testing.T) {
	for _, alg := range []string{AlgBcrypt, AlgPBKDF2, AlgSHA256, AlgSHA512, AlgPlain} {
		t.Run(alg, func(t *testing.T) {
			h, salt, err := HashPassword(alg, "s3cret")
			if err != nil {
				t.Fatalf("HashPassword: %v", err)
			}
			v, err := newVerifier(&User{Algorithm: alg, PasswordHash: h, Salt: salt})
			if err != nil {
				t.Fatalf("newVerifier(%q, %q): %v", h, salt, err)
			}
			if !v.verify([]byte("s3cret")) || v.verify([]byte("s3cret!")) {
				t.Fatalf("round trip failed for %q salt %q", h, salt)
			}
			if alg == AlgBcrypt && (!strings.HasPrefix(h, "$2b$10$") || salt != "") {
				t.Fatalf("bcrypt = %q, %q; want $2b$10$..., no salt", h, salt)
			}
		})
	}
}

func TestAuthHashPasswordFormats(t *testing.T) {
	h, salt, err := HashPassword(AlgSHA256, "pw")
	if err != nil || len(h) != 64 || len(salt) != 2*saltBytes || h != strings.ToLower(h) {
		t.Fatalf("sha256 = %q, %q, %v; want 64 lower-case hex digits and a 32-char salt", h, salt, err)
	}
	_, salt2, _ := HashPassword(AlgSHA256, "pw")
	if salt == salt2 {
		t.Fatalf("two salts are equal: %q", salt)
	}
	if _, _, err := HashPassword("md5", "pw"); !errors.Is(err, ErrUnknownAlgorithm) {
		t.Fatalf("md5: err = %v, want ErrUnknownAlgorithm", err)
	}
	if _, _, err := HashPassword(AlgBcrypt, strings.Repeat("x", 73)); err == nil {
		t.Fatalf("bcrypt accepted a 73-byte password")
	}
}

func TestAuthHashBcryptLongPassword(t *testing.T) {
	long := strings.Repeat("p", bcryptMaxPassword)
	h, err := bcrypt.GenerateFromPassword([]byte(long), bcrypt.MinCost)
	if err != nil {
		t.Fatalf("GenerateFromPassword: %v", err)
	}
	v, err := newVerifier(&User{Algorithm: AlgBcrypt, PasswordHash: string(h)})
	if err != nil {
		t.Fatalf("newVerifier: %v", err)
	}
	if !v.verify([]byte(long)) {
		t.Fatalf("72-byte password refused")
	}
	if v.verify([]byte(long + "extra")) {
		t.Fatalf("password longer than 72 bytes accepted on its 72-byte prefix")
	}
}

func TestAuthHashBadStoredHash(t *testing.T) {
	cases := []struct {
		name string
		user User
	}{
		{"unknown algorithm", User{Algorithm: "md5", PasswordHash: "00"}},
		{"empty algorithm", User{PasswordHash: "00"}},
		{"sha256 not hex", User{Algorithm: AlgSHA256, PasswordHash: "zz"}},
		{"sha256 short", User{Algorithm: AlgSHA256, PasswordHash: "abcd"}},
		{"sha512 given sha256 length", User{Algorithm: AlgSHA512, PasswordHash: strings.Repeat("ab", 32)}},
		{"bad salt position", User{Algorithm: AlgSHA256, SaltPosition: "middle", PasswordHash: strings.Repeat("ab", 32)}},
		{"pbkdf2 bad mac", User{Algorithm: AlgPBKDF2, MAC: "md4", PasswordHash: "abcd"}},
		{"pbkdf2 empty hash", User{Algorithm: AlgPBKDF2, PasswordHash: ""}},
		{"pbkdf2 dk_length mismatch", User{Algorithm: AlgPBKDF2, DKLength: 32, PasswordHash: "abcd"}},
		{"pbkdf2 negative iterations", User{Algorithm: AlgPBKDF2, Iterations: -1, PasswordHash: "abcd"}},
		{"bcrypt garbage", User{Algorithm: AlgBcrypt, PasswordHash: "$2b$xx"}},
		{"bcrypt version 3", User{Algorithm: AlgBcrypt, PasswordHash: "$3b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"}},
	}
	for _, tc := range cases {
		if _, err := newVerifier(&tc.user); err == nil {
			t.Errorf("%s: newVerifier accepted %+v", tc.name, tc.user)
		}
	}
}
