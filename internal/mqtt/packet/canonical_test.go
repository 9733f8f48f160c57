package packet

import (
	"bytes"
	"testing"
)

// canon is one canonical packet: its wire bytes and its decoded struct.
type canon struct {
	name    string
	version byte
	raw     []byte
	pkt     Packet
	// decodeOnly marks a legal but non-canonical encoding: it decodes to pkt,
	// which encodes to a shorter form.
	decodeOnly bool
	// noPaho marks packets paho.golang cannot represent or parse (several
	// Subscription Identifiers, the empty DISCONNECT, v3 packets).
	noPaho bool
}

var (
	connectPropsV5 = Properties{
		Present: idSet(PropSessionExpiry, PropAuthMethod, PropAuthData, PropRequestProblemInfo,
			PropRequestResponseInfo, PropReceiveMaximum, PropTopicAliasMaximum, PropMaximumPacketSize),
		SessionExpiry: 3600, AuthMethod: []byte("SCRAM-SHA-1"), AuthData: []byte{1, 2, 3},
		RequestProblemInfo: 0, RequestResponseInfo: 1, ReceiveMaximum: 100, TopicAliasMaximum: 10,
		MaximumPacketSize: 65536, User: users("client", "herald-test"),
	}
	connectPropsV5Raw = props(pU32(PropSessionExpiry, 3600), pStr(PropAuthMethod, "SCRAM-SHA-1"),
		pStr(PropAuthData, "\x01\x02\x03"), pByte(PropRequestProblemInfo, 0), pByte(PropRequestResponseInfo, 1),
		pU16(PropReceiveMaximum, 100), pU16(PropTopicAliasMaximum, 10), pU32(PropMaximumPacketSize, 65536),
		pUser("client", "herald-test"))

	willPropsV5 = Properties{
		Present: idSet(PropPayloadFormat, PropMessageExpiry, PropContentType, PropResponseTopic,
			PropCorrelationData, PropWillDelay),
		PayloadFormat: 1, MessageExpiry: 60, ContentType: []byte("text/plain"), ResponseTopic: []byte("resp/1"),
		CorrelationData: []byte{0xCA, 0xFE}, WillDelay: 5, User: users("w", "1"),
	}
	willPropsV5Raw = props(pByte(PropPayloadFormat, 1), pU32(PropMessageExpiry, 60),
		pStr(PropContentType, "text/plain"), pStr(PropResponseTopic, "resp/1"), pStr(PropCorrelationData, "\xCA\xFE"),
		pU32(PropWillDelay, 5), pUser("w", "1"))

	connackPropsV5 = Properties{
		Present: idSet(PropSessionExpiry, PropAssignedClientID, PropServerKeepAlive, PropAuthMethod, PropAuthData,
			PropResponseInfo, PropServerReference, PropReasonString, PropReceiveMaximum, PropTopicAliasMaximum,
			PropMaximumQoS, PropRetainAvailable, PropMaximumPacketSize, PropWildcardSubAvailable,
			PropSubIDAvailable, PropSharedSubAvailable),
		SessionExpiry: 120, AssignedClientID: []byte("auto-7f3a"), ServerKeepAlive: 45,
		AuthMethod: []byte("SCRAM-SHA-1"), AuthData: []byte{9}, ResponseInfo: []byte("resp/auto-7f3a/"),
		ServerReference: []byte("other:1883"), ReasonString: []byte("welcome"), ReceiveMaximum: 20,
		TopicAliasMaximum: 5, MaximumQoS: 1, RetainAvailable: 0, MaximumPacketSize: 1 << 20,
		WildcardSubAvailable: 1, SubIDAvailable: 0, SharedSubAvailable: 1, User: users("region", "eu", "node", "n1"),
	}
	connackPropsV5Raw = props(pU32(PropSessionExpiry, 120), pStr(PropAssignedClientID, "auto-7f3a"),
		pU16(PropServerKeepAlive, 45), pStr(PropAuthMethod, "SCRAM-SHA-1"), pStr(PropAuthData, "\x09"),
		pStr(PropResponseInfo, "resp/auto-7f3a/"), pStr(PropServerReference, "other:1883"),
		pStr(PropReasonString, "welcome"), pU16(PropReceiveMaximum, 20), pU16(PropTopicAliasMaximum, 5),
		pByte(PropMaximumQoS, 1), pByte(PropRetainAvailable, 0), pU32(PropMaximumPacketSize, 1<<20),
		pByte(PropWildcardSubAvailable, 1), pByte(PropSubIDAvailable, 0), pByte(PropSharedSubAvailable, 1),
		pUser("region", "eu"), pUser("node", "n1"))

	publishPropsV5 = Properties{
		Present: idSet(PropPayloadFormat, PropMessageExpiry, PropContentType, PropResponseTopic,
			PropCorrelationData, PropTopicAlias),
		PayloadFormat: 1, MessageExpiry: 30, ContentType: []byte("application/json"),
		ResponseTopic: []byte("reply/1"), CorrelationData: []byte{0, 1, 2}, TopicAlias: 7,
		SubscriptionIDs: []uint32{1, MaxRemaining}, User: users("k1", "v1", "k1", "v2", "émoji", "✓"),
	}
	publishPropsV5Raw = props(pByte(PropPayloadFormat, 1), pU32(PropMessageExpiry, 30),
		pStr(PropContentType, "application/json"), pStr(PropResponseTopic, "reply/1"),
		pStr(PropCorrelationData, "\x00\x01\x02"), pU16(PropTopicAlias, 7), pSubID(1), pSubID(MaxRemaining),
		pUser("k1", "v1"), pUser("k1", "v2"), pUser("émoji", "✓"))
)

// canonicalV311 covers the 14 packet types of MQTT 3.1.1 with literal bytes
// where they are short, from the examples of the specification.
func canonicalV311() []canon {
	return []canon{
		{name: "connect-minimal", raw: []byte{0x10, 0x0E, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, 2, 'c', '1'},
			pkt: &Connect{ProtocolName: "MQTT", ProtocolVersion: V311, CleanStart: true, KeepAlive: 60, ClientID: "c1"}},
		{name: "connect-empty-client-id", raw: pk(0x10, str("MQTT"), []byte{4, 0x00}, u16(0), str("")),
			pkt: &Connect{ProtocolName: "MQTT", ProtocolVersion: V311}},
		{name: "connect-full", raw: pk(0x10, str("MQTT"), []byte{4, 0xEE}, u16(300), str("dev-1"),
			str("dev/1/status"), str("offline"), str("alice"), str("s3cret\x00")),
			pkt: &Connect{ProtocolName: "MQTT", ProtocolVersion: V311, CleanStart: true, KeepAlive: 300,
				ClientID: "dev-1", WillFlag: true, WillQoS: 1, WillRetain: true, WillTopic: "dev/1/status",
				WillPayload: []byte("offline"), UsernameFlag: true, Username: "alice", PasswordFlag: true,
				Password: []byte("s3cret\x00")}},
		{name: "connect-username-only", raw: pk(0x10, str("MQTT"), []byte{4, 0x80}, u16(0), str("c"), str("bob")),
			pkt: &Connect{ProtocolName: "MQTT", ProtocolVersion: V311, ClientID: "c", UsernameFlag: true, Username: "bob"}},
		{name: "connack-session-present", raw: []byte{0x20, 2, 1, 0}, pkt: &Connack{SessionPresent: true}},
		{name: "connack-not-authorized", raw: []byte{0x20, 2, 0, 5}, pkt: &Connack{ReasonCode: V3NotAuthorized}},
		{name: "publish-qos0", raw: pk(0x30, str("a/b"), []byte("hello")),
			pkt: &Publish{Topic: []byte("a/b"), Payload: []byte("hello")}},
		{name: "publish-qos1-dup-retain", raw: pk(0x3B, str("sensors/τ"), u16(0x1234), []byte{0, 0xFF}),
			pkt: &Publish{Dup: true, QoS: 1, Retain: true, Topic: []byte("sensors/τ"), PacketID: 0x1234, Payload: []byte{0, 0xFF}}},
		{name: "publish-qos2-empty", raw: pk(0x34, str("t"), u16(65535)),
			pkt: &Publish{QoS: 2, Topic: []byte("t"), PacketID: 65535}},
		{name: "puback", raw: []byte{0x40, 2, 0, 1}, pkt: &Ack{PacketType: PUBACK, PacketID: 1}},
		{name: "pubrec", raw: []byte{0x50, 2, 0x12, 0x34}, pkt: &Ack{PacketType: PUBREC, PacketID: 0x1234}},
		{name: "pubrel", raw: []byte{0x62, 2, 0x12, 0x34}, pkt: &Ack{PacketType: PUBREL, PacketID: 0x1234}},
		{name: "pubcomp", raw: []byte{0x70, 2, 0xFF, 0xFF}, pkt: &Ack{PacketType: PUBCOMP, PacketID: 0xFFFF}},
		{name: "subscribe", raw: pk(0x82, u16(10), str("a/+"), []byte{1}, str("b/#"), []byte{2}, str("c"), []byte{0}),
			pkt: &Subscribe{PacketID: 10, Subscriptions: []Subscription{{Filter: "a/+", QoS: 1},
				{Filter: "b/#", QoS: 2}, {Filter: "c"}}}},
		{name: "suback", raw: []byte{0x90, 6, 0, 10, 0, 1, 2, 0x80},
			pkt: &Suback{PacketID: 10, ReasonCodes: []ReasonCode{0, 1, 2, 0x80}}},
		{name: "unsubscribe", raw: pk(0xA2, u16(11), str("a/+"), str("b/#")),
			pkt: &Unsubscribe{PacketID: 11, Filters: []string{"a/+", "b/#"}}},
		{name: "unsuback", raw: []byte{0xB0, 2, 0, 11}, pkt: &Unsuback{PacketID: 11}},
		{name: "pingreq", raw: []byte{0xC0, 0}, pkt: &Pingreq{}},
		{name: "pingresp", raw: []byte{0xD0, 0}, pkt: &Pingresp{}},
		{name: "disconnect", raw: []byte{0xE0, 0}, pkt: &Disconnect{}},
	}
}

// canonicalV31 covers what differs in MQTT 3.1: the protocol name and level,
// and the unused CONNACK flags byte.
func canonicalV31() []canon {
	return []canon{
		{name: "connect", raw: pk(0x10, str("MQIsdp"), []byte{3, 0xC2}, u16(10), str("legacy-client"),
			str("user"), str("pass")),
			pkt: &Connect{ProtocolName: "MQIsdp", ProtocolVersion: V31, CleanStart: true, KeepAlive: 10,
				ClientID: "legacy-client", UsernameFlag: true, Username: "user", PasswordFlag: true, Password: []byte("pass")}},
		{name: "connack", raw: []byte{0x20, 2, 0, 2}, pkt: &Connack{ReasonCode: V3IdentifierRejected}},
		{name: "publish-qos1", raw: pk(0x32, str("x"), u16(3), []byte("p")),
			pkt: &Publish{QoS: 1, Topic: []byte("x"), PacketID: 3, Payload: []byte("p")}},
		{name: "subscribe", raw: pk(0x82, u16(4), str("x/#"), []byte{2}),
			pkt: &Subscribe{PacketID: 4, Subscriptions: []Subscription{{Filter: "x/#", QoS: 2}}}},
		{name: "suback", raw: []byte{0x90, 3, 0, 4, 2}, pkt: &Suback{PacketID: 4, ReasonCodes: []ReasonCode{2}}},
	}
}

// canonicalV5 covers the 15 packet types of MQTT 5.0 and every property.
func canonicalV5() []canon {
	return append(canonicalV5Connect(), append(canonicalV5Publish(), canonicalV5Rest()...)...)
}

func canonicalV5Connect() []canon {
	return []canon{
		{name: "connect-minimal", raw: []byte{0x10, 0x0F, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x02, 0, 60, 0, 0, 2, 'c', '1'},
			pkt: &Connect{ProtocolName: "MQTT", ProtocolVersion: V5, CleanStart: true, KeepAlive: 60, ClientID: "c1"}},
		{name: "connect-full", raw: pk(0x10, str("MQTT"), []byte{5, 0xF6}, u16(30), connectPropsV5Raw, str("dev-1"),
			willPropsV5Raw, str("dev/1/status"), str("offline"), str("alice"), str("s3cret")),
			pkt: &Connect{ProtocolName: "MQTT", ProtocolVersion: V5, CleanStart: true, KeepAlive: 30,
				ClientID: "dev-1", WillFlag: true, WillQoS: 2, WillRetain: true, WillTopic: "dev/1/status",
				WillPayload: []byte("offline"), UsernameFlag: true, Username: "alice", PasswordFlag: true,
				Password: []byte("s3cret"), Props: connectPropsV5, WillProps: willPropsV5}},
		{name: "connect-password-without-username", raw: pk(0x10, str("MQTT"), []byte{5, 0x40}, u16(0), props(),
			str("c"), str("token")),
			pkt: &Connect{ProtocolName: "MQTT", ProtocolVersion: V5, ClientID: "c", PasswordFlag: true,
				Password: []byte("token")}},
		{name: "connack-minimal", raw: []byte{0x20, 3, 0, 0, 0}, pkt: &Connack{}},
		{name: "connack-full", raw: pk(0x20, []byte{1, 0}, connackPropsV5Raw),
			pkt: &Connack{SessionPresent: true, Props: connackPropsV5}},
		{name: "connack-refused", raw: pk(0x20, []byte{0, 0x87}, props(pStr(PropReasonString, "no"))),
			pkt: &Connack{ReasonCode: NotAuthorized, Props: Properties{Present: idSet(PropReasonString),
				ReasonString: []byte("no")}}},
	}
}

func canonicalV5Publish() []canon {
	return []canon{
		{name: "publish-qos0", raw: pk(0x30, str("a/b"), props(), []byte("hi")),
			pkt: &Publish{Topic: []byte("a/b"), Payload: []byte("hi")}},
		{name: "publish-all-props", noPaho: true, raw: pk(0x3B, str("a/b"), u16(9), publishPropsV5Raw, []byte(`{"x":1}`)),
			pkt: &Publish{Dup: true, QoS: 1, Retain: true, Topic: []byte("a/b"), PacketID: 9,
				Props: publishPropsV5, Payload: []byte(`{"x":1}`)}},
		{name: "publish-qos2-subid", raw: pk(0x35, str("m"), u16(700), props(pStr(PropContentType, "text"),
			pSubID(12), pUser("u", "v")), []byte("x")),
			pkt: &Publish{QoS: 2, Retain: true, Topic: []byte("m"), PacketID: 700, Payload: []byte("x"),
				Props: Properties{Present: idSet(PropContentType), ContentType: []byte("text"),
					SubscriptionIDs: []uint32{12}, User: users("u", "v")}}},
		{name: "publish-topic-alias", raw: pk(0x30, str(""), props(pU16(PropTopicAlias, 3)), []byte("z")),
			pkt: &Publish{Payload: []byte("z"), Props: Properties{Present: idSet(PropTopicAlias), TopicAlias: 3}}},
	}
}

func canonicalV5Rest() []canon {
	reason := func(s string) Properties {
		return Properties{Present: idSet(PropReasonString), ReasonString: []byte(s), User: users("k", "v")}
	}
	reasonRaw := func(s string) []byte { return props(pStr(PropReasonString, s), pUser("k", "v")) }
	return []canon{
		{name: "puback-short", raw: []byte{0x40, 2, 0, 1}, pkt: &Ack{PacketType: PUBACK, PacketID: 1}},
		{name: "puback-code", raw: []byte{0x40, 3, 0, 1, 0x10},
			pkt: &Ack{PacketType: PUBACK, PacketID: 1, ReasonCode: NoMatchingSubscribers}},
		{name: "puback-props", raw: pk(0x40, u16(2), []byte{0x87}, reasonRaw("denied")),
			pkt: &Ack{PacketType: PUBACK, PacketID: 2, ReasonCode: NotAuthorized, Props: reason("denied")}},
		{name: "pubrec-props", raw: pk(0x50, u16(3), []byte{0x80}, reasonRaw("x")),
			pkt: &Ack{PacketType: PUBREC, PacketID: 3, ReasonCode: UnspecifiedError, Props: reason("x")}},
		{name: "pubrel-not-found", raw: []byte{0x62, 3, 0, 5, 0x92},
			pkt: &Ack{PacketType: PUBREL, PacketID: 5, ReasonCode: PacketIdentifierNotFound}},
		{name: "pubcomp-success-props", raw: pk(0x70, u16(6), []byte{0}, reasonRaw("done")),
			pkt: &Ack{PacketType: PUBCOMP, PacketID: 6, Props: reason("done")}},
		{name: "subscribe", raw: pk(0x82, u16(10), props(pSubID(5), pUser("k", "v")), str("a/+"), []byte{0x05},
			str("b/#"), []byte{0x1A}, str("$share/g/c"), []byte{0x20}),
			pkt: &Subscribe{PacketID: 10, Props: Properties{SubscriptionIDs: []uint32{5}, User: users("k", "v")},
				Subscriptions: []Subscription{{Filter: "a/+", QoS: 1, NoLocal: true},
					{Filter: "b/#", QoS: 2, RetainAsPublished: true, RetainHandling: 1},
					{Filter: "$share/g/c", RetainHandling: 2}}}},
		{name: "suback", raw: pk(0x90, u16(10), reasonRaw("partial"), []byte{1, 2, 0x87}),
			pkt: &Suback{PacketID: 10, Props: reason("partial"), ReasonCodes: []ReasonCode{1, 2, NotAuthorized}}},
		{name: "unsubscribe", raw: pk(0xA2, u16(11), props(pUser("k", "v")), str("a/+"), str("b/#")),
			pkt: &Unsubscribe{PacketID: 11, Props: Properties{User: users("k", "v")}, Filters: []string{"a/+", "b/#"}}},
		{name: "unsuback", raw: pk(0xB0, u16(11), reasonRaw("ok"), []byte{0, 0x11}),
			pkt: &Unsuback{PacketID: 11, Props: reason("ok"), ReasonCodes: []ReasonCode{Success, NoSubscriptionExisted}}},
		{name: "pingreq", raw: []byte{0xC0, 0}, pkt: &Pingreq{}},
		{name: "pingresp", raw: []byte{0xD0, 0}, pkt: &Pingresp{}},
		{name: "disconnect-short", noPaho: true, raw: []byte{0xE0, 0}, pkt: &Disconnect{}},
		{name: "disconnect-code", raw: []byte{0xE0, 1, 0x04}, pkt: &Disconnect{ReasonCode: DisconnectWithWill}},
		{name: "disconnect-props", raw: pk(0xE0, []byte{0x9C}, props(pU32(PropSessionExpiry, 10),
			pStr(PropServerReference, "b:1883"), pStr(PropReasonString, "move"), pUser("k", "v"))),
			pkt: &Disconnect{ReasonCode: UseAnotherServer, Props: Properties{
				Present:       idSet(PropSessionExpiry, PropServerReference, PropReasonString),
				SessionExpiry: 10, ServerReference: []byte("b:1883"), ReasonString: []byte("move"), User: users("k", "v")}}},
		{name: "auth-short", raw: []byte{0xF0, 0}, pkt: &Auth{}},
		{name: "auth-continue", raw: pk(0xF0, []byte{0x18}, props(pStr(PropAuthMethod, "SCRAM-SHA-1"),
			pStr(PropAuthData, "\x01\x02"), pStr(PropReasonString, "step"), pUser("k", "v"))),
			pkt: &Auth{ReasonCode: ContinueAuthentication, Props: Properties{
				Present:    idSet(PropAuthMethod, PropAuthData, PropReasonString),
				AuthMethod: []byte("SCRAM-SHA-1"), AuthData: []byte{1, 2}, ReasonString: []byte("step"), User: users("k", "v")}}},
		// Legal longer forms of the short encodings.
		{name: "puback-explicit-success", decodeOnly: true, raw: []byte{0x40, 3, 0, 1, 0},
			pkt: &Ack{PacketType: PUBACK, PacketID: 1}},
		{name: "puback-empty-props", decodeOnly: true, raw: []byte{0x40, 4, 0, 1, 0x10, 0},
			pkt: &Ack{PacketType: PUBACK, PacketID: 1, ReasonCode: NoMatchingSubscribers}},
		{name: "disconnect-explicit-success", decodeOnly: true, raw: []byte{0xE0, 2, 0, 0}, pkt: &Disconnect{}},
		{name: "disconnect-code-only-success", decodeOnly: true, raw: []byte{0xE0, 1, 0}, pkt: &Disconnect{}},
		{name: "auth-explicit-success", decodeOnly: true, raw: []byte{0xF0, 2, 0, 0}, pkt: &Auth{}},
		{name: "auth-code-only", decodeOnly: true, raw: []byte{0xF0, 1, 0x19}, pkt: &Auth{ReasonCode: ReAuthenticate}},
	}
}

// allCanonical returns every canonical packet with its version set.
func allCanonical() []canon {
	var all []canon
	for _, set := range []struct {
		v  byte
		cs []canon
	}{{V31, canonicalV31()}, {V311, canonicalV311()}, {V5, canonicalV5()}} {
		for _, c := range set.cs {
			c.version = set.v
			all = append(all, c)
		}
	}
	return all
}

func (c canon) label() string { return c.name + "/v" + string('0'+c.version) }

func TestPacketCanonicalDecode(t *testing.T) {
	for _, c := range allCanonical() {
		t.Run(c.label(), func(t *testing.T) {
			equalPackets(t, "Decode", mustDecode(t, c.raw, c.version), c.pkt)
		})
	}
}

func TestPacketCanonicalEncode(t *testing.T) {
	for _, c := range allCanonical() {
		if c.decodeOnly {
			continue
		}
		t.Run(c.label(), func(t *testing.T) {
			equalBytes(t, "Append", mustAppend(t, c.pkt, c.version), c.raw)
			if n := c.pkt.Size(c.version); n != len(c.raw) {
				t.Fatalf("Size = %d, want %d", n, len(c.raw))
			}
			prefix := []byte("prefix")
			got, err := c.pkt.Append(prefix, c.version)
			if err != nil || !bytes.Equal(got, cat([]byte("prefix"), c.raw)) {
				t.Fatalf("Append after a prefix: % x, %v", got, err)
			}
		})
	}
}

// TestPacketCanonicalTypes checks that the tables cover all 15 packet types
// in v5 and the 14 of 3.1.1, and every property identifier.
func TestPacketCanonicalTypes(t *testing.T) {
	seen := map[byte]map[Type]bool{V311: {}, V5: {}}
	var ids uint64
	for _, c := range allCanonical() {
		if seen[c.version] != nil {
			seen[c.version][c.pkt.Type()] = true
		}
		ids |= presentIDs(c.pkt)
	}
	if len(seen[V311]) != 14 || len(seen[V5]) != 15 {
		t.Fatalf("types covered: v3.1.1 %d, v5 %d", len(seen[V311]), len(seen[V5]))
	}
	for id, k := range propKinds {
		if k != kindNone && ids&(1<<id) == 0 {
			t.Fatalf("property 0x%02x not covered by the canonical table", id)
		}
	}
}

// presentIDs returns the property identifiers a packet carries.
func presentIDs(p Packet) uint64 {
	var ids uint64
	for _, pr := range packetProps(p) {
		ids |= pr.Present
		if len(pr.SubscriptionIDs) > 0 {
			ids |= 1 << PropSubscriptionID
		}
		if len(pr.User) > 0 {
			ids |= 1 << PropUser
		}
	}
	return ids
}

func packetProps(p Packet) []*Properties {
	switch p := p.(type) {
	case *Connect:
		return []*Properties{&p.Props, &p.WillProps}
	case *Connack:
		return []*Properties{&p.Props}
	case *Publish:
		return []*Properties{&p.Props}
	case *Ack:
		return []*Properties{&p.Props}
	case *Subscribe:
		return []*Properties{&p.Props}
	case *Suback:
		return []*Properties{&p.Props}
	case *Unsubscribe:
		return []*Properties{&p.Props}
	case *Unsuback:
		return []*Properties{&p.Props}
	case *Disconnect:
		return []*Properties{&p.Props}
	case *Auth:
		return []*Properties{&p.Props}
	}
	return nil
}
