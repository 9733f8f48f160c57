package api

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/server"
	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/herald-mqtt/herald/pkg/client"
)

func ptr[T any](v T) *T { return &v }

func TestAPIKeysCRUD(t *testing.T) {
	s := testutil.RunServer(t)
	admin := s.API(t)
	ctx := secCtx(t)

	resp, err := admin.Do(ctx, http.MethodPost, "/api_key", nil,
		map[string]any{"name": "ci-key", "desc": "for CI", "enable": true, "role": "viewer"}, nil)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	testutil.GoldenShape(t, "api_key_create.json", resp.Body)
	key, err := admin.CreateAPIKey(ctx, client.APIKeyRequest{Name: "second"})
	if err != nil || key.APISecret == "" || len(key.APIKey) != 16 || key.ExpiredAt != "infinity" ||
		key.Role != "administrator" || !key.Enable || key.Expired {
		t.Fatalf("create defaults = %+v, %v", key, err)
	}
	resp, err = admin.Do(ctx, http.MethodPost, "/api_key", nil, map[string]any{"name": "second"}, nil)
	secWantErr(t, err, http.StatusBadRequest, "BAD_REQUEST")
	testutil.GoldenShape(t, "api_key_create_error.json", resp.Body)
	for _, bad := range []map[string]any{
		{"name": "1starts-with-digit"}, {"name": "has space"}, {"name": ""},
		{"name": "r", "role": "root"}, {"name": "e", "expired_at": "tomorrow"}, {"name": "b", "expired_at": true},
	} {
		_, err := admin.Do(ctx, http.MethodPost, "/api_key", nil, bad, nil)
		secWantErr(t, err, http.StatusBadRequest, "BAD_REQUEST")
	}

	resp, err = admin.Do(ctx, http.MethodGet, "/api_key", nil, nil, nil)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	testutil.GoldenShape(t, "api_key_list.json", resp.Body)
	if strings.Contains(string(resp.Body), "api_secret") || strings.Contains(string(resp.Body), key.APISecret) {
		t.Fatalf("the list shows a secret: %s", resp.Body)
	}
	keys, err := admin.APIKeys(ctx)
	if err != nil || len(keys) != 2 || keys[0].Name != "ci-key" || keys[1].Name != "second" {
		t.Fatalf("list = %+v, %v", keys, err)
	}

	resp, err = admin.Do(ctx, http.MethodGet, "/api_key/second", nil, nil, nil)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	testutil.GoldenShape(t, "api_key_get.json", resp.Body)
	resp, err = admin.Do(ctx, http.MethodGet, "/api_key/nope", nil, nil, nil)
	secWantErr(t, err, http.StatusNotFound, "NOT_FOUND")
	testutil.GoldenShape(t, "api_key_get_error.json", resp.Body)

	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	resp, err = admin.Do(ctx, http.MethodPut, "/api_key/second", nil,
		map[string]any{"enable": false, "desc": "off", "expired_at": exp.Unix()}, nil)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	testutil.GoldenShape(t, "api_key_update.json", resp.Body)
	got, err := admin.APIKey(ctx, "second")
	gotExp, perr := time.Parse(time.RFC3339, got.ExpiredAt)
	if err != nil || perr != nil || !gotExp.Equal(exp) || got.Enable || got.Desc != "off" || got.Role != "administrator" {
		t.Fatalf("after update = %+v, %v, %v", got, err, perr)
	}
	for _, v := range []any{exp.Format(time.RFC3339), strconv.FormatInt(exp.Unix(), 10)} {
		got, err := admin.UpdateAPIKey(ctx, "second", client.APIKeyRequest{ExpiredAt: v})
		if gotExp, _ := time.Parse(time.RFC3339, got.ExpiredAt); err != nil || !gotExp.Equal(exp) {
			t.Fatalf("expired_at %v -> %+v, %v", v, got, err)
		}
	}
	if got, err := admin.UpdateAPIKey(ctx, "second", client.APIKeyRequest{ExpiredAt: "infinity"}); err != nil || got.ExpiredAt != "infinity" {
		t.Fatalf("infinity -> %+v, %v", got, err)
	}
	resp, err = admin.Do(ctx, http.MethodPut, "/api_key/nope", nil, map[string]any{"enable": true}, nil)
	secWantErr(t, err, http.StatusNotFound, "NOT_FOUND")
	testutil.GoldenShape(t, "api_key_update_error.json", resp.Body)

	if err := admin.DeleteAPIKey(ctx, "second"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	err = admin.DeleteAPIKey(ctx, "second")
	secWantErr(t, err, http.StatusNotFound, "NOT_FOUND")
	_, err = client.New(s.APIURL(), client.WithAPIKey(key.APIKey, key.APISecret)).Users(ctx)
	secWantErr(t, err, http.StatusUnauthorized, "BAD_API_KEY_OR_SECRET") // deleted: unknown
}

func TestAPIKeysBootstrapFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "keys.txt")
	content := "# automation keys\nauto-admin:Secret-One\n\nauto-viewer:Secret-Two:viewer\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	s := testutil.RunServer(t, func(c *config.Config) { c.APIKey.BootstrapFile = file })
	ctx := secCtx(t)
	check := func(s *testutil.Server) []client.APIKey {
		t.Helper()
		keys, err := s.API(t).APIKeys(ctx)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		// A valid key authenticates (then is refused on this bearer-only route).
		_, err = client.New(s.APIURL(), client.WithAPIKey("auto-viewer", "Secret-Two")).APIKeys(ctx)
		secWantErr(t, err, http.StatusUnauthorized, "API_KEY_NOT_ALLOW")
		_, err = client.New(s.APIURL(), client.WithAPIKey("auto-viewer", "wrong")).APIKeys(ctx)
		secWantErr(t, err, http.StatusUnauthorized, "BAD_API_KEY_OR_SECRET")
		return keys
	}
	keys := check(s)
	if len(keys) != 2 || !strings.HasPrefix(keys[0].Name, "from_bootstrap_file_") || keys[0].Desc != "Bootstrapped From File" {
		t.Fatalf("bootstrap keys = %+v", keys)
	}
	roles := map[string]string{}
	for _, k := range keys {
		roles[k.APIKey] = k.Role
	}
	if roles["auto-admin"] != "administrator" || roles["auto-viewer"] != "viewer" {
		t.Fatalf("roles = %v", roles)
	}
	// Loading again at restart changes nothing.
	again := check(s.Restart(t))
	if len(again) != 2 || again[0].Name != keys[0].Name || again[0].CreatedAt != keys[0].CreatedAt {
		t.Fatalf("after restart = %+v, before %+v", again, keys)
	}
}

func TestAPIKeysBootstrapFileBadLine(t *testing.T) {
	file := filepath.Join(t.TempDir(), "keys.txt")
	if err := os.WriteFile(file, []byte("good:Secret-One\nbad-line-without-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testutil.TestConfig(t.TempDir())
	cfg.APIKey.BootstrapFile = file
	srv, err := server.New(cfg, testutil.Logger())
	if err != nil {
		t.Fatal(err)
	}
	if err = srv.Start(); err == nil {
		_ = srv.Shutdown(context.Background())
		t.Fatalf("a node started with a bad bootstrap file")
	}
	if !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("error %q does not name line 2", err)
	}
}
