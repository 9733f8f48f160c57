package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/server"
	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/herald-mqtt/herald/pkg/client"
)

// secRaw sends a raw request to the API (path under /api/v5) and returns
// the status, headers and body.
func secRaw(t *testing.T, s *testutil.Server, method, path string, header http.Header, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(secCtx(t), method, s.APIURL()+"/api/v5"+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// secEnvelope checks an error body is EMQX's {code, message} with code.
func secEnvelope(t *testing.T, body []byte, code string) {
	t.Helper()
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil || len(e) != 2 || e["code"] != code || e["message"] == "" {
		t.Fatalf("body %s, want {code: %s, message}", body, code)
	}
}

func TestSecurityNoCredentials(t *testing.T) {
	s := testutil.RunServer(t)
	for _, auth := range []string{"", "Digest abc", "Basic !!!notbase64", "Basic " + "bm9jb2xvbg=="} {
		resp, body := secRaw(t, s, http.MethodGet, "/users", http.Header{"Authorization": {auth}}, nil)
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("Authorization %q: %d, WWW-Authenticate %q", auth, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		secEnvelope(t, body, "AUTHORIZATION_HEADER_ERROR")
		if auth == "" {
			testutil.GoldenShape(t, "security_no_credentials.json", body)
		}
	}
	resp, body := secRaw(t, s, http.MethodGet, "/users", http.Header{"Authorization": {"Bearer not-a-token"}}, nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad token: %d", resp.StatusCode)
	}
	secEnvelope(t, body, "BAD_TOKEN")
}

func TestSecurityViewerUserReadsOnly(t *testing.T) {
	s := testutil.RunServer(t)
	admin := s.API(t)
	ctx := secCtx(t)
	if _, err := admin.CreateUser(ctx, client.NewUser{Username: "viewer1", Password: "viewer_pw1", Role: "viewer"}); err != nil {
		t.Fatalf("create: %v", err)
	}
	v := secLogin(t, s, "viewer1", "viewer_pw1")
	if users, err := v.Users(ctx); err != nil || len(users) != 2 {
		t.Fatalf("viewer GET /users = %v, %v", users, err)
	}
	desc := "x"
	_, err := v.CreateUser(ctx, client.NewUser{Username: "mallory", Password: "mallory_pw1"})
	secWantErr(t, err, http.StatusForbidden, "UNAUTHORIZED_ROLE")
	_, err = v.UpdateUser(ctx, "admin", client.UserUpdate{Description: &desc})
	secWantErr(t, err, http.StatusForbidden, "UNAUTHORIZED_ROLE")
	err = v.DeleteUser(ctx, "admin")
	secWantErr(t, err, http.StatusForbidden, "UNAUTHORIZED_ROLE")
	_, err = v.CreateAPIKey(ctx, client.APIKeyRequest{Name: "sneaky"})
	secWantErr(t, err, http.StatusForbidden, "UNAUTHORIZED_ROLE")
	if users, _ := admin.Users(ctx); len(users) != 2 {
		t.Fatalf("a viewer changed the users: %+v", users)
	}
	if keys, _ := admin.APIKeys(ctx); len(keys) != 0 {
		t.Fatalf("a viewer created a key: %+v", keys)
	}
	if err := v.Logout(ctx, "viewer1"); err != nil {
		t.Fatalf("viewer logout: %v", err)
	}
}

// secProbe is one request of the role matrix.
type secProbe struct {
	method, path string
	want         int // 0: the guard lets it through (anything but 401/403)
	code         string
}

func TestSecurityAPIKeyRoles(t *testing.T) {
	s := testutil.RunServer(t)
	admin := s.API(t)
	ctx := secCtx(t)
	keyClient := func(role string) *client.Client {
		k, err := admin.CreateAPIKey(ctx, client.APIKeyRequest{Name: "k-" + role, Role: ptr(role)})
		if err != nil {
			t.Fatalf("create %s key: %v", role, err)
		}
		return client.New(s.APIURL(), client.WithAPIKey(k.APIKey, k.APISecret))
	}
	// No API key may manage keys or users, or log out, whatever its role.
	bearerOnly := []secProbe{
		{http.MethodGet, "/api_key", 401, "API_KEY_NOT_ALLOW"},
		{http.MethodPost, "/api_key", 401, "API_KEY_NOT_ALLOW"},
		{http.MethodDelete, "/api_key/k-viewer", 401, "API_KEY_NOT_ALLOW"},
		{http.MethodGet, "/users", 401, "API_KEY_NOT_ALLOW"},
		{http.MethodPost, "/users", 401, "API_KEY_NOT_ALLOW"},
		{http.MethodPost, "/logout", 401, "API_KEY_NOT_ALLOW"},
	}
	// Routes of the other tags: a viewer reads, a publisher only publishes.
	// On a branch where such a route does not exist yet the probe is skipped.
	matrix := map[string][]secProbe{
		"administrator": append(bearerOnly, secProbe{http.MethodGet, "/nodes", 200, ""}),
		"viewer": append(bearerOnly,
			secProbe{http.MethodGet, "/nodes", 200, ""},
			secProbe{http.MethodPost, "/banned", 403, "UNAUTHORIZED_ROLE"},
			secProbe{http.MethodDelete, "/clients/c1", 403, "UNAUTHORIZED_ROLE"},
			secProbe{http.MethodPost, "/publish", 403, "UNAUTHORIZED_ROLE"}),
		"publisher": append(bearerOnly,
			secProbe{http.MethodPost, "/publish", 0, ""},
			secProbe{http.MethodPost, "/publish/bulk", 0, ""},
			secProbe{http.MethodGet, "/nodes", 403, "UNAUTHORIZED_ROLE"},
			secProbe{http.MethodDelete, "/clients/c1", 403, "UNAUTHORIZED_ROLE"}),
	}
	for role, probes := range matrix {
		c := keyClient(role)
		for _, p := range probes {
			t.Run(role+" "+p.method+" "+p.path, func(t *testing.T) { secRunProbe(t, c, p) })
		}
	}
	if keys, _ := admin.APIKeys(ctx); len(keys) != 3 {
		t.Fatalf("keys changed by API keys: %+v", keys)
	}
}

func secRunProbe(t *testing.T, c *client.Client, p secProbe) {
	var body any
	if p.method != http.MethodGet && p.method != http.MethodDelete {
		body = map[string]any{}
	}
	resp, err := c.Do(secCtx(t), p.method, p.path, nil, body, nil)
	var e *client.Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound && e.Code == "" {
		t.Fatalf("%s %s is not served", p.method, p.path)
	}
	switch {
	case p.want == 0:
		if errors.As(err, &e) && (e.Status == 401 || e.Status == 403) {
			t.Fatalf("refused: %v", err)
		}
	case p.want == 200:
		if err != nil || resp.Status != 200 {
			t.Fatalf("got %v, want 200", err)
		}
	default:
		secWantErr(t, err, p.want, p.code)
	}
}

func TestSecurityAPIKeyExpiredOrDisabled(t *testing.T) {
	s := testutil.RunServer(t)
	admin := s.API(t)
	ctx := secCtx(t)
	// An authenticated key reaches the guard and is refused on /api_key
	// (API_KEY_NOT_ALLOW); a refused key never gets that far.
	authenticates := func(k client.APIKey) error {
		_, err := client.New(s.APIURL(), client.WithAPIKey(k.APIKey, k.APISecret)).APIKeys(context.Background())
		var e *client.Error
		if errors.As(err, &e) && e.Code == "API_KEY_NOT_ALLOW" {
			return nil
		}
		return err
	}
	refused := func(k client.APIKey) {
		t.Helper()
		_, err := client.New(s.APIURL(), client.WithAPIKey(k.APIKey, k.APISecret)).APIKeys(ctx)
		secWantErr(t, err, http.StatusUnauthorized, "BAD_API_KEY_OR_SECRET")
	}

	past, err := admin.CreateAPIKey(ctx, client.APIKeyRequest{Name: "past", ExpiredAt: time.Now().Add(-time.Hour).Unix()})
	if err != nil || !past.Expired {
		t.Fatalf("create expired = %+v, %v", past, err)
	}
	refused(past)

	created := time.Now()
	soon, err := admin.CreateAPIKey(ctx, client.APIKeyRequest{Name: "soon", ExpiredAt: created.Add(3 * time.Second).Format(time.RFC3339)})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	// Accepted until it expires, 2 to 3 s from created (RFC 3339 keeps
	// whole seconds): checked when the round trip took less than 2 s.
	if err := authenticates(soon); err != nil && testutil.InTime(t, created, 2*time.Second, "fresh key accepted") {
		t.Fatalf("fresh key: %v", err)
	}
	testutil.Eventually(t, testutil.Timeout, func() error {
		if authenticates(soon) == nil {
			return errors.New("still accepted")
		}
		return nil
	})
	refused(soon)
	if k, _ := admin.APIKey(ctx, "soon"); !k.Expired {
		t.Fatalf("expired key shows expired=false: %+v", k)
	}

	k, err := admin.CreateAPIKey(ctx, client.APIKeyRequest{Name: "toggle"})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if _, err := admin.UpdateAPIKey(ctx, "toggle", client.APIKeyRequest{Enable: ptr(false)}); err != nil {
		t.Fatalf("disable: %v", err)
	}
	refused(k)
	if _, err := admin.UpdateAPIKey(ctx, "toggle", client.APIKeyRequest{Enable: ptr(true)}); err != nil {
		t.Fatalf("enable: %v", err)
	}
	if err := authenticates(k); err != nil {
		t.Fatalf("re-enabled key: %v", err)
	}
	wrong := k
	wrong.APISecret += "x"
	refused(wrong)
	refused(client.APIKey{APIKey: "unknown", APISecret: k.APISecret})
}

func TestSecurityLoginRateLimited(t *testing.T) {
	s := testutil.RunServer(t, func(c *config.Config) { c.Dashboard.UnsuccessfulLoginMaxAttempts = 3 })
	admin := s.API(t)
	ctx := secCtx(t)
	if _, err := admin.CreateUser(ctx, client.NewUser{Username: "bob", Password: "bob_pw_1"}); err != nil {
		t.Fatalf("create: %v", err)
	}
	try := func(user, pass string) error {
		_, err := client.New(s.APIURL()).Login(ctx, user, pass)
		return err
	}
	for range 3 {
		secWantErr(t, try("admin", "guess"), http.StatusUnauthorized, "BAD_USERNAME_OR_PWD")
	}
	// The user is locked: even the right password is refused.
	resp, err := client.New(s.APIURL()).Do(ctx, http.MethodPost, "/login", nil,
		map[string]string{"username": "admin", "password": "public"}, nil)
	secWantErr(t, err, http.StatusUnauthorized, "LOGIN_LOCKED")
	testutil.GoldenShape(t, "security_login_locked.json", resp.Body)
	// Tokens already given out still work; another user may still log in.
	if _, err := admin.Users(ctx); err != nil {
		t.Fatalf("existing token: %v", err)
	}
	if err := try("bob", "bob_pw_1"); err != nil {
		t.Fatalf("bob: %v", err)
	}
	// The address: 4 x 3 failures in all (unknown users count too) lock it.
	for i := range 9 {
		secWantErr(t, try("ghost"+strings.Repeat("x", i), "guess"), http.StatusUnauthorized, "BAD_USERNAME_OR_PWD")
	}
	secWantErr(t, try("bob", "bob_pw_1"), http.StatusUnauthorized, "LOGIN_LOCKED")
}

func TestSecurityLoginLockEnds(t *testing.T) {
	s := testutil.RunServer(t, func(c *config.Config) {
		c.Dashboard.UnsuccessfulLoginMaxAttempts = 1
		c.Dashboard.UnsuccessfulLoginLockDuration = time.Second
	})
	ctx := secCtx(t)
	_, err := client.New(s.APIURL()).Login(ctx, "admin", "guess")
	secWantErr(t, err, http.StatusUnauthorized, "BAD_USERNAME_OR_PWD")
	testutil.Eventually(t, testutil.Timeout, func() error {
		_, err := client.New(s.APIURL()).Login(ctx, "admin", "public")
		return err
	})
}

func TestSecurityBadBodiesChangeNothing(t *testing.T) {
	s := testutil.RunServer(t)
	ctx := secCtx(t)
	c := client.New(s.APIURL())
	res, err := c.Login(ctx, "admin", "public")
	if err != nil {
		t.Fatal(err)
	}
	auth := http.Header{"Authorization": {"Bearer " + res.Token}, "Content-Type": {"application/json"}}
	huge := `{"username":"huge","password":"huge_pw_1","description":"` + strings.Repeat("a", 1<<20+16) + `"}`
	for name, body := range map[string]string{
		"malformed":  `{"username":"m1","password":"m1_pw_123"`,
		"wrong type": `{"username":5,"password":"t1_pw_123"}`,
		"trailing":   `{"username":"t2","password":"t2_pw_123"} {}`,
		"empty":      ``,
		"too large":  huge,
	} {
		for _, path := range []string{"/users", "/api_key"} {
			resp, b := secRaw(t, s, http.MethodPost, path, auth, []byte(body))
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("%s %s: %d %s", name, path, resp.StatusCode, b)
			}
			secEnvelope(t, b, "BAD_REQUEST")
			if name == "malformed" && path == "/users" {
				testutil.GoldenShape(t, "security_bad_body.json", b)
			}
		}
	}
	textAuth := http.Header{"Authorization": auth["Authorization"], "Content-Type": {"text/plain"}}
	resp, b := secRaw(t, s, http.MethodPost, "/users", textAuth, []byte(`{"username":"p1","password":"p1_pw_123"}`))
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("text/plain body: %d %s", resp.StatusCode, b)
	}
	secEnvelope(t, b, "BAD_REQUEST")

	admin := client.New(s.APIURL(), client.WithToken(res.Token))
	if users, err := admin.Users(ctx); err != nil || len(users) != 1 {
		t.Fatalf("users after bad bodies = %+v, %v", users, err)
	}
	if keys, err := admin.APIKeys(ctx); err != nil || len(keys) != 0 {
		t.Fatalf("keys after bad bodies = %+v, %v", keys, err)
	}
}

// secLogBuf is a goroutine-safe log sink.
type secLogBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *secLogBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *secLogBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestSecurityNoSecretsInLogs(t *testing.T) {
	logs := &secLogBuf{}
	cfg := testutil.TestConfig(t.TempDir())
	cfg.Dashboard.DefaultPassword = "Boot-Pass-3"
	srv, err := server.New(cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	s := &testutil.Server{Server: srv}
	t.Cleanup(func() { s.Stop(t) })
	ctx := secCtx(t)
	c := client.New(s.APIURL())
	res, err := c.Login(ctx, "admin", "Boot-Pass-3")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = client.New(s.APIURL()).Login(ctx, "admin", "wrong-Secret-1")
	if _, err := c.CreateUser(ctx, client.NewUser{Username: "dave", Password: "Dave-Pass-9"}); err != nil {
		t.Fatal(err)
	}
	k, err := c.CreateAPIKey(ctx, client.APIKeyRequest{Name: "logged"})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = client.New(s.APIURL(), client.WithAPIKey(k.APIKey, k.APISecret)).APIKeys(ctx)
	_, _ = client.New(s.APIURL(), client.WithAPIKey(k.APIKey, "Wrong-Key-Secret")).APIKeys(ctx)
	if err := c.ChangePassword(ctx, "admin", "Boot-Pass-3", "Changed-Pass-7"); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, "dashboard login") {
		t.Fatalf("no login logged; the check would prove nothing:\n%s", out)
	}
	for _, secret := range []string{"Boot-Pass-3", "wrong-Secret-1", "Dave-Pass-9", k.APISecret, "Wrong-Key-Secret", "Changed-Pass-7", res.Token} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds the secret %q", secret)
		}
	}
}
