package packet

import (
	"bytes"
	"testing"

	"github.com/eclipse/paho.golang/packets"
)

// Cross-check against github.com/eclipse/paho.golang/packets, an independent
// MQTT 5 codec: every canonical v5 packet is encoded by us and decoded by
// paho, and encoded by paho and decoded by us, and the fields compared.
//
// Known paho limitations worked around here: it holds one Subscription
// Identifier and treats empty strings as absent (packets needing more are
// marked noPaho), fails on the zero-length DISCONNECT the spec allows, sets
// flags 0001 on AUTH (reset below), and does not write the PUBLISH-type Will
// Properties (Payload Format, Message Expiry, Content Type, Response Topic,
// Correlation Data) of a CONNECT (pahoWritable drops them from the expectation).

func TestPacketPahoDecodesOurs(t *testing.T) {
	for _, c := range pahoCases() {
		t.Run(c.name, func(t *testing.T) {
			raw := mustAppend(t, c.pkt, V5)
			cp, err := packets.ReadPacket(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("paho ReadPacket(% x): %v", raw, err)
			}
			equalPackets(t, "paho decode of our encoding", fromPaho(t, cp), c.pkt)
		})
	}
}

func TestPacketWeDecodePaho(t *testing.T) {
	for _, c := range pahoCases() {
		t.Run(c.name, func(t *testing.T) {
			cp := toPaho(t, c.pkt)
			var buf bytes.Buffer
			if _, err := cp.WriteTo(&buf); err != nil {
				t.Fatalf("paho WriteTo: %v", err)
			}
			equalPackets(t, "our decode of paho's encoding", mustDecode(t, buf.Bytes(), V5), pahoWritable(c.pkt))
		})
	}
}

func pahoCases() []canon {
	var cs []canon
	for _, c := range canonicalV5() {
		if !c.noPaho && !c.decodeOnly {
			cs = append(cs, c)
		}
	}
	return cs
}

// pahoWritable returns p without what paho cannot encode.
func pahoWritable(p Packet) Packet {
	c, ok := p.(*Connect)
	if !ok {
		return p
	}
	w := *c
	w.WillProps.Present &= 1 << PropWillDelay
	w.WillProps.ContentType, w.WillProps.ResponseTopic, w.WillProps.CorrelationData = nil, nil, nil
	w.WillProps.PayloadFormat, w.WillProps.MessageExpiry = 0, 0
	return &w
}

func toPaho(t *testing.T, p Packet) *packets.ControlPacket {
	t.Helper()
	cp := packets.NewControlPacket(byte(p.Type()))
	cp.Flags = fixedFlags[p.Type()] // paho sets 0001 on AUTH
	switch p := p.(type) {
	case *Connect:
		cp.Content = connectToPaho(p)
	case *Connack:
		cp.Content = &packets.Connack{SessionPresent: p.SessionPresent, ReasonCode: byte(p.ReasonCode), Properties: toPahoProps(&p.Props)}
	case *Publish:
		cp.Content = &packets.Publish{Duplicate: p.Dup, QoS: p.QoS, Retain: p.Retain, Topic: string(p.Topic),
			PacketID: p.PacketID, Payload: p.Payload, Properties: toPahoProps(&p.Props)}
	case *Ack:
		cp.Content = ackToPaho(p)
	case *Subscribe:
		cp.Content = subscribeToPaho(p)
	case *Suback:
		cp.Content = &packets.Suback{PacketID: p.PacketID, Reasons: codeBytes(p.ReasonCodes), Properties: toPahoProps(&p.Props)}
	case *Unsubscribe:
		cp.Content = &packets.Unsubscribe{PacketID: p.PacketID, Topics: p.Filters, Properties: toPahoProps(&p.Props)}
	case *Unsuback:
		cp.Content = &packets.Unsuback{PacketID: p.PacketID, Reasons: codeBytes(p.ReasonCodes), Properties: toPahoProps(&p.Props)}
	case *Disconnect:
		cp.Content = &packets.Disconnect{ReasonCode: byte(p.ReasonCode), Properties: toPahoProps(&p.Props)}
	case *Auth:
		cp.Content = &packets.Auth{ReasonCode: byte(p.ReasonCode), Properties: toPahoProps(&p.Props)}
	case *Pingreq, *Pingresp:
	default:
		t.Fatalf("toPaho: %T", p)
	}
	return cp
}

func connectToPaho(p *Connect) *packets.Connect {
	return &packets.Connect{ProtocolName: p.ProtocolName, ProtocolVersion: p.ProtocolVersion,
		CleanStart: p.CleanStart, KeepAlive: p.KeepAlive, ClientID: p.ClientID,
		UsernameFlag: p.UsernameFlag, Username: p.Username, PasswordFlag: p.PasswordFlag, Password: p.Password,
		WillFlag: p.WillFlag, WillQOS: p.WillQoS, WillRetain: p.WillRetain, WillTopic: p.WillTopic,
		WillMessage: p.WillPayload, Properties: toPahoProps(&p.Props), WillProperties: toPahoProps(&p.WillProps)}
}

func ackToPaho(p *Ack) packets.Packet {
	props := toPahoProps(&p.Props)
	switch p.PacketType {
	case PUBACK:
		return &packets.Puback{PacketID: p.PacketID, ReasonCode: byte(p.ReasonCode), Properties: props}
	case PUBREC:
		return &packets.Pubrec{PacketID: p.PacketID, ReasonCode: byte(p.ReasonCode), Properties: props}
	case PUBREL:
		return &packets.Pubrel{PacketID: p.PacketID, ReasonCode: byte(p.ReasonCode), Properties: props}
	}
	return &packets.Pubcomp{PacketID: p.PacketID, ReasonCode: byte(p.ReasonCode), Properties: props}
}

func subscribeToPaho(p *Subscribe) *packets.Subscribe {
	s := &packets.Subscribe{PacketID: p.PacketID, Properties: toPahoProps(&p.Props)}
	for _, o := range p.Subscriptions {
		s.Subscriptions = append(s.Subscriptions, packets.SubOptions{Topic: o.Filter, QoS: o.QoS,
			NoLocal: o.NoLocal, RetainAsPublished: o.RetainAsPublished, RetainHandling: o.RetainHandling})
	}
	return s
}

func fromPaho(t *testing.T, cp *packets.ControlPacket) Packet {
	t.Helper()
	switch c := cp.Content.(type) {
	case *packets.Connect:
		return connectFromPaho(c)
	case *packets.Connack:
		return &Connack{SessionPresent: c.SessionPresent, ReasonCode: ReasonCode(c.ReasonCode), Props: fromPahoProps(c.Properties)}
	case *packets.Publish:
		return &Publish{Dup: c.Duplicate, QoS: c.QoS, Retain: c.Retain, Topic: nonEmpty([]byte(c.Topic)),
			PacketID: c.PacketID, Payload: nonEmpty(c.Payload), Props: fromPahoProps(c.Properties)}
	case *packets.Puback:
		return &Ack{PacketType: PUBACK, PacketID: c.PacketID, ReasonCode: ReasonCode(c.ReasonCode), Props: fromPahoProps(c.Properties)}
	case *packets.Pubrec:
		return &Ack{PacketType: PUBREC, PacketID: c.PacketID, ReasonCode: ReasonCode(c.ReasonCode), Props: fromPahoProps(c.Properties)}
	case *packets.Pubrel:
		return &Ack{PacketType: PUBREL, PacketID: c.PacketID, ReasonCode: ReasonCode(c.ReasonCode), Props: fromPahoProps(c.Properties)}
	case *packets.Pubcomp:
		return &Ack{PacketType: PUBCOMP, PacketID: c.PacketID, ReasonCode: ReasonCode(c.ReasonCode), Props: fromPahoProps(c.Properties)}
	case *packets.Subscribe:
		return subscribeFromPaho(c)
	case *packets.Suback:
		return &Suback{PacketID: c.PacketID, ReasonCodes: codesOf(c.Reasons), Props: fromPahoProps(c.Properties)}
	case *packets.Unsubscribe:
		return &Unsubscribe{PacketID: c.PacketID, Filters: c.Topics, Props: fromPahoProps(c.Properties)}
	case *packets.Unsuback:
		return &Unsuback{PacketID: c.PacketID, ReasonCodes: codesOf(c.Reasons), Props: fromPahoProps(c.Properties)}
	}
	return controlFromPaho(t, cp)
}

func controlFromPaho(t *testing.T, cp *packets.ControlPacket) Packet {
	t.Helper()
	switch c := cp.Content.(type) {
	case *packets.Pingreq:
		return &Pingreq{}
	case *packets.Pingresp:
		return &Pingresp{}
	case *packets.Disconnect:
		return &Disconnect{ReasonCode: ReasonCode(c.ReasonCode), Props: fromPahoProps(c.Properties)}
	case *packets.Auth:
		return &Auth{ReasonCode: ReasonCode(c.ReasonCode), Props: fromPahoProps(c.Properties)}
	}
	t.Fatalf("fromPaho: %T", cp.Content)
	return nil
}

func connectFromPaho(c *packets.Connect) *Connect {
	p := &Connect{ProtocolName: c.ProtocolName, ProtocolVersion: c.ProtocolVersion, CleanStart: c.CleanStart,
		KeepAlive: c.KeepAlive, ClientID: c.ClientID, UsernameFlag: c.UsernameFlag, Username: c.Username,
		PasswordFlag: c.PasswordFlag, Password: nonEmpty(c.Password), WillFlag: c.WillFlag, WillQoS: c.WillQOS,
		WillRetain: c.WillRetain, WillTopic: c.WillTopic, WillPayload: nonEmpty(c.WillMessage),
		Props: fromPahoProps(c.Properties)}
	if c.WillFlag {
		p.WillProps = fromPahoProps(c.WillProperties)
	}
	return p
}

func subscribeFromPaho(c *packets.Subscribe) *Subscribe {
	p := &Subscribe{PacketID: c.PacketID, Props: fromPahoProps(c.Properties)}
	for _, o := range c.Subscriptions {
		p.Subscriptions = append(p.Subscriptions, Subscription{Filter: o.Topic, QoS: o.QoS, NoLocal: o.NoLocal,
			RetainAsPublished: o.RetainAsPublished, RetainHandling: o.RetainHandling})
	}
	return p
}

func codeBytes(rcs []ReasonCode) []byte {
	b := make([]byte, len(rcs))
	for i, r := range rcs {
		b[i] = byte(r)
	}
	return b
}

func codesOf(b []byte) []ReasonCode {
	var rcs []ReasonCode
	for _, c := range b {
		rcs = append(rcs, ReasonCode(c))
	}
	return rcs
}

func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func opt[T any](has bool, v T) *T {
	if !has {
		return nil
	}
	return &v
}

func toPahoProps(p *Properties) *packets.Properties {
	pp := &packets.Properties{
		PayloadFormat: opt(p.Has(PropPayloadFormat), p.PayloadFormat), MessageExpiry: opt(p.Has(PropMessageExpiry), p.MessageExpiry),
		ContentType: string(p.ContentType), ResponseTopic: string(p.ResponseTopic), CorrelationData: p.CorrelationData,
		SessionExpiryInterval: opt(p.Has(PropSessionExpiry), p.SessionExpiry), AssignedClientID: string(p.AssignedClientID),
		ServerKeepAlive: opt(p.Has(PropServerKeepAlive), p.ServerKeepAlive), AuthMethod: string(p.AuthMethod),
		AuthData: p.AuthData, RequestProblemInfo: opt(p.Has(PropRequestProblemInfo), p.RequestProblemInfo),
		WillDelayInterval: opt(p.Has(PropWillDelay), p.WillDelay), RequestResponseInfo: opt(p.Has(PropRequestResponseInfo), p.RequestResponseInfo),
		ResponseInfo: string(p.ResponseInfo), ServerReference: string(p.ServerReference), ReasonString: string(p.ReasonString),
		ReceiveMaximum: opt(p.Has(PropReceiveMaximum), p.ReceiveMaximum), TopicAliasMaximum: opt(p.Has(PropTopicAliasMaximum), p.TopicAliasMaximum),
		TopicAlias: opt(p.Has(PropTopicAlias), p.TopicAlias), MaximumQOS: opt(p.Has(PropMaximumQoS), p.MaximumQoS),
		RetainAvailable: opt(p.Has(PropRetainAvailable), p.RetainAvailable), MaximumPacketSize: opt(p.Has(PropMaximumPacketSize), p.MaximumPacketSize),
		WildcardSubAvailable: opt(p.Has(PropWildcardSubAvailable), p.WildcardSubAvailable),
		SubIDAvailable:       opt(p.Has(PropSubIDAvailable), p.SubIDAvailable), SharedSubAvailable: opt(p.Has(PropSharedSubAvailable), p.SharedSubAvailable),
	}
	if len(p.SubscriptionIDs) > 0 {
		pp.SubscriptionIdentifier = opt(true, int(p.SubscriptionIDs[0]))
	}
	for _, u := range p.User {
		pp.User = append(pp.User, packets.User{Key: string(u.Key), Value: string(u.Value)})
	}
	return pp
}

func fromPahoProps(pp *packets.Properties) Properties {
	var p Properties
	if pp == nil {
		return p
	}
	setByte := func(id PropID, v *byte) {
		if v != nil {
			*p.byteField(id) = *v
			p.Set(id)
		}
	}
	setU16 := func(id PropID, v *uint16) {
		if v != nil {
			*p.u16Field(id) = *v
			p.Set(id)
		}
	}
	setU32 := func(id PropID, v *uint32) {
		if v != nil {
			*p.u32Field(id) = *v
			p.Set(id)
		}
	}
	setBytes := func(id PropID, v []byte) {
		if len(v) > 0 {
			*p.bytesField(id) = v
			p.Set(id)
		}
	}
	setByte(PropPayloadFormat, pp.PayloadFormat)
	setByte(PropRequestProblemInfo, pp.RequestProblemInfo)
	setByte(PropRequestResponseInfo, pp.RequestResponseInfo)
	setByte(PropMaximumQoS, pp.MaximumQOS)
	setByte(PropRetainAvailable, pp.RetainAvailable)
	setByte(PropWildcardSubAvailable, pp.WildcardSubAvailable)
	setByte(PropSubIDAvailable, pp.SubIDAvailable)
	setByte(PropSharedSubAvailable, pp.SharedSubAvailable)
	setU16(PropServerKeepAlive, pp.ServerKeepAlive)
	setU16(PropReceiveMaximum, pp.ReceiveMaximum)
	setU16(PropTopicAliasMaximum, pp.TopicAliasMaximum)
	setU16(PropTopicAlias, pp.TopicAlias)
	setU32(PropMessageExpiry, pp.MessageExpiry)
	setU32(PropSessionExpiry, pp.SessionExpiryInterval)
	setU32(PropWillDelay, pp.WillDelayInterval)
	setU32(PropMaximumPacketSize, pp.MaximumPacketSize)
	setBytes(PropContentType, []byte(pp.ContentType))
	setBytes(PropResponseTopic, []byte(pp.ResponseTopic))
	setBytes(PropCorrelationData, pp.CorrelationData)
	setBytes(PropAssignedClientID, []byte(pp.AssignedClientID))
	setBytes(PropAuthMethod, []byte(pp.AuthMethod))
	setBytes(PropAuthData, pp.AuthData)
	setBytes(PropResponseInfo, []byte(pp.ResponseInfo))
	setBytes(PropServerReference, []byte(pp.ServerReference))
	setBytes(PropReasonString, []byte(pp.ReasonString))
	if pp.SubscriptionIdentifier != nil {
		p.SubscriptionIDs = []uint32{uint32(*pp.SubscriptionIdentifier)}
	}
	for _, u := range pp.User {
		p.User = append(p.User, user(u.Key, u.Value))
	}
	return p
}
