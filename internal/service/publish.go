package service

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/mqtt/topic"
)

// MQTT reason codes the publish API reports, as EMQX.
const (
	RCNoMatchingSubscribers    = 0x10 // 16
	RCImplementationSpecific   = 0x83 // 131
	RCTopicNameInvalid         = 0x90 // 144
	RCQuotaExceeded            = 0x97 // 151
	ReasonNoMatchingSubscriber = "no_matching_subscribers"
	ReasonFailedToDispatch     = "failed_to_dispatch"
)

// PublishRequest is a message to publish from the API.
type PublishRequest struct {
	Topic   string
	Payload []byte
	QoS     byte
	Retain  bool
	// ClientID is accepted for compatibility and ignored, as EMQX (it
	// deprecated the field in v5.0.14): API messages have no publisher.
	ClientID string
	Props    PublishProperties
}

// PublishProperties are the MQTT 5 properties of an API message; nil
// pointers and empty values are absent.
type PublishProperties struct {
	PayloadFormatIndicator *byte
	MessageExpiryInterval  *uint32 // seconds
	ResponseTopic          string
	CorrelationData        string
	UserProperties         map[string]string
	ContentType            string
}

// PublishOutcome is what happened to one published message.
type PublishOutcome int

// Publish outcomes.
const (
	Delivered      PublishOutcome = iota // matched at least one subscriber
	NoSubscribers                        // matched none (EMQX's 202)
	DispatchFailed                       // not dispatched: the node is shutting down (EMQX's 503)
)

// PublishResult is the result of one published message.
type PublishResult struct {
	ID      string // EMQX-style message id: 32 upper-case hex digits
	Outcome PublishOutcome
}

// PublishError is a message the API refuses before publishing anything:
// ErrBadRequest with an EMQX code and the MQTT reason code EMQX reports.
type PublishError struct {
	Err        *Error
	ReasonCode byte
}

func (e *PublishError) Error() string { return e.Err.Msg }

// Unwrap returns the *Error, so errors.Is(err, ErrBadRequest) holds.
func (e *PublishError) Unwrap() error { return e.Err }

func publishError(rc byte, code, msg string) error {
	return &PublishError{Err: &Error{Kind: ErrBadRequest, Code: code, Msg: msg}, ReasonCode: rc}
}

// Publish publishes one message as from inside the node (no publisher
// client: no authorization, no no-local). A bad topic is a *PublishError
// (BAD_TOPIC, reason 144), a message larger than mqtt.max_packet_size one
// with reason 151.
func (s *Service) Publish(ctx context.Context, req PublishRequest) (PublishResult, error) {
	m, err := s.message(&req)
	if err != nil {
		return PublishResult{}, err
	}
	return s.publish(m), nil
}

// PublishBulk publishes messages in order and returns one result each. If
// any message is invalid nothing is published and the error is that of
// the first invalid one, as EMQX.
func (s *Service) PublishBulk(ctx context.Context, reqs []PublishRequest) ([]PublishResult, error) {
	if len(reqs) == 0 {
		return nil, publishError(RCImplementationSpecific, "BAD_REQUEST", "empty_batch")
	}
	msgs := make([]*broker.Message, len(reqs))
	for i := range reqs {
		m, err := s.message(&reqs[i])
		if err != nil {
			return nil, err
		}
		msgs[i] = m
	}
	out := make([]PublishResult, len(msgs))
	for i, m := range msgs {
		out[i] = s.publish(m)
	}
	return out, nil
}

func (s *Service) publish(m *broker.Message) PublishResult {
	select {
	case <-s.stop:
		return PublishResult{ID: messageID(m), Outcome: DispatchFailed}
	default:
	}
	n := s.local.b.Publish(m)
	res := PublishResult{ID: messageID(m), Outcome: Delivered}
	if n == 0 {
		res.Outcome = NoSubscribers
	}
	s.log.Debug("api publish", "topic", m.Topic, "qos", m.QoS, "retain", m.Retain, "matched", n)
	return res
}

// message validates req and builds the broker message.
func (s *Service) message(req *PublishRequest) (*broker.Message, error) {
	if req.QoS > 2 {
		return nil, publishError(RCImplementationSpecific, "BAD_REQUEST", fmt.Sprintf("qos: %d is not 0, 1 or 2", req.QoS))
	}
	if err := validateTopicName(req.Topic); err != nil {
		return nil, publishError(RCTopicNameInvalid, "BAD_TOPIC", "topic_name_invalid")
	}
	if p := req.Props.PayloadFormatIndicator; p != nil && *p > 1 {
		return nil, publishError(RCImplementationSpecific, "BAD_REQUEST", "payload_format_indicator must be 0 or 1")
	}
	now := s.now()
	m := &broker.Message{Topic: req.Topic, Payload: req.Payload, QoS: req.QoS, Retain: req.Retain,
		Created: now.UnixNano(), Props: req.Props.packet()}
	if e := req.Props.MessageExpiryInterval; e != nil && *e > 0 {
		m.Expiry = now.Add(time.Duration(*e) * time.Second).UnixNano()
	}
	if max := s.local.b.Config().MaxPacketSize; max > 0 && estimateSize(m) > max {
		return nil, publishError(RCQuotaExceeded, "BAD_REQUEST", "packet_too_large")
	}
	return m, nil
}

func validateTopicName(name string) error {
	if err := topic.ValidateName(name); err != nil {
		return err
	}
	if !utf8.ValidString(name) || strings.IndexByte(name, 0) >= 0 {
		return fmt.Errorf("topic %q is not well-formed UTF-8 without U+0000", name)
	}
	return nil
}

// packet returns the properties to forward, nil when there are none.
func (p *PublishProperties) packet() *packet.Properties {
	var pp packet.Properties
	if p.PayloadFormatIndicator != nil {
		pp.PayloadFormat = *p.PayloadFormatIndicator
		pp.Set(packet.PropPayloadFormat)
	}
	if p.ResponseTopic != "" {
		pp.ResponseTopic = []byte(p.ResponseTopic)
		pp.Set(packet.PropResponseTopic)
	}
	if p.CorrelationData != "" {
		pp.CorrelationData = []byte(p.CorrelationData)
		pp.Set(packet.PropCorrelationData)
	}
	if p.ContentType != "" {
		pp.ContentType = []byte(p.ContentType)
		pp.Set(packet.PropContentType)
	}
	keys := make([]string, 0, len(p.UserProperties))
	for k := range p.UserProperties {
		keys = append(keys, k)
	}
	slices.Sort(keys) // JSON objects have no order; make the packet's stable
	for _, k := range keys {
		pp.User = append(pp.User, packet.UserProperty{Key: []byte(k), Value: []byte(p.UserProperties[k])})
	}
	if pp.Present == 0 && len(pp.User) == 0 {
		return nil
	}
	return &pp
}

// estimateSize approximates the PUBLISH packet's size, as EMQX's
// emqx_message:estimate_size: topic, payload and properties.
func estimateSize(m *broker.Message) int {
	n := 2 + len(m.Topic) + len(m.Payload) + 2 + 5
	if p := m.Props; p != nil {
		n += len(p.ResponseTopic) + len(p.CorrelationData) + len(p.ContentType) + 16
		for _, u := range p.User {
			n += 5 + len(u.Key) + len(u.Value)
		}
	}
	return n
}

// messageID renders a message's id as EMQX's GUIDs: 32 upper-case hex
// digits, here the receive time in microseconds then the node's message
// sequence number, so ids sort by time and are unique on the node.
func messageID(m *broker.Message) string {
	return fmt.Sprintf("%016X%016X", uint64(m.Created/1e3), m.ID)
}
