// Package client is the Go client of Herald's management API (/api/v5,
// EMQX 5 compatible). It imports nothing of Herald's internals: its types
// mirror the API's JSON. herald ctl and the tests speak through it.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client calls one Herald node's API.
type Client struct {
	base   string // "http://127.0.0.1:18083"
	http   *http.Client
	auth   func(*http.Request)
	prefix string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default http.DefaultClient).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithAPIKey authenticates with an API key and secret (HTTP Basic).
func WithAPIKey(key, secret string) Option {
	return func(c *Client) { c.auth = func(r *http.Request) { r.SetBasicAuth(key, secret) } }
}

// WithToken authenticates with a bearer token from Login.
func WithToken(token string) Option {
	return func(c *Client) { c.setToken(token) }
}

// New returns a client for the node at base ("http://127.0.0.1:18083").
func New(base string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(base, "/"), http: http.DefaultClient, prefix: "/api/v5"}
	for _, o := range opts {
		o(c)
	}
	return c
}

func (c *Client) setToken(token string) {
	c.auth = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

// Error is an error response of the API.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("herald api: %d %s: %s", e.Status, e.Code, e.Message)
}

// Meta is the paging part of a list response.
type Meta struct {
	Page    int  `json:"page"`
	Limit   int  `json:"limit"`
	Count   *int `json:"count,omitempty"` // nil when a fuzzy filter was used
	HasNext bool `json:"hasnext"`
}

// Page is one page of a list.
type Page[T any] struct {
	Data []T  `json:"data"`
	Meta Meta `json:"meta"`
}

// Response is a raw response, for callers that need the status of a
// success (publish: 200 or 202).
type Response struct {
	Status int
	Body   []byte
}

// Do sends a request to path (under /api/v5; a path starting with "//" is
// taken from the root) with query and a JSON body (nil for none), decodes a
// 2xx JSON body into out (nil to ignore) and returns an *Error for a 4xx or
// 5xx.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body, out any) (*Response, error) {
	resp, err := c.send(ctx, method, path, query, body)
	if err != nil {
		return resp, err // resp holds the error body of a 4xx/5xx (nil on a transport error)
	}
	if out != nil && len(resp.Body) > 0 {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return resp, fmt.Errorf("herald api: decode %s %s: %w", method, path, err)
		}
	}
	return resp, nil
}

func (c *Client) send(ctx context.Context, method, path string, query url.Values, body any) (*Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("herald api: encode body: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	u := c.base + c.prefix + path
	if strings.HasPrefix(path, "//") {
		u = c.base + path[1:]
	}
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("herald api: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.auth != nil {
		c.auth(req)
	}
	return c.roundTrip(req)
}

func (c *Client) roundTrip(req *http.Request) (*Response, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("herald api: %s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("herald api: read response: %w", err)
	}
	if resp.StatusCode >= 400 {
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(b, e) != nil || e.Code == "" {
			e.Message = strings.TrimSpace(string(b))
		}
		return &Response{Status: resp.StatusCode, Body: b}, e
	}
	return &Response{Status: resp.StatusCode, Body: b}, nil
}

// escape escapes one path segment (a client id, a topic).
func escape(s string) string { return url.PathEscape(s) }

var _ = escape
