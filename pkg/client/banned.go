package client

import (
	"context"
	"net/http"
)

// Ban is one entry of the ban list. As is clientid, username, peerhost,
// clientid_re, username_re or peerhost_net.
type Ban struct {
	As     string `json:"as"`
	Who    string `json:"who"`
	By     string `json:"by,omitempty"`
	Reason string `json:"reason,omitempty"`
	// At and Until are RFC 3339 times ("" in a request: the defaults,
	// now and a year from at).
	At    string `json:"at,omitempty"`
	Until string `json:"until,omitempty"`
}

// Banned lists the bans, one page (0 = the default page or limit).
func (c *Client) Banned(ctx context.Context, page, limit int) (Page[Ban], error) {
	var out Page[Ban]
	_, err := c.Do(ctx, http.MethodGet, "/banned", pageQuery(nil, page, limit), nil, &out)
	return out, err
}

// Ban adds a ban and returns it as stored. A connected client it catches
// is kicked at once. An existing ban gives an *Error with code
// ALREADY_EXISTS whose message is the existing ban as JSON.
func (c *Client) Ban(ctx context.Context, b Ban) (Ban, error) {
	var out Ban
	_, err := c.Do(ctx, http.MethodPost, "/banned", nil, b, &out)
	return out, err
}

// Unban removes the ban of as and who.
func (c *Client) Unban(ctx context.Context, as, who string) error {
	_, err := c.Do(ctx, http.MethodDelete, "/banned/"+escape(as)+"/"+escape(who), nil, nil, nil)
	return err
}

// ClearBanned removes every ban.
func (c *Client) ClearBanned(ctx context.Context) error {
	_, err := c.Do(ctx, http.MethodDelete, "/banned", nil, nil, nil)
	return err
}
