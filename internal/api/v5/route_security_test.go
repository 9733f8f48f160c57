package v5

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/herald-mqtt/herald/internal/api"
	"github.com/herald-mqtt/herald/internal/service"
)

// TestRouteTableRoles checks the access marks of the whole route table
// against EMQX's rules: API keys are refused on /api_key*, /users* and
// /logout; only /publish and /publish/bulk admit the publisher role; a
// viewer writes only through /logout and its own change_pwd.
func TestRouteTableRoles(t *testing.T) {
	a := &API{}
	for _, rt := range a.routes() {
		if rt.access == public {
			continue
		}
		id := rt.method + " " + rt.path
		keyOnly := strings.HasPrefix(rt.path, "/api_key") || strings.HasPrefix(rt.path, "/users") || rt.path == "/logout"
		if keyOnly != (rt.access == bearerOnly) {
			t.Errorf("%s: bearerOnly = %v, want %v", id, rt.access == bearerOnly, keyOnly)
		}
		publish := rt.method == http.MethodPost && (rt.path == "/publish" || rt.path == "/publish/bulk")
		if rt.publisher != publish {
			t.Errorf("%s: publisher = %v, want %v", id, rt.publisher, publish)
		}
		viewerWrite := rt.path == "/logout" || rt.path == "/users/{username}/change_pwd"
		if rt.viewerWrite != viewerWrite {
			t.Errorf("%s: viewerWrite = %v, want %v", id, rt.viewerWrite, viewerWrite)
		}
		checkAllowed(t, rt, id)
	}
}

func checkAllowed(t *testing.T, rt route, id string) {
	t.Helper()
	status := func(p service.Principal) int {
		var e *api.Error
		if err := allowed(rt, p); errors.As(err, &e) {
			return e.Status
		}
		return 0
	}
	for _, key := range []bool{false, true} {
		if key && rt.access == bearerOnly {
			for _, role := range []string{service.RoleAdministrator, service.RoleViewer, service.RolePublisher} {
				if got := status(service.Principal{Role: role, APIKey: true}); got != http.StatusUnauthorized {
					t.Errorf("%s: %s API key got %d, want 401", id, role, got)
				}
			}
			continue
		}
		if got := status(service.Principal{Role: service.RoleAdministrator, APIKey: key}); got != 0 {
			t.Errorf("%s: administrator refused (%d)", id, got)
		}
		wantViewer := 0
		if rt.method != http.MethodGet && !rt.viewerWrite {
			wantViewer = http.StatusForbidden
		}
		if got := status(service.Principal{Role: service.RoleViewer, APIKey: key}); got != wantViewer {
			t.Errorf("%s: viewer got %d, want %d", id, got, wantViewer)
		}
		wantPublisher := http.StatusForbidden
		if rt.publisher {
			wantPublisher = 0
		}
		if got := status(service.Principal{Role: service.RolePublisher, APIKey: key}); got != wantPublisher {
			t.Errorf("%s: publisher got %d, want %d", id, got, wantPublisher)
		}
	}
}
