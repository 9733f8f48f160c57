package service

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/mqtt/topic"
)

// Route is one topic filter routed to one node: EMQX's route table entry.
// A filter with several subscribers (shared or not) on a node is one route.
type Route struct {
	Topic string // the real filter, without $share/<group>/
	Node  string
}

// TopicQuery is GET /topics. Zero values mean "any".
type TopicQuery struct {
	PageQuery
	Node  string
	Topic string // exact filter
}

// ListTopics returns one page of the routes of every node in scope, sorted
// by (topic, node).
func (s *Service) ListTopics(ctx context.Context, q TopicQuery) (Page[Route], error) {
	if !q.Valid() {
		return Page[Route]{}, Errorf(ErrBadRequest, "INVALID_PARAMETER", "page_limit_invalid")
	}
	nodes, err := s.nodesIn(q.Node)
	if err != nil {
		return Page[Route]{}, err
	}
	all := s.routes(nodes, q.Topic)
	return paginate(all, q.PageQuery, true), nil
}

// GetTopic returns the routes of one topic filter on every node, or
// ErrNotFound (TOPIC_NOT_FOUND) when no node routes it.
func (s *Service) GetTopic(ctx context.Context, filter string) ([]Route, error) {
	rs := s.routes(s.nodes, filter)
	if len(rs) == 0 {
		return nil, Errorf(ErrNotFound, "TOPIC_NOT_FOUND", "Topic not found")
	}
	return rs, nil
}

// routes collects the distinct (filter, node) pairs of the subscriptions
// of nodes, only filter's when it is not "".
func (s *Service) routes(nodes []*node, filter string) []Route {
	seen := map[Route]struct{}{}
	for _, n := range nodes {
		n.b.Subscriptions(func(sub *broker.SubscriptionSnapshot) bool {
			real := sub.Filter
			if _, r, shared, err := topic.ParseShare(sub.Filter); err == nil && shared {
				real = r
			}
			if filter == "" || real == filter {
				seen[Route{Topic: real, Node: n.name}] = struct{}{}
			}
			return true
		})
	}
	all := make([]Route, 0, len(seen))
	for r := range seen {
		all = append(all, r)
	}
	slices.SortFunc(all, func(a, b Route) int {
		return cmp.Or(strings.Compare(a.Topic, b.Topic), strings.Compare(a.Node, b.Node))
	})
	return all
}
