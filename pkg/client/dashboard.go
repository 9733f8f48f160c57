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

// User is a dashboard user.
type User struct {
	Username    string `json:"username"`
	Role        string `json:"role"` // administrator | viewer
	Description string `json:"description"`
	Backend     string `json:"backend"`
}

// NewUser is CreateUser's request.
type NewUser struct {
	Username    string `json:"username"`
	Password    string `json:"password"`
	Role        string `json:"role,omitempty"` // "" = administrator
	Description string `json:"description,omitempty"`
}

// UserUpdate is UpdateUser's request; nil fields are left unchanged.
type UserUpdate struct {
	Role        *string `json:"role,omitempty"`
	Description *string `json:"description,omitempty"`
}

// Logout ends the client's bearer token (POST /logout). username may be
// "" (Herald then takes the token's owner).
func (c *Client) Logout(ctx context.Context, username string) error {
	var body any
	if username != "" {
		body = map[string]string{"username": username}
	}
	_, err := c.Do(ctx, http.MethodPost, "/logout", nil, body, nil)
	return err
}

// Users lists the dashboard users (GET /users).
func (c *Client) Users(ctx context.Context) ([]User, error) {
	var out []User
	_, err := c.Do(ctx, http.MethodGet, "/users", nil, nil, &out)
	return out, err
}

// CreateUser adds a dashboard user (POST /users).
func (c *Client) CreateUser(ctx context.Context, u NewUser) (User, error) {
	var out User
	_, err := c.Do(ctx, http.MethodPost, "/users", nil, u, &out)
	return out, err
}

// UpdateUser changes a user's role or description (PUT /users/{username}).
func (c *Client) UpdateUser(ctx context.Context, username string, u UserUpdate) (User, error) {
	var out User
	_, err := c.Do(ctx, http.MethodPut, "/users/"+escape(username), nil, u, &out)
	return out, err
}

// DeleteUser removes a dashboard user (DELETE /users/{username}).
func (c *Client) DeleteUser(ctx context.Context, username string) error {
	_, err := c.Do(ctx, http.MethodDelete, "/users/"+escape(username), nil, nil, nil)
	return err
}

// ChangePassword sets a user's password (POST /users/{username}/change_pwd).
// It ends the user's tokens, this client's too when it is that user's.
func (c *Client) ChangePassword(ctx context.Context, username, oldPwd, newPwd string) error {
	body := map[string]string{"old_pwd": oldPwd, "new_pwd": newPwd}
	_, err := c.Do(ctx, http.MethodPost, "/users/"+escape(username)+"/change_pwd", nil, body, nil)
	return err
}

// Schema returns the JSON schema document of name (GET /schemas/{name}):
// hotconf, bridges, actions or connectors.
func (c *Client) Schema(ctx context.Context, name string) (map[string]any, error) {
	var out map[string]any
	_, err := c.Do(ctx, http.MethodGet, "/schemas/"+escape(name), nil, nil, &out)
	return out, err
}
