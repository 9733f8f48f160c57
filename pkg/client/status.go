package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// Status is GET /status?format=json's answer.
type Status struct {
	NodeName     string `json:"node_name"`
	RelVsn       string `json:"rel_vsn"`
	BrokerStatus string `json:"broker_status"` // started | stopped
	AppStatus    string `json:"app_status"`    // running | not_running
}

// Status asks whether the node is running (GET /api/v5/status?format=json;
// no credentials needed). A node that is not running answers 503, returned
// as an *Error.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var out Status
	_, err := c.Do(ctx, http.MethodGet, "/status", url.Values{"format": {"json"}}, nil, &out)
	return out, err
}

// StatusText is the plain-text health check ("Node herald@127.0.0.1 is
// started\nherald is running"); unprefixed asks the bare /status alias.
func (c *Client) StatusText(ctx context.Context, unprefixed bool) (string, error) {
	path := "/status"
	if unprefixed {
		path = "//status"
	}
	resp, err := c.getText(ctx, path, nil, "text/plain")
	if err != nil {
		return "", err
	}
	return string(resp.Body), nil
}

// getText sends a GET with the given Accept header and returns the raw
// body; an *Error for a 4xx or 5xx.
func (c *Client) getText(ctx context.Context, path string, query url.Values, accept string) (*Response, error) {
	u := c.base + c.prefix + path
	if len(path) > 1 && path[:2] == "//" {
		u = c.base + path[1:]
	}
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("herald api: %w", err)
	}
	req.Header.Set("Accept", accept)
	if c.auth != nil {
		c.auth(req)
	}
	return c.roundTrip(req)
}
