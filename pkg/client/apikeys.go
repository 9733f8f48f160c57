package client

import (
	"context"
	"net/http"
)

// APIKey is an API key. APISecret is set only in CreateAPIKey's answer.
type APIKey struct {
	Name      string `json:"name"`
	APIKey    string `json:"api_key"`
	APISecret string `json:"api_secret,omitempty"`
	ExpiredAt string `json:"expired_at"` // RFC 3339 or "infinity"
	CreatedAt string `json:"created_at"`
	Desc      string `json:"desc"`
	Enable    bool   `json:"enable"`
	Expired   bool   `json:"expired"`
	Role      string `json:"role"` // administrator | viewer | publisher
}

// APIKeyRequest creates (Name set) or changes an API key. ExpiredAt is
// RFC 3339, epoch seconds or "infinity" ("" = unchanged, or infinity on
// create); nil fields are left unchanged (on create: enabled,
// administrator).
type APIKeyRequest struct {
	Name      string  `json:"name,omitempty"`
	ExpiredAt any     `json:"expired_at,omitempty"`
	Desc      *string `json:"desc,omitempty"`
	Enable    *bool   `json:"enable,omitempty"`
	Role      *string `json:"role,omitempty"`
}

// APIKeys lists the API keys (GET /api_key). Bearer token only.
func (c *Client) APIKeys(ctx context.Context) ([]APIKey, error) {
	var out []APIKey
	_, err := c.Do(ctx, http.MethodGet, "/api_key", nil, nil, &out)
	return out, err
}

// APIKey returns one API key (GET /api_key/{name}).
func (c *Client) APIKey(ctx context.Context, name string) (APIKey, error) {
	var out APIKey
	_, err := c.Do(ctx, http.MethodGet, "/api_key/"+escape(name), nil, nil, &out)
	return out, err
}

// CreateAPIKey makes an API key (POST /api_key); the answer holds the
// secret, shown only this once.
func (c *Client) CreateAPIKey(ctx context.Context, req APIKeyRequest) (APIKey, error) {
	var out APIKey
	_, err := c.Do(ctx, http.MethodPost, "/api_key", nil, req, &out)
	return out, err
}

// UpdateAPIKey changes an API key (PUT /api_key/{name}); req.Name is
// ignored.
func (c *Client) UpdateAPIKey(ctx context.Context, name string, req APIKeyRequest) (APIKey, error) {
	req.Name = ""
	var out APIKey
	_, err := c.Do(ctx, http.MethodPut, "/api_key/"+escape(name), nil, req, &out)
	return out, err
}

// DeleteAPIKey removes an API key (DELETE /api_key/{name}).
func (c *Client) DeleteAPIKey(ctx context.Context, name string) error {
	_, err := c.Do(ctx, http.MethodDelete, "/api_key/"+escape(name), nil, nil, nil)
	return err
}
