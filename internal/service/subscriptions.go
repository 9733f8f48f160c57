package service

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/mqtt/topic"
)

// Subscription is one subscription of one session.
type Subscription struct {
	Node     string
	ClientID string
	Topic    string // as subscribed: $share/<group>/<filter> when shared
	QoS      byte
	NoLocal  bool
	RAP      bool
	RH       byte
}

func subscriptionOf(node string, s *broker.SubscriptionSnapshot) Subscription {
	return Subscription{Node: node, ClientID: s.ClientID, Topic: s.Filter, QoS: s.QoS, NoLocal: s.NoLocal, RAP: s.RAP, RH: s.RH}
}

// SubscriptionQuery is GET /subscriptions. Zero values mean "any".
type SubscriptionQuery struct {
	PageQuery
	Node     string
	ClientID string
	QoS      *byte
	// Topic matches the subscribed filter exactly: "$share/g/t" matches
	// the shared subscription of group g to t, a plain "t" matches every
	// subscription whose (real) filter is t, shared or not.
	Topic string
	// MatchTopic is a filter: a subscription matches when its filter,
	// read as a name, is matched by it (EMQX's emqx_topic:match). A
	// shared MatchTopic is a bad request. It leaves the page uncounted.
	MatchTopic string
	ShareGroup string
}

func (q *SubscriptionQuery) validate() error {
	if !q.Valid() {
		return Errorf(ErrBadRequest, "INVALID_PARAMETER", "page_limit_invalid")
	}
	if q.QoS != nil && *q.QoS > 2 {
		return Errorf(ErrBadRequest, "INVALID_PARAMETER", "qos: %d is not 0, 1 or 2", *q.QoS)
	}
	if q.MatchTopic != "" {
		if _, _, shared, _ := topic.ParseShare(q.MatchTopic); shared || strings.HasPrefix(q.MatchTopic, "$share/") {
			return Errorf(ErrBadRequest, "INVALID_PARAMETER", "match_topic: shared subscription filter %q is not supported", q.MatchTopic)
		}
		if err := topic.ValidateFilter(q.MatchTopic); err != nil {
			return Errorf(ErrBadRequest, "INVALID_PARAMETER", "match_topic: %v", err)
		}
	}
	return nil
}

func (q *SubscriptionQuery) match(s *broker.SubscriptionSnapshot) bool {
	group, real, shared, err := topic.ParseShare(s.Filter)
	if err != nil {
		group, real, shared = "", s.Filter, false
	}
	switch {
	case q.ClientID != "" && s.ClientID != q.ClientID,
		q.QoS != nil && s.QoS != *q.QoS,
		q.ShareGroup != "" && (!shared || group != q.ShareGroup),
		q.Topic != "" && !topicMatches(q.Topic, s.Filter, real),
		q.MatchTopic != "" && !topic.Match(q.MatchTopic, real):
		return false
	}
	return true
}

func topicMatches(want, filter, real string) bool {
	if _, _, shared, err := topic.ParseShare(want); err == nil && shared {
		return want == filter
	}
	return want == real
}

// ListSubscriptions returns one page of the subscriptions of every node in
// scope matching q, sorted by (client id, filter, node).
func (s *Service) ListSubscriptions(ctx context.Context, q SubscriptionQuery) (Page[Subscription], error) {
	if err := q.validate(); err != nil {
		return Page[Subscription]{}, err
	}
	nodes, err := s.nodesIn(q.Node)
	if err != nil {
		return Page[Subscription]{}, err
	}
	var all []Subscription
	for _, n := range nodes {
		n.b.Subscriptions(func(sub *broker.SubscriptionSnapshot) bool {
			if q.match(sub) {
				all = append(all, subscriptionOf(n.name, sub))
			}
			return true
		})
	}
	slices.SortFunc(all, func(a, b Subscription) int {
		return cmp.Or(strings.Compare(a.ClientID, b.ClientID), strings.Compare(a.Topic, b.Topic), strings.Compare(a.Node, b.Node))
	})
	return paginate(all, q.PageQuery, q.MatchTopic == ""), nil
}

// ClientSubscriptions returns a session's subscriptions sorted by filter,
// or ErrNotFound (CLIENTID_NOT_FOUND).
func (s *Service) ClientSubscriptions(ctx context.Context, clientID string) ([]Subscription, error) {
	n, err := s.ownerOf(clientID)
	if err != nil {
		return nil, err
	}
	subs, err := n.b.ClientSubscriptions(clientID)
	if err != nil {
		return nil, notFoundAs(clientID, err)
	}
	out := make([]Subscription, len(subs))
	for i := range subs {
		out[i] = subscriptionOf(n.name, &subs[i])
	}
	return out, nil
}

// SubscribeRequest is one subscription to make on a client's behalf.
type SubscribeRequest struct {
	Topic   string
	QoS     byte
	NoLocal bool
	RAP     bool
	RH      byte
}

func (r *SubscribeRequest) validate() error {
	switch {
	case r.QoS > 2:
		return Errorf(ErrBadRequest, "BAD_REQUEST", "qos: %d is not 0, 1 or 2", r.QoS)
	case r.RH > 2:
		return Errorf(ErrBadRequest, "BAD_REQUEST", "rh: %d is not 0, 1 or 2", r.RH)
	}
	_, _, shared, err := topic.ParseShare(r.Topic)
	if err != nil {
		return Errorf(ErrBadRequest, "INVALID_PARAMETER", "topic %q: %v", r.Topic, err)
	}
	if shared && r.NoLocal {
		return Errorf(ErrBadRequest, "INVALID_PARAMETER",
			"Invalid Subscribe options: `no_local` not allowed for shared-sub. See [MQTT-3.8.3-4]")
	}
	return nil
}

// Subscribe subscribes a session, connected or not, as if it had sent
// SUBSCRIBE (retained messages follow Retain Handling), and returns the
// subscriptions made. ErrNotFound (CLIENTID_NOT_FOUND) for an unknown
// client; ErrBadRequest (INVALID_PARAMETER) for an invalid filter or
// no_local on a shared subscription.
func (s *Service) Subscribe(ctx context.Context, clientID string, reqs []SubscribeRequest) ([]Subscription, error) {
	subs := make([]broker.SubscriptionSnapshot, len(reqs))
	for i := range reqs {
		r := &reqs[i]
		if err := r.validate(); err != nil {
			return nil, err
		}
		subs[i] = broker.SubscriptionSnapshot{ClientID: clientID, Filter: r.Topic, QoS: r.QoS, NoLocal: r.NoLocal, RAP: r.RAP, RH: r.RH}
	}
	n, err := s.ownerOf(clientID)
	if err != nil {
		return nil, err
	}
	if err := n.b.SubscribeFor(clientID, subs); err != nil {
		if errors.Is(err, broker.ErrBadFilter) {
			return nil, Errorf(ErrBadRequest, "INVALID_PARAMETER", "%v", err)
		}
		return nil, notFoundAs(clientID, err)
	}
	out := make([]Subscription, len(subs))
	for i := range subs {
		out[i] = subscriptionOf(n.name, &subs[i])
	}
	s.log.Info("client subscribed by api", "clientid", clientID, "filters", len(subs))
	return out, nil
}

// Unsubscribe removes subscriptions of a session; filters it does not
// have are ignored. ErrNotFound (CLIENTID_NOT_FOUND) for an unknown client.
func (s *Service) Unsubscribe(ctx context.Context, clientID string, filters []string) error {
	n, err := s.ownerOf(clientID)
	if err != nil {
		return err
	}
	if err := n.b.UnsubscribeFor(clientID, filters); err != nil {
		return notFoundAs(clientID, err)
	}
	s.log.Info("client unsubscribed by api", "clientid", clientID, "filters", len(filters))
	return nil
}
