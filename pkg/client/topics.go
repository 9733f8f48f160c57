package client

import (
	"context"
	"net/http"
	"net/url"
)

// TopicInfo is one route: a topic filter subscribed on a node.
type TopicInfo struct {
	Topic string `json:"topic"`
	Node  string `json:"node"`
}

// TopicsQuery filters ListTopics; zero values are left out.
type TopicsQuery struct {
	Page, Limit int
	Topic, Node string
}

// ListTopics returns one page of routes (GET /topics).
func (c *Client) ListTopics(ctx context.Context, q TopicsQuery) (Page[TopicInfo], error) {
	v := url.Values{}
	setInt(v, "page", q.Page)
	setInt(v, "limit", q.Limit)
	setStr(v, "topic", q.Topic)
	setStr(v, "node", q.Node)
	var out Page[TopicInfo]
	_, err := c.Do(ctx, http.MethodGet, "/topics", v, nil, &out)
	return out, err
}

// GetTopic returns the routes of one topic filter (GET /topics/{topic}).
func (c *Client) GetTopic(ctx context.Context, topic string) ([]TopicInfo, error) {
	var out []TopicInfo
	_, err := c.Do(ctx, http.MethodGet, "/topics/"+escape(topic), nil, nil, &out)
	return out, err
}
