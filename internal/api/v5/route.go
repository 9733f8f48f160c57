package v5

import (
	"errors"
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

	query any // pointer to a struct whose `query:"name"` fields document the parameters
	// pathParams: pointer to a struct whose `path:"name"` fields constrain
	// path wildcards (nil: plain strings).
	pathParams any
	body       any // pointer to the request body type (nil: none)
	// bodyOptional: the body may be left out (POST /logout).
	bodyOptional bool
	resp         any // pointer to the success body type (nil: none)
	status       int // success status; 0 = 200
	// also are other success statuses and their body types (the 202 and
	// 503 of /publish, the 503 of /status).
	also map[int]any
	// contentType of the success body when not JSON ("text/plain").
	contentType string
	// errs are the error codes the route returns beyond those every route
	// of its kind does (see errorCodes), by status.
	errs map[int][]string
	// fieldCodes are EMQX's codes for a bad value of some fields or
	// parameters (by the field's last name; "" for any), instead of the
	// default BAD_REQUEST.
	fieldCodes map[string]string
	// example is a request the document shows and TestOpenAPIExamples
	// sends; every route has one.
	example example

	h api.HandlerFunc
}

// example is a request of a route: its path wildcards, query parameters
// and JSON body (a string for a text body).
type example struct {
	path  map[string]string
	query map[string]string
	body  any
}

// guard wraps a route's handler with authentication and the role rules.
func (a *API) guard(rt route) http.Handler {
	return a.wr.Wrap(func(w http.ResponseWriter, r *http.Request) error {
		if rt.body != nil && !isTextBody(rt.body) {
			r = api.WithBodyType(r, rt.body)
		}
		if rt.access == public {
			if err := checkParams(rt, r); err != nil {
				return rt.fieldCode(err)
			}
			return rt.fieldCode(rt.h(w, r))
		}
		p, err := api.Authenticate(r, a.svc)
		if err != nil {
			return err
		}
		if err := allowed(rt, p); err != nil {
			return err
		}
		if err := checkParams(rt, r); err != nil {
			return rt.fieldCode(err)
		}
		return rt.fieldCode(rt.h(w, r.WithContext(service.WithPrincipal(r.Context(), p))))
	})
}

// fieldCode gives a validation error of a field the route's code for it.
func (rt route) fieldCode(err error) error {
	var e *api.Error
	if !errors.As(err, &e) || e.Field == "" {
		return err
	}
	code, ok := rt.fieldCodes[e.Leaf()]
	if !ok {
		code, ok = rt.fieldCodes[""]
	}
	if ok {
		e.Code = code
	}
	return err
}

// checkParams validates the path and query parameters against the
// route's parameter types, the ones its document shows.
func checkParams(rt route, r *http.Request) error {
	if rt.pathParams != nil {
		if err := api.ValidatePath(r, rt.pathParams, rt.paramCode()); err != nil {
			return err
		}
	}
	if rt.query != nil {
		return api.ValidateQuery(r, rt.query, rt.paramCode())
	}
	return nil
}

// paramCode is the code of a bad parameter: EMQX answers INVALID_PARAMETER
// on the client, subscription and topic lists, BAD_REQUEST elsewhere.
func (rt route) paramCode() string {
	switch rt.tag {
	case "Clients", "Subscriptions", "Topics":
		return "INVALID_PARAMETER"
	}
	return "BAD_REQUEST"
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
