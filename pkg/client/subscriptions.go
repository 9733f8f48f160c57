package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// Subscription is one subscription of one client.
type Subscription struct {
	Node     string `json:"node"`
	Topic    string `json:"topic"`
	ClientID string `json:"clientid"`
	QoS      int    `json:"qos"`
	NL       int    `json:"nl"`
	RAP      int    `json:"rap"`
	RH       int    `json:"rh"`
}

// SubscribeRequest is one subscription to make for a client.
type SubscribeRequest struct {
	Topic string `json:"topic"`
	QoS   int    `json:"qos"`
	NL    int    `json:"nl"`
	RAP   int    `json:"rap"`
	RH    int    `json:"rh"`
}

// SubscriptionsQuery filters ListSubscriptions; zero values are left out
// (QoS: nil).
type SubscriptionsQuery struct {
	Page, Limit int
	Node        string
	ClientID    string
	QoS         *int
	Topic       string
	MatchTopic  string
	ShareGroup  string
}

// Values encodes q as query parameters.
func (q SubscriptionsQuery) Values() url.Values {
	v := url.Values{}
	setInt(v, "page", q.Page)
	setInt(v, "limit", q.Limit)
	setStr(v, "node", q.Node)
	setStr(v, "clientid", q.ClientID)
	if q.QoS != nil {
		v.Set("qos", strconv.Itoa(*q.QoS))
	}
	setStr(v, "topic", q.Topic)
	setStr(v, "match_topic", q.MatchTopic)
	setStr(v, "share_group", q.ShareGroup)
	return v
}

// ListSubscriptions returns one page of subscriptions (GET /subscriptions).
func (c *Client) ListSubscriptions(ctx context.Context, q SubscriptionsQuery) (Page[Subscription], error) {
	var out Page[Subscription]
	_, err := c.Do(ctx, http.MethodGet, "/subscriptions", q.Values(), nil, &out)
	return out, err
}

// ClientSubscriptions returns a client's subscriptions (GET
// /clients/{clientid}/subscriptions).
func (c *Client) ClientSubscriptions(ctx context.Context, clientID string) ([]Subscription, error) {
	var out []Subscription
	_, err := c.Do(ctx, http.MethodGet, "/clients/"+escape(clientID)+"/subscriptions", nil, nil, &out)
	return out, err
}

// Subscribe subscribes a client (POST /clients/{clientid}/subscribe).
func (c *Client) Subscribe(ctx context.Context, clientID string, req SubscribeRequest) (Subscription, error) {
	var out Subscription
	_, err := c.Do(ctx, http.MethodPost, "/clients/"+escape(clientID)+"/subscribe", nil, req, &out)
	return out, err
}

// SubscribeBulk makes several subscriptions for a client.
func (c *Client) SubscribeBulk(ctx context.Context, clientID string, reqs []SubscribeRequest) ([]Subscription, error) {
	var out []Subscription
	_, err := c.Do(ctx, http.MethodPost, "/clients/"+escape(clientID)+"/subscribe/bulk", nil, reqs, &out)
	return out, err
}

// Unsubscribe removes a client's subscription.
func (c *Client) Unsubscribe(ctx context.Context, clientID, topic string) error {
	_, err := c.Do(ctx, http.MethodPost, "/clients/"+escape(clientID)+"/unsubscribe", nil, map[string]string{"topic": topic}, nil)
	return err
}

// UnsubscribeBulk removes several subscriptions of a client.
func (c *Client) UnsubscribeBulk(ctx context.Context, clientID string, topics []string) error {
	body := make([]map[string]string, len(topics))
	for i, t := range topics {
		body[i] = map[string]string{"topic": t}
	}
	_, err := c.Do(ctx, http.MethodPost, "/clients/"+escape(clientID)+"/unsubscribe/bulk", nil, body, nil)
	return err
}
