package memory

import (
	"slices"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

// cloneMessage deep-copies m.
func cloneMessage(m *broker.Message) *broker.Message {
	c := *m
	c.Payload = slices.Clone(m.Payload)
	c.Props = cloneProps(m.Props)
	return &c
}

// cloneProps deep-copies every property, so nothing the caller keeps aliases
// the store.
func cloneProps(p *packet.Properties) *packet.Properties {
	if p == nil {
		return nil
	}
	c := *p
	for _, f := range []*[]byte{
		&c.ContentType, &c.ResponseTopic, &c.CorrelationData, &c.AssignedClientID,
		&c.AuthMethod, &c.AuthData, &c.ResponseInfo, &c.ServerReference, &c.ReasonString,
	} {
		*f = slices.Clone(*f)
	}
	c.SubscriptionIDs = slices.Clone(p.SubscriptionIDs)
	c.User = cloneUser(p.User)
	return &c
}

func cloneUser(u []packet.UserProperty) []packet.UserProperty {
	if u == nil {
		return nil
	}
	c := make([]packet.UserProperty, len(u))
	for i, p := range u {
		c[i] = packet.UserProperty{Key: slices.Clone(p.Key), Value: slices.Clone(p.Value)}
	}
	return c
}

// cloneSession deep-copies s, including its will message.
func cloneSession(s *broker.SessionRecord) broker.SessionRecord {
	c := *s
	if s.Will != nil {
		c.Will = &broker.Will{Msg: cloneMessage(s.Will.Msg), Delay: s.Will.Delay}
	}
	return c
}
