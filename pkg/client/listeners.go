package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// ListenerStatus is a listener's live state.
type ListenerStatus struct {
	Running            any `json:"running"`         // true, false or "inconsistent"
	MaxConnections     any `json:"max_connections"` // number or "infinity"
	CurrentConnections int `json:"current_connections"`
}

// ListenerNodeStatus is a listener's state on one node.
type ListenerNodeStatus struct {
	Node   string         `json:"node"`
	Status ListenerStatus `json:"status"`
}

// ListenerIDStatus is one item of GET /listeners.
type ListenerIDStatus struct {
	ID         string               `json:"id"`
	Type       string               `json:"type"`
	Name       string               `json:"name"`
	Enable     bool                 `json:"enable"`
	Number     int                  `json:"number"`
	Bind       string               `json:"bind"`
	Acceptors  int                  `json:"acceptors"`
	Status     ListenerStatus       `json:"status"`
	NodeStatus []ListenerNodeStatus `json:"node_status"`
}

// ListenerTypeStatus is one item of GET /listeners_status.
type ListenerTypeStatus struct {
	Type       string               `json:"type"`
	Enable     bool                 `json:"enable"`
	IDs        []string             `json:"ids"`
	Status     ListenerStatus       `json:"status"`
	NodeStatus []ListenerNodeStatus `json:"node_status"`
}

// ListenerSSLOptions is a TLS listener's ssl_options.
type ListenerSSLOptions struct {
	CertFile         *string `json:"certfile,omitempty"`
	KeyFile          *string `json:"keyfile,omitempty"`
	CACertFile       *string `json:"cacertfile,omitempty"`
	Verify           *string `json:"verify,omitempty"`
	FailIfNoPeerCert *bool   `json:"fail_if_no_peer_cert,omitempty"`
}

// ListenerWebSocket is a WebSocket listener's websocket options.
type ListenerWebSocket struct {
	MQTTPath *string `json:"mqtt_path,omitempty"`
}

// Listener is a listener's configuration and state. To create one, set
// Type, Name and Bind; to update, set only the fields to change. Bind and
// MaxConnections take a string or a number ("0.0.0.0:1883" or 1883;
// "infinity" or 1000).
type Listener struct {
	ID                   string              `json:"id,omitempty"`
	Type                 string              `json:"type,omitempty"`
	Name                 string              `json:"name,omitempty"`
	Running              *bool               `json:"running,omitempty"`
	CurrentConnections   *int                `json:"current_connections,omitempty"`
	Enable               *bool               `json:"enable,omitempty"`
	Bind                 any                 `json:"bind,omitempty"`
	Acceptors            *int                `json:"acceptors,omitempty"`
	MaxConnections       any                 `json:"max_connections,omitempty"`
	MaxConnRate          *string             `json:"max_conn_rate,omitempty"`
	Mountpoint           *string             `json:"mountpoint,omitempty"`
	ProxyProtocol        *bool               `json:"proxy_protocol,omitempty"`
	ProxyProtocolTimeout *string             `json:"proxy_protocol_timeout,omitempty"`
	EnableAuthn          json.RawMessage     `json:"enable_authn,omitempty"`
	Zone                 *string             `json:"zone,omitempty"`
	SSLOptions           *ListenerSSLOptions `json:"ssl_options,omitempty"`
	WebSocket            *ListenerWebSocket  `json:"websocket,omitempty"`
}

// Listeners lists the listeners, of one type when typ is not "".
func (c *Client) Listeners(ctx context.Context, typ string) ([]ListenerIDStatus, error) {
	var q url.Values
	if typ != "" {
		q = url.Values{"type": {typ}}
	}
	var out []ListenerIDStatus
	_, err := c.Do(ctx, http.MethodGet, "/listeners", q, nil, &out)
	return out, err
}

// ListenersStatus returns the listeners' live state grouped by type.
func (c *Client) ListenersStatus(ctx context.Context) ([]ListenerTypeStatus, error) {
	var out []ListenerTypeStatus
	_, err := c.Do(ctx, http.MethodGet, "/listeners_status", nil, nil, &out)
	return out, err
}

// Listener returns one listener ("tcp:default").
func (c *Client) Listener(ctx context.Context, id string) (Listener, error) {
	var out Listener
	_, err := c.Do(ctx, http.MethodGet, "/listeners/"+escape(id), nil, nil, &out)
	return out, err
}

// CreateListener creates (and starts, when enabled) a listener.
func (c *Client) CreateListener(ctx context.Context, l Listener) (Listener, error) {
	var out Listener
	_, err := c.Do(ctx, http.MethodPost, "/listeners", nil, l, &out)
	return out, err
}

// UpdateListener changes a listener's fields (restarting it).
func (c *Client) UpdateListener(ctx context.Context, id string, l Listener) (Listener, error) {
	var out Listener
	_, err := c.Do(ctx, http.MethodPut, "/listeners/"+escape(id), nil, l, &out)
	return out, err
}

// DeleteListener stops and removes a listener.
func (c *Client) DeleteListener(ctx context.Context, id string) error {
	_, err := c.Do(ctx, http.MethodDelete, "/listeners/"+escape(id), nil, nil, nil)
	return err
}

// StartListener starts a listener.
func (c *Client) StartListener(ctx context.Context, id string) error {
	return c.listenerAction(ctx, id, "start")
}

// StopListener stops a listener: it stops accepting; connections stay.
func (c *Client) StopListener(ctx context.Context, id string) error {
	return c.listenerAction(ctx, id, "stop")
}

// RestartListener restarts a listener.
func (c *Client) RestartListener(ctx context.Context, id string) error {
	return c.listenerAction(ctx, id, "restart")
}

func (c *Client) listenerAction(ctx context.Context, id, action string) error {
	_, err := c.Do(ctx, http.MethodPost, "/listeners/"+escape(id)+"/"+action, nil, nil, nil)
	return err
}
