package v5

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/herald-mqtt/herald/internal/api"
	"github.com/herald-mqtt/herald/internal/service"
)

// APIKeyResponse is an API key without its secret.
type APIKeyResponse struct {
	Name      string  `json:"name"`
	APIKey    string  `json:"api_key"`
	ExpiredAt string  `json:"expired_at" description:"RFC 3339, or infinity"`
	CreatedAt *string `json:"created_at"`
	Desc      string  `json:"desc"`
	Enable    bool    `json:"enable"`
	Expired   bool    `json:"expired"`
	Role      string  `json:"role" enum:"administrator,viewer,publisher"`
}

// APIKeyCreatedResponse is POST /api_key's answer: the only time the
// secret is shown.
type APIKeyCreatedResponse struct {
	APIKeyResponse
	APISecret string `json:"api_secret"`
}

// APIKeyUpdateRequest is PUT /api_key/{name}'s body; an absent field is
// left unchanged.
type APIKeyUpdateRequest struct {
	// ExpiredAt is RFC 3339, epoch seconds (a number or a string of
	// digits), or "infinity".
	ExpiredAt ExpiredAt `json:"expired_at,omitempty"`
	Desc      *string   `json:"desc"`
	Enable    *bool     `json:"enable"`
	Expired   *bool     `json:"expired,omitempty" description:"ignored (read-only)"`
	Role      *string   `json:"role" default:"administrator" enum:"administrator,viewer,publisher"`
}

// APIKeyRequest is POST /api_key's body.
type APIKeyRequest struct {
	Name APIKeyName `json:"name" required:"true"`
	APIKeyUpdateRequest
}

func (a *API) apiKeyRoutes() []route {
	const tag = "API Keys"
	return []route{
		{method: http.MethodGet, path: "/api_key", tag: tag, summary: "Return api_key list",
			access: bearerOnly, resp: &[]APIKeyResponse{}, h: a.listAPIKeys},
		{method: http.MethodPost, path: "/api_key", tag: tag, summary: "Create new api_key",
			access: bearerOnly, body: &APIKeyRequest{}, resp: &APIKeyCreatedResponse{}, example: example{body: obj{"name": "example-new", "desc": "made by the example", "role": "viewer", "expired_at": 4102444800}}, h: a.createAPIKey},
		{method: http.MethodGet, path: "/api_key/{name}", tag: tag, summary: "Return the specific api_key",
			access: bearerOnly, resp: &APIKeyResponse{}, example: example{path: kv("name", exampleKey)}, h: a.getAPIKey},
		{method: http.MethodPut, path: "/api_key/{name}", tag: tag, summary: "Update the specific api_key",
			access: bearerOnly, body: &APIKeyUpdateRequest{}, resp: &APIKeyResponse{}, example: example{path: kv("name", exampleKey), body: obj{"desc": "updated", "expired_at": "infinity", "enable": true}}, h: a.updateAPIKey},
		{method: http.MethodDelete, path: "/api_key/{name}", tag: tag, summary: "Delete the specific api_key",
			access: bearerOnly, status: http.StatusNoContent, example: example{path: kv("name", exampleKey)}, h: a.deleteAPIKey},
	}
}

func (a *API) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := a.svc.APIKeys(r.Context())
	if err != nil {
		return err
	}
	out := make([]APIKeyResponse, len(keys))
	for i, k := range keys {
		out[i] = apiKeyResponse(k)
	}
	return api.WriteJSON(w, http.StatusOK, out)
}

func (a *API) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	var req APIKeyRequest
	if err := api.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	in, err := apiKeyInput(req.APIKeyUpdateRequest)
	if err != nil {
		return err
	}
	in.Name = string(req.Name)
	k, err := a.svc.CreateAPIKey(r.Context(), in)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, APIKeyCreatedResponse{APIKeyResponse: apiKeyResponse(k), APISecret: k.Secret})
}

func (a *API) getAPIKey(w http.ResponseWriter, r *http.Request) error {
	k, err := a.svc.APIKey(r.Context(), pathParam(r, "name"))
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, apiKeyResponse(k))
}

func (a *API) updateAPIKey(w http.ResponseWriter, r *http.Request) error {
	var req APIKeyUpdateRequest
	if err := api.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	in, err := apiKeyInput(req)
	if err != nil {
		return err
	}
	k, err := a.svc.UpdateAPIKey(r.Context(), pathParam(r, "name"), in)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, apiKeyResponse(k))
}

func (a *API) deleteAPIKey(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DeleteAPIKey(r.Context(), pathParam(r, "name")); err != nil {
		return err
	}
	return api.NoContent(w)
}

func apiKeyInput(req APIKeyUpdateRequest) (service.APIKeyInput, error) {
	in := service.APIKeyInput{Desc: req.Desc, Enable: req.Enable, Role: req.Role}
	t, err := parseExpiredAt(req.ExpiredAt)
	if err != nil {
		return in, err
	}
	in.ExpiredAt = t
	return in, nil
}

// parseExpiredAt reads expired_at: absent or null -> nil; "infinity" -> the
// zero time; RFC 3339 or epoch seconds (number or digits) -> that time.
func parseExpiredAt(raw ExpiredAt) (*time.Time, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			return nil, api.BadRequest("expired_at: want RFC 3339, epoch seconds or \"infinity\"")
		}
		s = n.String()
	}
	if s == "infinity" {
		return &time.Time{}, nil
	}
	t, err := api.ParseTime(s, time.Second)
	if err != nil {
		return nil, api.BadRequest("expired_at: %v", err)
	}
	return &t, nil
}

func apiKeyResponse(k service.APIKey) APIKeyResponse {
	exp := "infinity"
	if p := api.FormatTime(k.ExpiredAt); p != nil {
		exp = *p
	}
	return APIKeyResponse{Name: k.Name, APIKey: k.Key, ExpiredAt: exp, CreatedAt: api.FormatTime(k.CreatedAt),
		Desc: k.Desc, Enable: k.Enable, Expired: k.Expired, Role: k.Role}
}
