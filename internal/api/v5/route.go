package v5

import (
	"net/http"

	"github.com/herald-mqtt/herald/internal/api"
	"github.com/herald-mqtt/herald/internal/service"
)

// access says who may call a route.
type access int

const (
	// authed: any authenticated principal, subject to the role rules.
	authed access = iota
	// public: no authentication (status, login, prometheus, docs).
	public
	// bearerOnly: a dashboard token; API keys get 401 API_KEY_NOT_ALLOW.
	bearerOnly
)

// route is one operation of the API. The mux, the access checks and the
// OpenAPI document are built from these fields.
type route struct {
	method  string
	path    string // under Prefix, OpenAPI style: "/clients/{clientid}"
	tag     string // EMQX's tag ("Clients")
	summary string
	access  access
	// publisher: the publisher role may call it (only /publish*).
	publisher bool
	// viewerWrite: a viewer may call this non-GET route (logout, change
	// its own password).
	viewerWrite bool

	query  any // pointer to a struct whose `query:"name"` fields document the parameters
	body   any // pointer to the request body type (nil: none)
	resp   any // pointer to the success body type (nil: none)
	status int // success status; 0 = 200
	// contentType of the success body when not JSON ("text/plain").
	contentType string

	h api.HandlerFunc
}

// guard wraps a route's handler with authentication and the role rules.
func (a *API) guard(rt route) http.Handler {
	return a.wr.Wrap(func(w http.ResponseWriter, r *http.Request) error {
		if rt.access == public {
			return rt.h(w, r)
		}
		p, err := api.Authenticate(r, a.svc)
		if err != nil {
			return err
		}
		if err := allowed(rt, p); err != nil {
			return err
		}
		return rt.h(w, r.WithContext(service.WithPrincipal(r.Context(), p)))
	})
}

// allowed applies EMQX's rules: API keys may not use bearer-only routes; a
// viewer may GET (and the few viewerWrite routes); a publisher may only
// publish.
func allowed(rt route, p service.Principal) error {
	if rt.access == bearerOnly && p.APIKey {
		return api.Errorf(http.StatusUnauthorized, "API_KEY_NOT_ALLOW", "API key is not allowed here, use bearer token instead")
	}
	switch p.Role {
	case service.RoleAdministrator:
		return nil
	case service.RoleViewer:
		if rt.method == http.MethodGet || rt.viewerWrite {
			return nil
		}
	case service.RolePublisher:
		if rt.publisher {
			return nil
		}
	}
	return api.Errorf(http.StatusForbidden, "UNAUTHORIZED_ROLE", "role %s may not %s %s", p.Role, rt.method, rt.path)
}

// pathParam returns a path wildcard (already unescaped).
func pathParam(r *http.Request, name string) string { return r.PathValue(name) }
