package v5

import (
	"net"
	"net/http"

	"github.com/herald-mqtt/herald/internal/api"
	"github.com/herald-mqtt/herald/internal/service"
	"github.com/swaggest/jsonschema-go"
)

// LoginRequest is POST /login's body.
type LoginRequest struct {
	Username string `json:"username" maxLength:"100"`
	Password string `json:"password" maxLength:"100"`
}

// License is the license part of the login answer.
type License struct {
	Edition string `json:"edition" enum:"opensource,enterprise"`
}

// LoginResponse is POST /login's answer.
type LoginResponse struct {
	Token   string  `json:"token"`
	Role    string  `json:"role"`
	Version string  `json:"version"`
	License License `json:"license"`
}

// UserResponse is a dashboard user.
type UserResponse struct {
	Username    string `json:"username"`
	Role        string `json:"role" enum:"administrator,viewer"`
	Description string `json:"description"`
	Backend     string `json:"backend"`
}

// CreateUserRequest is POST /users' body.
type CreateUserRequest struct {
	Username    Username `json:"username" required:"true"`
	Password    Password `json:"password" required:"true"`
	Role        string   `json:"role" default:"administrator" enum:"administrator,viewer"`
	Description string   `json:"description"`
}

// UpdateUserRequest is PUT /users/{username}'s body; an absent field is
// left unchanged.
type UpdateUserRequest struct {
	Role        *string `json:"role" enum:"administrator,viewer"`
	Description *string `json:"description"`
}

// ChangePasswordRequest is POST /users/{username}/change_pwd's body.
type ChangePasswordRequest struct {
	OldPwd string   `json:"old_pwd" required:"true" minLength:"1"`
	NewPwd Password `json:"new_pwd" required:"true"`
}

// LogoutRequest is POST /logout's body (optional in Herald).
type LogoutRequest struct {
	Username string `json:"username" maxLength:"100"`
}

// BackendQuery is the backend parameter of the user routes. Herald has
// only local users.
type BackendQuery struct {
	Backend string `query:"backend" enum:"local,ldap,saml" description:"user backend; Herald has only local users"`
}

// SchemaPath is GET /schemas/{name}'s path.
type SchemaPath struct {
	Name SchemaName `path:"name"`
}

// SchemaName names a schema of GET /schemas/{name}.
type SchemaName string

// JSONSchema is the service's schema names.
func (SchemaName) JSONSchema() (jsonschema.Schema, error) {
	return stringEnum("", service.SchemaNames...), nil
}

// SchemaResponse is GET /schemas/{name}'s answer: a small JSON Schema.
type SchemaResponse map[string]any

func (a *API) dashboardRoutes() []route {
	const tag = "Dashboard"
	return []route{
		{method: http.MethodGet, path: "/users", tag: tag, summary: "Dashboard list users",
			access: bearerOnly, resp: &[]UserResponse{}, h: a.listUsers},
		{method: http.MethodPost, path: "/users", tag: tag, summary: "Create dashboard user",
			access: bearerOnly, body: &CreateUserRequest{}, resp: &UserResponse{}, example: example{body: obj{"username": "example_new", "password": "example-pass1", "role": "viewer", "description": "made by the example"}}, h: a.createUser},
		{method: http.MethodPost, path: "/login", tag: tag, summary: "Dashboard authentication",
			access: public, body: &LoginRequest{}, resp: &LoginResponse{}, errs: map[int][]string{401: {"BAD_USERNAME_OR_PWD", "LOGIN_LOCKED"}},
			example: example{body: obj{"username": "admin", "password": "public"}}, h: a.login},
		{method: http.MethodPut, path: "/users/{username}", tag: tag, summary: "Update dashboard user description",
			access: bearerOnly, query: &BackendQuery{}, body: &UpdateUserRequest{}, resp: &UserResponse{}, errs: userErrs,
			example: example{path: kv("username", exampleUser), query: kv("backend", "local"), body: obj{"description": "updated"}}, h: a.updateUser},
		{method: http.MethodDelete, path: "/users/{username}", tag: tag, summary: "Delete dashboard user",
			access: bearerOnly, query: &BackendQuery{}, status: http.StatusNoContent, errs: userErrs, example: example{path: kv("username", exampleUser)}, h: a.deleteUser},
		{method: http.MethodPost, path: "/users/{username}/change_pwd", tag: tag, summary: "Change dashboard user password",
			access: bearerOnly, viewerWrite: true, body: &ChangePasswordRequest{}, status: http.StatusNoContent, errs: map[int][]string{404: {"USER_NOT_FOUND"}, 400: {"ERROR_PWD_NOT_MATCH"}},
			example: example{path: kv("username", exampleUser), body: obj{"old_pwd": "example-pass1", "new_pwd": "example-pass2"}}, h: a.changePassword},
		{method: http.MethodGet, path: "/schemas/{name}", tag: tag, summary: "Get the schema JSON of the specified name",
			access: public, pathParams: &SchemaPath{}, resp: &SchemaResponse{}, errs: noNotFound, example: example{path: kv("name", "hotconf")}, h: a.schema},
		{method: http.MethodPost, path: "/logout", tag: tag, summary: "Dashboard user logout",
			access: bearerOnly, viewerWrite: true, query: &BackendQuery{}, body: &LogoutRequest{}, bodyOptional: true,
			status: http.StatusNoContent, errs: map[int][]string{401: {"BAD_USERNAME_OR_PWD"}}, example: example{body: obj{"username": "admin"}}, h: a.logout},
	}
}

func (a *API) login(w http.ResponseWriter, r *http.Request) error {
	var req LoginRequest
	if err := api.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	res, err := a.svc.Login(r.Context(), service.LoginInput{Username: req.Username, Password: req.Password,
		ClientIP: clientIP(r)})
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, LoginResponse{Token: res.Token, Role: res.Role,
		Version: res.Version, License: License{Edition: "opensource"}})
}

func (a *API) logout(w http.ResponseWriter, r *http.Request) error {
	var req LogoutRequest
	if r.ContentLength != 0 {
		if err := api.DecodeJSON(w, r, &req); err != nil {
			return err
		}
	}
	if err := a.svc.Logout(r.Context(), req.Username); err != nil {
		return err
	}
	return api.NoContent(w)
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	users, err := a.svc.Users(r.Context())
	if err != nil {
		return err
	}
	out := make([]UserResponse, len(users))
	for i, u := range users {
		out[i] = userResponse(u)
	}
	return api.WriteJSON(w, http.StatusOK, out)
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) error {
	var req CreateUserRequest
	if err := api.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	u, err := a.svc.CreateUser(r.Context(), service.NewUser{Username: string(req.Username), Password: string(req.Password),
		Role: req.Role, Description: req.Description})
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, userResponse(u))
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request) error {
	var req UpdateUserRequest
	if err := api.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	name, err := localUser(r)
	if err != nil {
		return err
	}
	u, err := a.svc.UpdateUser(r.Context(), name, service.UserUpdate{Role: req.Role, Description: req.Description})
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, userResponse(u))
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) error {
	name, err := localUser(r)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteUser(r.Context(), name); err != nil {
		return err
	}
	return api.NoContent(w)
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request) error {
	var req ChangePasswordRequest
	if err := api.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := a.svc.ChangePassword(r.Context(), pathParam(r, "username"), req.OldPwd, string(req.NewPwd)); err != nil {
		return err
	}
	return api.NoContent(w)
}

func (a *API) schema(w http.ResponseWriter, r *http.Request) error {
	doc, err := a.svc.Schema(r.Context(), pathParam(r, "name"))
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, doc)
}

func userResponse(u service.User) UserResponse {
	return UserResponse{Username: u.Username, Role: u.Role, Description: u.Description, Backend: u.Backend}
}

// localUser returns the username path parameter; a backend other than
// local names a user Herald cannot have (404 USER_NOT_FOUND).
func localUser(r *http.Request) (string, error) {
	name := pathParam(r, "username")
	if b := r.URL.Query().Get("backend"); b != "" && b != "local" {
		return "", api.Errorf(http.StatusNotFound, "USER_NOT_FOUND", "no %s user %q: Herald has only local users", b, name)
	}
	return name, nil
}

// clientIP is the caller's address for the login limiter: the TCP peer
// (X-Forwarded-For is not trusted).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
