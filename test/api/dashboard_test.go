package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/herald-mqtt/herald/pkg/client"
)

// secWantErr fails unless err is an API error with status and code.
func secWantErr(t *testing.T, err error, status int, code string) {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) || e.Status != status || e.Code != code {
		t.Fatalf("got %v, want %d %s", err, status, code)
	}
	if e.Message == "" {
		t.Fatalf("error %d %s has no message", e.Status, e.Code)
	}
}

// secCtx bounds a test's API calls; generous, as bcrypt under -race on a
// shared machine is slow.
func secCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// secLogin returns a client logged in as user.
func secLogin(t *testing.T, s *testutil.Server, user, pass string) *client.Client {
	t.Helper()
	c := client.New(s.APIURL())
	if _, err := c.Login(secCtx(t), user, pass); err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return c
}

func TestDashboardLoginShape(t *testing.T) {
	s := testutil.RunServer(t)
	c := client.New(s.APIURL())
	ctx := secCtx(t)
	resp, err := c.Do(ctx, http.MethodPost, "/login", nil, map[string]string{"username": "admin", "password": "public"}, nil)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	testutil.GoldenShape(t, "dashboard_login.json", resp.Body)
	resp, err = c.Do(ctx, http.MethodPost, "/login", nil, map[string]string{"username": "admin", "password": "nope"}, nil)
	secWantErr(t, err, http.StatusUnauthorized, "BAD_USERNAME_OR_PWD")
	testutil.GoldenShape(t, "dashboard_login_error.json", resp.Body)
	res, err := c.Login(ctx, "admin", "public")
	if err != nil || res.Role != "administrator" || res.Version == "" || res.License["edition"] != "opensource" {
		t.Fatalf("login = %+v, %v", res, err)
	}
}

func TestDashboardUsersCRUD(t *testing.T) {
	s := testutil.RunServer(t)
	admin := s.API(t)
	ctx := secCtx(t)

	resp, err := admin.Do(ctx, http.MethodGet, "/users", nil, nil, nil)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	testutil.GoldenShape(t, "dashboard_users.json", resp.Body)

	body := client.NewUser{Username: "alice", Password: "alice_pw1", Role: "viewer", Description: "ops"}
	resp, err = admin.Do(ctx, http.MethodPost, "/users", nil, body, nil)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	testutil.GoldenShape(t, "dashboard_user_create.json", resp.Body)
	resp, err = admin.Do(ctx, http.MethodPost, "/users", nil, body, nil)
	secWantErr(t, err, http.StatusBadRequest, "BAD_REQUEST")
	testutil.GoldenShape(t, "dashboard_user_create_error.json", resp.Body)

	for _, bad := range []client.NewUser{
		{Username: "bad name", Password: "good_pw1"},
		{Username: "weak", Password: "abcdefgh"},
		{Username: "short", Password: "a1"},
		{Username: "role", Password: "good_pw1", Role: "root"},
	} {
		_, err := admin.CreateUser(ctx, bad)
		secWantErr(t, err, http.StatusBadRequest, "BAD_REQUEST")
	}

	desc := "operations"
	u, err := admin.UpdateUser(ctx, "alice", client.UserUpdate{Description: &desc})
	if err != nil || u.Description != desc || u.Role != "viewer" || u.Backend != "local" {
		t.Fatalf("update = %+v, %v", u, err)
	}
	resp, err = admin.Do(ctx, http.MethodPut, "/users/nobody", nil, client.UserUpdate{Description: &desc}, nil)
	secWantErr(t, err, http.StatusNotFound, "USER_NOT_FOUND")
	testutil.GoldenShape(t, "dashboard_user_update_error.json", resp.Body)
	_, err = admin.Do(ctx, http.MethodPut, "/users/alice", url.Values{"backend": {"ldap"}}, client.UserUpdate{Description: &desc}, nil)
	secWantErr(t, err, http.StatusNotFound, "USER_NOT_FOUND")

	users, err := admin.Users(ctx)
	if err != nil || len(users) != 2 || users[0].Username != "admin" || users[1].Username != "alice" {
		t.Fatalf("users = %+v, %v", users, err)
	}

	alice := secLogin(t, s, "alice", "alice_pw1")
	if err := admin.DeleteUser(ctx, "alice"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = alice.Users(ctx)
	secWantErr(t, err, http.StatusUnauthorized, "BAD_TOKEN") // a deleted user's tokens end
	err = admin.DeleteUser(ctx, "alice")
	secWantErr(t, err, http.StatusNotFound, "USER_NOT_FOUND")
	_, err = client.New(s.APIURL()).Login(ctx, "alice", "alice_pw1")
	secWantErr(t, err, http.StatusUnauthorized, "BAD_USERNAME_OR_PWD")
}

func TestDashboardLastAdministratorAndSelf(t *testing.T) {
	s := testutil.RunServer(t)
	admin := s.API(t)
	ctx := secCtx(t)
	err := admin.DeleteUser(ctx, "admin")
	secWantErr(t, err, http.StatusBadRequest, "NOT_ALLOWED")
	viewer := "viewer"
	_, err = admin.UpdateUser(ctx, "admin", client.UserUpdate{Role: &viewer})
	secWantErr(t, err, http.StatusBadRequest, "NOT_ALLOWED")

	// With a second administrator, one may demote and delete the other.
	if _, err := admin.CreateUser(ctx, client.NewUser{Username: "root2", Password: "root2_pw!"}); err != nil {
		t.Fatalf("create: %v", err)
	}
	root2 := secLogin(t, s, "root2", "root2_pw!")
	if u, err := root2.UpdateUser(ctx, "admin", client.UserUpdate{Role: &viewer}); err != nil || u.Role != "viewer" {
		t.Fatalf("demote = %+v, %v", u, err)
	}
	_, err = admin.Users(ctx)
	secWantErr(t, err, http.StatusUnauthorized, "BAD_TOKEN") // a role change ends the tokens
	if err := root2.DeleteUser(ctx, "admin"); err != nil {
		t.Fatalf("delete admin: %v", err)
	}
	_, err = root2.UpdateUser(ctx, "root2", client.UserUpdate{Role: &viewer})
	secWantErr(t, err, http.StatusBadRequest, "NOT_ALLOWED")
}

func TestDashboardChangePassword(t *testing.T) {
	s := testutil.RunServer(t)
	admin := s.API(t)
	ctx := secCtx(t)
	if _, err := admin.CreateUser(ctx, client.NewUser{Username: "bob", Password: "bob_pw_1", Role: "viewer"}); err != nil {
		t.Fatalf("create: %v", err)
	}
	bob := secLogin(t, s, "bob", "bob_pw_1")

	err := bob.ChangePassword(ctx, "admin", "public", "hijack_1")
	secWantErr(t, err, http.StatusForbidden, "UNAUTHORIZED_ROLE")
	resp, err := bob.Do(ctx, http.MethodPost, "/users/bob/change_pwd", nil,
		map[string]string{"old_pwd": "wrong_pw1", "new_pwd": "bob_pw_2"}, nil)
	secWantErr(t, err, http.StatusBadRequest, "ERROR_PWD_NOT_MATCH")
	testutil.GoldenShape(t, "dashboard_change_pwd_error.json", resp.Body)
	err = bob.ChangePassword(ctx, "bob", "bob_pw_1", "weakweak")
	secWantErr(t, err, http.StatusBadRequest, "BAD_REQUEST")

	if err := bob.ChangePassword(ctx, "bob", "bob_pw_1", "bob_pw_2"); err != nil {
		t.Fatalf("viewer changes its own password: %v", err)
	}
	_, err = bob.Users(ctx)
	secWantErr(t, err, http.StatusUnauthorized, "BAD_TOKEN") // the change ends the user's tokens
	secLogin(t, s, "bob", "bob_pw_2")

	// The administrator changes the bootstrap password; the old one stops working.
	if err := admin.ChangePassword(ctx, "admin", "public", "n3w-secret"); err != nil {
		t.Fatalf("admin change: %v", err)
	}
	_, err = client.New(s.APIURL()).Login(ctx, "admin", "public")
	secWantErr(t, err, http.StatusUnauthorized, "BAD_USERNAME_OR_PWD")
	secLogin(t, s, "admin", "n3w-secret")
	err = secLogin(t, s, "admin", "n3w-secret").ChangePassword(ctx, "nobody", "x", "y_pw_1234")
	secWantErr(t, err, http.StatusNotFound, "USER_NOT_FOUND")
}

func TestDashboardLogout(t *testing.T) {
	s := testutil.RunServer(t)
	admin := s.API(t)
	ctx := secCtx(t)
	err := admin.Logout(ctx, "someone_else")
	secWantErr(t, err, http.StatusUnauthorized, "BAD_USERNAME_OR_PWD")
	if err := admin.Logout(ctx, "admin"); err != nil {
		t.Fatalf("logout: %v", err)
	}
	_, err = admin.Users(ctx)
	secWantErr(t, err, http.StatusUnauthorized, "BAD_TOKEN")
	other := s.API(t)
	if err := other.Logout(ctx, ""); err != nil {
		t.Fatalf("logout without a body: %v", err)
	}
}

func TestDashboardTokenExpires(t *testing.T) {
	s := testutil.RunServer(t, func(c *config.Config) { c.Dashboard.TokenExpiredTime = time.Second })
	admin := s.API(t)
	testutil.Eventually(t, testutil.Timeout, func() error {
		_, err := admin.Users(context.Background())
		var e *client.Error
		if errors.As(err, &e) && e.Code == "TOKEN_TIME_OUT" && e.Status == http.StatusUnauthorized {
			return nil
		}
		return errors.New("token still valid")
	})
}

func TestDashboardStateSurvivesRestart(t *testing.T) {
	s := testutil.RunServer(t)
	admin := s.API(t)
	ctx := secCtx(t)
	old, err := client.New(s.APIURL()).Login(ctx, "admin", "public")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateUser(ctx, client.NewUser{Username: "carol", Password: "carol_pw1", Role: "viewer"}); err != nil {
		t.Fatalf("create: %v", err)
	}
	key, err := admin.CreateAPIKey(ctx, client.APIKeyRequest{Name: "keep"})
	if err != nil {
		t.Fatalf("create key: %v", err)
	}
	if err := admin.ChangePassword(ctx, "admin", "public", "after-restart1"); err != nil {
		t.Fatalf("change: %v", err)
	}
	s2 := s.Restart(t)
	admin2 := secLogin(t, s2, "admin", "after-restart1")
	_, err = client.New(s2.APIURL()).Login(ctx, "admin", "public")
	secWantErr(t, err, http.StatusUnauthorized, "BAD_USERNAME_OR_PWD")
	if c := secLogin(t, s2, "carol", "carol_pw1"); c == nil {
		t.Fatal("carol")
	}
	// Tokens live in memory: the old one is gone.
	_, err = admin.Do(ctx, http.MethodGet, "/users", nil, nil, nil)
	if err == nil {
		t.Fatalf("old node still answers")
	}
	_, err = client.New(s2.APIURL(), client.WithToken(old.Token)).Users(ctx)
	secWantErr(t, err, http.StatusUnauthorized, "BAD_TOKEN")
	// The API key and its secret survive.
	got, err := admin2.APIKey(ctx, "keep")
	if err != nil || got.APIKey != key.APIKey || got.APISecret != "" {
		t.Fatalf("key after restart = %+v, %v", got, err)
	}
	_, err = client.New(s2.APIURL(), client.WithAPIKey(key.APIKey, key.APISecret)).APIKeys(ctx)
	secWantErr(t, err, http.StatusUnauthorized, "API_KEY_NOT_ALLOW") // authenticated, then refused here
}

func TestDashboardBootstrapAdminFromConfig(t *testing.T) {
	s := testutil.RunServer(t, func(c *config.Config) {
		c.Dashboard.DefaultUsername, c.Dashboard.DefaultPassword = "root", "s3cret-pw"
	})
	ctx := secCtx(t)
	res, err := client.New(s.APIURL()).Login(ctx, "root", "s3cret-pw")
	if err != nil || res.Role != "administrator" {
		t.Fatalf("login root = %+v, %v", res, err)
	}
	_, err = client.New(s.APIURL()).Login(ctx, "admin", "public")
	secWantErr(t, err, http.StatusUnauthorized, "BAD_USERNAME_OR_PWD")
}

func TestDashboardSchemas(t *testing.T) {
	s := testutil.RunServer(t)
	c := client.New(s.APIURL()) // public: no credentials
	ctx := secCtx(t)
	doc, err := c.Schema(ctx, "hotconf")
	if err != nil {
		t.Fatalf("hotconf: %v", err)
	}
	props, _ := doc["properties"].(map[string]any)
	ttl, _ := props["dashboard.token_expired_time"].(map[string]any)
	if doc["type"] != "object" || ttl["type"] != "string" {
		t.Fatalf("hotconf schema = %v", doc)
	}
	if pw, _ := props["dashboard.default_password"].(map[string]any); pw["default"] != nil {
		t.Fatalf("the schema shows the default password")
	}
	resp, err := c.Do(ctx, http.MethodGet, "/schemas/bridges", nil, nil, nil)
	if err != nil {
		t.Fatalf("bridges: %v", err)
	}
	testutil.GoldenShape(t, "dashboard_schema.json", resp.Body)
	resp, err = c.Do(ctx, http.MethodGet, "/schemas/nope", nil, nil, nil)
	secWantErr(t, err, http.StatusBadRequest, "BAD_REQUEST")
	testutil.GoldenShape(t, "dashboard_schema_error.json", resp.Body)
}
