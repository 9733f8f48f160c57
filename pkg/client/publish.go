package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
)

// PublishMessage is a message for Publish.
type PublishMessage struct {
	Topic           string             `json:"topic"`
	Payload         string             `json:"payload"`
	PayloadEncoding string             `json:"payload_encoding,omitempty"` // plain (default) | base64
	QoS             int                `json:"qos"`
	Retain          bool               `json:"retain,omitempty"`
	Properties      *MessageProperties `json:"properties,omitempty"`
}

// MessageProperties are a message's MQTT 5 properties.
type MessageProperties struct {
	PayloadFormatIndicator *int              `json:"payload_format_indicator,omitempty"`
	MessageExpiryInterval  *int64            `json:"message_expiry_interval,omitempty"`
	ResponseTopic          string            `json:"response_topic,omitempty"`
	CorrelationData        string            `json:"correlation_data,omitempty"`
	UserProperties         map[string]string `json:"user_properties,omitempty"`
	ContentType            string            `json:"content_type,omitempty"`
}

// PublishResult is the outcome of one message: ID when it reached a
// subscriber (status 200), otherwise ReasonCode and Message (16
// "no_matching_subscribers" with 202; 131 "failed_to_dispatch" with 503).
type PublishResult struct {
	ID         string `json:"id,omitempty"`
	ReasonCode int    `json:"reason_code,omitempty"`
	Message    string `json:"message,omitempty"`
}

// Publish publishes one message (POST /publish) and returns its result
// and the HTTP status (200 or 202; a 503 is returned as an *Error).
func (c *Client) Publish(ctx context.Context, m PublishMessage) (PublishResult, int, error) {
	var out PublishResult
	resp, err := c.Do(ctx, http.MethodPost, "/publish", nil, m, &out)
	if err != nil {
		return out, statusOf(resp, err), err
	}
	return out, resp.Status, nil
}

// PublishBulk publishes messages in order (POST /publish/bulk) and returns
// one result each and the HTTP status (200 all delivered, 202 some matched
// no subscriber).
func (c *Client) PublishBulk(ctx context.Context, ms []PublishMessage) ([]PublishResult, int, error) {
	var out []PublishResult
	resp, err := c.Do(ctx, http.MethodPost, "/publish/bulk", nil, ms, &out)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			_ = json.Unmarshal([]byte(e.Message), &out) // a 503 carries the results
		}
		return out, statusOf(resp, err), err
	}
	return out, resp.Status, nil
}

func statusOf(r *Response, err error) int {
	var e *Error
	switch {
	case r != nil:
		return r.Status
	case errors.As(err, &e):
		return e.Status
	}
	return 0
}
