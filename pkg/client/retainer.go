package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// RetainedMessage is a retained message; Payload (base64) is set by
// RetainedMessage lookups only.
type RetainedMessage struct {
	MsgID        string `json:"msgid"`
	Topic        string `json:"topic"`
	QoS          int    `json:"qos"`
	PublishAt    string `json:"publish_at"`
	FromClientID string `json:"from_clientid"`
	FromUsername string `json:"from_username"`
	Payload      string `json:"payload,omitempty"`
}

// RetainerConfig is the retainer configuration.
type RetainerConfig struct {
	Enable              bool            `json:"enable"`
	MsgExpiryInterval   string          `json:"msg_expiry_interval"`
	MsgClearInterval    string          `json:"msg_clear_interval"`
	MaxPayloadSize      string          `json:"max_payload_size"`
	StopPublishClearMsg bool            `json:"stop_publish_clear_msg"`
	DeliveryRate        string          `json:"delivery_rate"`
	Backend             RetainerBackend `json:"backend"`
}

// RetainerBackend is the retainer's storage.
type RetainerBackend struct {
	Type                string  `json:"type"`
	StorageType         string  `json:"storage_type"`
	MaxRetainedMessages int     `json:"max_retained_messages"`
	IndexSpecs          [][]int `json:"index_specs,omitempty"`
}

// PageQuery adds page and limit (when non-zero) to q.
func pageQuery(q url.Values, page, limit int) url.Values {
	if q == nil {
		q = url.Values{}
	}
	if page > 0 {
		q.Set("page", strconv.Itoa(page))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return q
}

// RetainedMessages lists retained messages matching a topic filter ("" =
// all), one page (0 = the default page or limit).
func (c *Client) RetainedMessages(ctx context.Context, topic string, page, limit int) (Page[RetainedMessage], error) {
	var out Page[RetainedMessage]
	q := url.Values{}
	if topic != "" {
		q.Set("topic", topic)
	}
	_, err := c.Do(ctx, http.MethodGet, "/mqtt/retainer/messages", pageQuery(q, page, limit), nil, &out)
	return out, err
}

// RetainedMessage looks up the retained message of a topic name.
func (c *Client) RetainedMessage(ctx context.Context, topic string) (RetainedMessage, error) {
	var out RetainedMessage
	_, err := c.Do(ctx, http.MethodGet, "/mqtt/retainer/message/"+escape(topic), nil, nil, &out)
	return out, err
}

// DeleteRetainedMessage deletes the retained message of a topic (or those
// matching a filter).
func (c *Client) DeleteRetainedMessage(ctx context.Context, topic string) error {
	_, err := c.Do(ctx, http.MethodDelete, "/mqtt/retainer/message/"+escape(topic), nil, nil, nil)
	return err
}

// DeleteAllRetainedMessages deletes every retained message.
func (c *Client) DeleteAllRetainedMessages(ctx context.Context) error {
	_, err := c.Do(ctx, http.MethodDelete, "/mqtt/retainer/messages", nil, nil, nil)
	return err
}

// RetainerConfig returns the retainer configuration.
func (c *Client) RetainerConfig(ctx context.Context) (RetainerConfig, error) {
	var out RetainerConfig
	_, err := c.Do(ctx, http.MethodGet, "/mqtt/retainer", nil, nil, &out)
	return out, err
}

// UpdateRetainerConfig changes the retainer configuration. body is a
// RetainerConfig or a map holding only the fields to change.
func (c *Client) UpdateRetainerConfig(ctx context.Context, body any) (RetainerConfig, error) {
	var out RetainerConfig
	_, err := c.Do(ctx, http.MethodPut, "/mqtt/retainer", nil, body, &out)
	return out, err
}
