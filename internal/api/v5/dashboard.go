package v5

import (
	"net/http"

	"github.com/herald-mqtt/herald/internal/api"
	"github.com/herald-mqtt/herald/internal/service"
)

// LoginRequest is POST /login's body.
type LoginRequest struct {
	Username string `json:"username" maxLength:"100"`
	Password string `json:"password" maxLength:"100"`
}

// LoginResponse is POST /login's answer.
type LoginResponse struct {
	Token   string            `json:"token"`
	Role    string            `json:"role"`
	Version string            `json:"version"`
	License map[string]string `json:"license"`
}

func (a *API) dashboardRoutes() []route {
	return []route{
		{method: http.MethodPost, path: "/login", tag: "Dashboard", summary: "Dashboard authentication",
			access: public, body: &LoginRequest{}, resp: &LoginResponse{}, h: a.login},
	}
}

func (a *API) login(w http.ResponseWriter, r *http.Request) error {
	var req LoginRequest
	if err := api.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	res, err := a.svc.Login(r.Context(), req.Username, req.Password)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, LoginResponse{Token: res.Token, Role: res.Role,
		Version: res.Version, License: map[string]string{"edition": "opensource"}})
}

var _ = service.RoleAdministrator
