package client

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// ConfigRoot returns a configuration root ("global_zone", "sysmon",
// "alarm", "log", "sys_topics", "dashboard", "broker", "file_transfer").
func (c *Client) ConfigRoot(ctx context.Context, name string) (map[string]any, error) {
	var out map[string]any
	_, err := c.Do(ctx, http.MethodGet, "/configs/"+escape(name), nil, nil, &out)
	return out, err
}

// UpdateConfigRoot changes the keys given in body and returns the root as
// it now is.
func (c *Client) UpdateConfigRoot(ctx context.Context, name string, body map[string]any) (map[string]any, error) {
	var out map[string]any
	_, err := c.Do(ctx, http.MethodPut, "/configs/"+escape(name), nil, body, &out)
	return out, err
}

// ResetConfigRoot puts a root (or the part at confPath inside it, when not
// "") back to its defaults.
func (c *Client) ResetConfigRoot(ctx context.Context, name, confPath string) error {
	var q url.Values
	if confPath != "" {
		q = url.Values{"conf_path": {confPath}}
	}
	_, err := c.Do(ctx, http.MethodPost, "/configs_reset/"+escape(name), q, nil, nil)
	return err
}

// Configs returns every configuration root keyed by name, or only key's
// when it is not "".
func (c *Client) Configs(ctx context.Context, key string) (map[string]any, error) {
	var out map[string]any
	_, err := c.Do(ctx, http.MethodGet, "/configs", keyQuery(key), nil, &out)
	return out, err
}

// ConfigsHOCON is Configs as HOCON text (Accept: text/plain).
func (c *Client) ConfigsHOCON(ctx context.Context, key string) (string, error) {
	res, err := c.text(ctx, http.MethodGet, "/configs", keyQuery(key), "")
	if err != nil {
		return "", err
	}
	return string(res.Body), nil
}

// UpdateConfigsHOCON applies a HOCON document of roots (PUT /configs);
// mode is "merge" (default when "") or "replace".
func (c *Client) UpdateConfigsHOCON(ctx context.Context, hocon, mode string) error {
	var q url.Values
	if mode != "" {
		q = url.Values{"mode": {mode}}
	}
	_, err := c.text(ctx, http.MethodPut, "/configs", q, hocon)
	return err
}

func keyQuery(key string) url.Values {
	if key == "" {
		return nil
	}
	return url.Values{"key": {key}}
}

// text sends a text/plain request (body "" for none) accepting text/plain.
func (c *Client) text(ctx context.Context, method, path string, query url.Values, body string) (*Response, error) {
	u := c.base + c.prefix + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "text/plain")
	}
	req.Header.Set("Accept", "text/plain")
	if c.auth != nil {
		c.auth(req)
	}
	return c.roundTrip(req)
}
