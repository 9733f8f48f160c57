package client

import (
	"context"
	"net/http"
)

// LoginResult is POST /login's answer.
type LoginResult struct {
	Token   string            `json:"token"`
	Role    string            `json:"role"`
	Version string            `json:"version"`
	License map[string]string `json:"license"`
}

// Login authenticates a dashboard user and makes the client use the
// returned bearer token from now on.
func (c *Client) Login(ctx context.Context, username, password string) (LoginResult, error) {
	var out LoginResult
	body := map[string]string{"username": username, "password": password}
	if _, err := c.Do(ctx, http.MethodPost, "/login", nil, body, &out); err != nil {
		return out, err
	}
	c.setToken(out.Token)
	return out, nil
}
