package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	mqtt3 "github.com/eclipse/paho.mqtt.golang"
	"github.com/herald-mqtt/herald/internal/auth"
	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// hashedUser builds a config user whose password is hashed with algorithm
// (as `herald passwd` does).
func hashedUser(t *testing.T, name, algorithm, password string) config.User {
	t.Helper()
	h, salt, err := auth.HashPassword(algorithm, password)
	if err != nil {
		t.Fatalf("hash %s: %v", algorithm, err)
	}
	return config.User{Username: name, PasswordHash: h, Algorithm: algorithm, Salt: salt, SaltPosition: "prefix"}
}

// suffixUser is a sha256 user with the salt after the password.
func suffixUser(name, password, salt string) config.User {
	sum := sha256.Sum256([]byte(password + salt))
	return config.User{Username: name, PasswordHash: hex.EncodeToString(sum[:]), Algorithm: "sha256",
		Salt: salt, SaltPosition: "suffix"}
}

// login is a CONNECT with credentials.
func login(id, user, password string) *packet.Connect {
	return &packet.Connect{ClientID: id, CleanStart: true, Username: user, Password: []byte(password)}
}

// TestAuthPasswordHashes accepts each user of the built-in list with its
// password and refuses a wrong one with 0x86 (v5) or 0x04 (3.1.1), then
// closes [MQTT-3.2.2-7] [MQTT-3.2.2-5 in 3.1.1], for every hash algorithm: bcrypt, pbkdf2,
// sha256 with prefix and suffix salt, sha512 and plain (EMQX built-in
// database password_hash_algorithm).
func TestAuthPasswordHashes(t *testing.T) {
	t.Parallel()
	// The slow hashes are precomputed: under the race detector one PBKDF2
	// (600 000 iterations) or bcrypt run takes seconds.
	users := []config.User{
		{Username: "bcrypt", Algorithm: auth.AlgBcrypt, SaltPosition: "prefix",
			PasswordHash: "$2b$10$hYDfDY3/36n/9eVEVwURZuOxmhMqNX80seRTMC0L5JwCKMlyRt3.y"},
		{Username: "pbkdf2", Algorithm: auth.AlgPBKDF2, SaltPosition: "prefix", Salt: "herald-salt",
			PasswordHash: "004bae2a69d0440a59f7574e067973843b7ea15d95c578b123d3ba245ebbf369"},
		hashedUser(t, "sha256", auth.AlgSHA256, "pw-sha256"),
		suffixUser("sha256s", "pw-sha256s", "pepper"),
		hashedUser(t, "sha512", auth.AlgSHA512, "pw-sha512"),
		plainUser("plain", "pw-plain"),
	}
	s := testutil.RunServer(t, withUsers(false, users...))
	for _, u := range users {
		pw, wait := "pw-"+u.Username, testutil.Timeout
		if slowHash(u.Algorithm) {
			wait = slowHashTimeout
		}
		connackWithin(t, s.TCP(), packet.V5, login(u.Username+"5", u.Username, pw), packet.Success, wait)
		c, _ := testutil.ConnectRaw(t, s.TCP(), packet.V311, login(u.Username+"3", u.Username, pw)) // cached now
		rawPingPong(t, c)
		testutil.ConnectV3(t, s.TCP(), u.Username+"p", withCredentials(u.Username, pw))
		connackWithin(t, s.TCP(), packet.V5, login("bad5", u.Username, pw+"x"), packet.BadUsernameOrPassword, wait)
		if !slowHash(u.Algorithm) {
			refuse(t, s.TCP(), packet.V311, login("bad3", u.Username, pw+"x"), packet.V3BadUsernameOrPassword)
		}
	}
	// A user name without a password: the built-in database needs one.
	refuse(t, s.TCP(), packet.V5, &packet.Connect{ClientID: "nopw", CleanStart: true, Username: "plain"}, packet.BadUsernameOrPassword)
}

// TestAuthAnonymous checks authentication.allow_anonymous: off refuses a
// client without a user name with 0x87 / 0x05, on admits it while users
// still need their password.
func TestAuthAnonymous(t *testing.T) {
	t.Parallel()
	off := testutil.RunServer(t, withUsers(false, plainUser("alice", "secret")))
	refuse(t, off.TCP(), packet.V5, &packet.Connect{ClientID: "anon", CleanStart: true}, packet.NotAuthorized)
	refuse(t, off.TCP(), packet.V311, &packet.Connect{ClientID: "anon", CleanStart: true}, packet.V3NotAuthorized)
	testutil.ConnectRaw(t, off.TCP(), packet.V5, login("alice", "alice", "secret"))

	on := testutil.RunServer(t, withUsers(true, plainUser("alice", "secret")))
	testutil.ConnectRaw(t, on.TCP(), packet.V5, &packet.Connect{ClientID: "anon5", CleanStart: true})
	testutil.ConnectRaw(t, on.TCP(), packet.V311, &packet.Connect{ClientID: "anon3", CleanStart: true})
	testutil.ConnectV3(t, on.TCP(), "anonp")
	refuse(t, on.TCP(), packet.V5, login("bad", "alice", "wrong"), packet.BadUsernameOrPassword)
	if got := on.Broker().Metrics().Get(broker.MAuthenticationSuccessAnonymous); got != 3 {
		t.Fatalf("authentication.success.anonymous = %d, want 3", got)
	}
}

// slowHashTimeout bounds a CONNECT whose password check runs bcrypt or
// PBKDF2: a second or more under the race detector, more on a busy machine.
const slowHashTimeout = 30 * time.Second

// connackWithin connects with p and expects CONNACK want within wait; a
// successful connection answers PINGREQ, a refused one is closed.
func connackWithin(t *testing.T, addr string, v byte, p *packet.Connect, want packet.ReasonCode, wait time.Duration) {
	t.Helper()
	c := testutil.DialRaw(t, addr, v)
	p.ProtocolVersion = v
	c.Send(p)
	pk, err := c.Read(wait)
	if err != nil {
		t.Fatalf("%q: no CONNACK within %v: %v", p.Username, wait, err)
	}
	if ack, ok := pk.(*packet.Connack); !ok || ack.ReasonCode != want {
		t.Fatalf("%q: got %+v, want CONNACK 0x%02x", p.Username, pk, byte(want))
	}
	if want == packet.Success {
		rawPingPong(t, c)
		return
	}
	expectSilentClose(t, c)
}

// slowHash reports whether verifying algorithm is costly (then cached after
// a success, so only one refusal is worth checking).
func slowHash(algorithm string) bool {
	return algorithm == auth.AlgBcrypt || algorithm == auth.AlgPBKDF2
}

// withCredentials sets a paho.mqtt.golang client's user name and password.
func withCredentials(user, password string) func(*mqtt3.ClientOptions) {
	return func(o *mqtt3.ClientOptions) { o.SetUsername(user).SetPassword(password) }
}
