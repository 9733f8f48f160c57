package service

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/topic"
)

// RetainedMessage is one retained message. Payload is set by
// LookupRetained only.
type RetainedMessage struct {
	MsgID        string // the message id, upper-case hex
	Topic        string
	QoS          byte
	PublishAt    time.Time
	FromClientID string
	FromUsername string // "": Herald's messages do not carry the publisher's username
	Payload      []byte
}

// RetainerConfig is the retainer's configuration as EMQX shows it
// (durations and sizes in EMQX's string forms).
type RetainerConfig struct {
	Enable              bool
	MsgExpiryInterval   string // "0s" = never
	MsgClearInterval    string // "0s" = no periodic sweep
	MaxPayloadSize      string // "1MB"
	StopPublishClearMsg bool   // always false: not supported
	DeliveryRate        string // always "1000/s": not supported
	Backend             RetainerBackend
}

// RetainerBackend is the retainer's storage.
type RetainerBackend struct {
	Type                string // built_in_database
	StorageType         string // disc (durability sync/async) or ram (durability off)
	MaxRetainedMessages int    // 0 = unlimited
	IndexSpecs          [][]int
}

// RetainerConfigUpdate is a PUT of the retainer configuration: nil fields
// are left as they are.
type RetainerConfigUpdate struct {
	Enable              *bool
	MsgExpiryInterval   *string
	MsgClearInterval    *string
	MaxPayloadSize      *string
	StopPublishClearMsg *bool
	DeliveryRate        *string
	Backend             *RetainerBackendUpdate
}

// RetainerBackendUpdate is the backend part of a RetainerConfigUpdate.
type RetainerBackendUpdate struct {
	Type                *string
	StorageType         *string
	MaxRetainedMessages *int
	IndexSpecs          [][]int // accepted and ignored: Herald's retained index needs no tuning
}

// Retainer settings Herald does not implement: their EMQX defaults are
// shown, and a PUT that changes them is refused.
const (
	retainerDeliveryRate = "1000/s"
	retainerBackendType  = "built_in_database"
)

// retainerIndexSpecs is EMQX's default index_specs, shown for shape.
var retainerIndexSpecs = [][]int{{1, 2, 3}, {1, 3}, {2, 3}, {3}}

// ListRetained returns one page of the retained messages matching the
// topic filter (all for ""), sorted by topic.
func (s *Service) ListRetained(ctx context.Context, filter string, q PageQuery) (Page[RetainedMessage], error) {
	if filter == "" {
		filter = "#"
	}
	if err := topic.ValidateFilter(filter); err != nil {
		return Page[RetainedMessage]{}, Errorf(ErrBadRequest, "BAD_REQUEST", "topic %q: %v", filter, err)
	}
	now := s.now().UnixNano()
	var all []RetainedMessage
	for _, n := range s.nodes {
		n.b.EachRetained(filter, func(m *broker.Message) {
			if !m.Expired(now) {
				all = append(all, retainedDTO(m, false))
			}
		})
	}
	slices.SortFunc(all, func(a, b RetainedMessage) int { return cmp.Compare(a.Topic, b.Topic) })
	return paginate(all, q, true), nil
}

// LookupRetained returns the retained message of a topic name, with its
// payload. A filter is ErrBadRequest; no message is ErrNotFound.
func (s *Service) LookupRetained(ctx context.Context, name string) (RetainedMessage, error) {
	if err := topic.ValidateName(name); err != nil {
		return RetainedMessage{}, Errorf(ErrBadRequest, "BAD_REQUEST", "topic %q: %v", name, err)
	}
	now := s.now().UnixNano()
	for _, n := range s.nodes {
		if m := n.b.Retained(name); m != nil && !m.Expired(now) {
			return retainedDTO(m, true), nil
		}
	}
	return RetainedMessage{}, Errorf(ErrNotFound, "NOT_FOUND", "Viewed message doesn't exist")
}

// DeleteRetained deletes the retained message of a topic, or every one
// matching a topic filter. ErrNotFound when nothing matched.
func (s *Service) DeleteRetained(ctx context.Context, filter string) error {
	if err := topic.ValidateFilter(filter); err != nil {
		return Errorf(ErrBadRequest, "BAD_REQUEST", "topic %q: %v", filter, err)
	}
	deleted := 0
	for _, n := range s.nodes {
		for _, tp := range retainedTopics(n.b, filter) {
			if n.b.DeleteRetained(tp) {
				deleted++
			}
		}
	}
	if deleted == 0 {
		return Errorf(ErrNotFound, "NOT_FOUND", "Retained message not found")
	}
	s.log.Info("retained messages deleted", "topic", filter, "count", deleted)
	return nil
}

// ClearRetained deletes every retained message (those under $-topics
// included).
func (s *Service) ClearRetained(ctx context.Context) error {
	deleted := 0
	for _, n := range s.nodes {
		for _, tp := range retainedTopics(n.b, "") {
			if n.b.DeleteRetained(tp) {
				deleted++
			}
		}
	}
	s.log.Info("retained messages cleared", "count", deleted)
	return nil
}

// retainedTopics lists the topics of the retained messages matching
// filter: an exact name, a filter, or "" for all of them.
func retainedTopics(b *broker.Broker, filter string) []string {
	if filter != "" && !strings.ContainsAny(filter, "+#") {
		if b.Retained(filter) != nil {
			return []string{filter}
		}
		return nil
	}
	var tps []string
	collect := func(m *broker.Message) { tps = append(tps, m.Topic) }
	if filter != "" {
		b.EachRetained(filter, collect)
		return tps
	}
	b.EachRetained("#", collect)
	// A wildcard at the first level skips $-topics [MQTT-4.7.2-1].
	b.EachRetained("$SYS/#", collect)
	return tps
}

func retainedDTO(m *broker.Message, payload bool) RetainedMessage {
	r := RetainedMessage{MsgID: fmt.Sprintf("%016X", m.ID), Topic: m.Topic, QoS: m.QoS,
		PublishAt: time.Unix(0, m.Created), FromClientID: m.From}
	if payload {
		r.Payload = m.Payload
	}
	return r
}

// RetainerConfig returns the retainer configuration in use.
func (s *Service) RetainerConfig(ctx context.Context) (RetainerConfig, error) {
	return retainerView(s.opts.Controller.Config()), nil
}

func retainerView(c config.Config) RetainerConfig {
	r := c.Retainer
	return RetainerConfig{
		Enable:            r.Enable,
		MsgExpiryInterval: config.FormatDuration(r.MsgExpiryInterval),
		MsgClearInterval:  config.FormatDuration(r.MsgClearInterval),
		MaxPayloadSize:    config.FormatByteSize(r.MaxPayloadSize),
		DeliveryRate:      retainerDeliveryRate,
		Backend: RetainerBackend{Type: retainerBackendType, StorageType: storageType(c),
			MaxRetainedMessages: r.MaxRetainedMessages, IndexSpecs: slices.Clone(retainerIndexSpecs)},
	}
}

// storageType is the backend's storage_type for the node's durability.
func storageType(c config.Config) string {
	if c.Durability == "off" {
		return "ram"
	}
	return "disc"
}

// UpdateRetainerConfig changes the retainer configuration through the
// node's configuration (persisted, in effect at once). A value Herald
// cannot honour (stop_publish_clear_msg true, another delivery_rate,
// backend type or storage type) or a bad value is ErrBadRequest with code
// UPDATE_FAILED.
func (s *Service) UpdateRetainerConfig(ctx context.Context, u RetainerConfigUpdate) (RetainerConfig, error) {
	apply, err := retainerChange(u, s.opts.Controller.Config())
	if err != nil {
		return RetainerConfig{}, err
	}
	cfg, err := s.opts.Controller.UpdateConfig(ctx, func(c *config.Config) error {
		apply(&c.Retainer)
		return nil
	})
	if err != nil {
		return RetainerConfig{}, updateFailed(err)
	}
	s.log.Info("retainer config updated")
	return retainerView(cfg), nil
}

// updateFailed gives a config update's bad-request error EMQX's code.
func updateFailed(err error) error {
	var e *Error
	switch {
	case errors.As(err, &e) && e.Kind == ErrBadRequest && e.Code == "":
		return Errorf(ErrBadRequest, "UPDATE_FAILED", "%s", e.Msg)
	case errors.As(err, &e):
		return err
	case errors.Is(err, ErrBadRequest):
		return Errorf(ErrBadRequest, "UPDATE_FAILED", "%v", err)
	}
	return err
}

// retainerChange checks an update against what Herald supports and parses
// its values, returning the change to apply to the retainer settings (the
// fields the update sets, and only those).
func retainerChange(u RetainerConfigUpdate, cur config.Config) (func(*config.Retainer), error) {
	bad := func(format string, a ...any) error { return Errorf(ErrBadRequest, "UPDATE_FAILED", format, a...) }
	if u.StopPublishClearMsg != nil && *u.StopPublishClearMsg {
		return nil, bad("stop_publish_clear_msg = true is not supported")
	}
	if u.DeliveryRate != nil && *u.DeliveryRate != retainerDeliveryRate {
		return nil, bad("delivery_rate is not configurable (always %s)", retainerDeliveryRate)
	}
	var sets []func(*config.Retainer)
	if u.Enable != nil {
		v := *u.Enable
		sets = append(sets, func(r *config.Retainer) { r.Enable = v })
	}
	for _, d := range []struct {
		key string
		in  *string
		out func(*config.Retainer) *time.Duration
	}{
		{"msg_expiry_interval", u.MsgExpiryInterval, func(r *config.Retainer) *time.Duration { return &r.MsgExpiryInterval }},
		{"msg_clear_interval", u.MsgClearInterval, func(r *config.Retainer) *time.Duration { return &r.MsgClearInterval }},
	} {
		if d.in != nil {
			v, err := config.ParseDuration(*d.in)
			if err != nil {
				return nil, bad("%s: %v", d.key, err)
			}
			out := d.out
			sets = append(sets, func(r *config.Retainer) { *out(r) = v })
		}
	}
	if u.MaxPayloadSize != nil {
		v, err := config.ParseByteSize(*u.MaxPayloadSize)
		if err != nil {
			return nil, bad("max_payload_size: %v", err)
		}
		sets = append(sets, func(r *config.Retainer) { r.MaxPayloadSize = v })
	}
	if b := u.Backend; b != nil {
		switch {
		case b.Type != nil && *b.Type != retainerBackendType:
			return nil, bad("backend.type must be %s", retainerBackendType)
		case b.StorageType != nil && *b.StorageType != storageType(cur):
			return nil, bad("backend.storage_type follows durability (%s on this node)", storageType(cur))
		case b.MaxRetainedMessages != nil && *b.MaxRetainedMessages < 0:
			return nil, bad("backend.max_retained_messages must be >= 0")
		case b.MaxRetainedMessages != nil:
			v := *b.MaxRetainedMessages
			sets = append(sets, func(r *config.Retainer) { r.MaxRetainedMessages = v })
		}
	}
	return func(r *config.Retainer) {
		for _, set := range sets {
			set(r)
		}
	}, nil
}

// startRetainerSweeper deletes expired retained messages every
// retainer.msg_clear_interval (re-read every second, so a change applies
// at once). Expired messages are never delivered or listed either way;
// the sweep reclaims their memory and storage.
func (s *Service) startRetainerSweeper() {
	last := s.now()
	s.every(time.Second, func() {
		every := s.opts.Controller.Config().Retainer.MsgClearInterval
		if every <= 0 || s.now().Sub(last) < every {
			return
		}
		last = s.now()
		s.sweepRetained()
	})
}

// sweepRetained deletes the expired retained messages.
func (s *Service) sweepRetained() {
	now := s.now().UnixNano()
	for _, n := range s.nodes {
		var expired []string
		n.b.EachRetained("#", func(m *broker.Message) {
			if m.Expired(now) {
				expired = append(expired, m.Topic)
			}
		})
		for _, tp := range expired {
			n.b.DeleteRetained(tp)
		}
		if len(expired) > 0 {
			s.log.Debug("expired retained messages swept", "count", len(expired))
		}
	}
}
