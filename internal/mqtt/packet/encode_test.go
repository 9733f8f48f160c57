package packet

import (
	"bytes"
	"strings"
	"testing"
)

// TestPacketEncodeNormalizes checks encodings that differ from the struct:
// fields the level cannot carry, mapped codes and derived flags.
func TestPacketEncodeNormalizes(t *testing.T) {
	pubProps := Properties{Present: idSet(PropSessionExpiry, PropReasonString, PropMessageExpiry),
		SessionExpiry: 9, ReasonString: []byte("r"), MessageExpiry: 4, User: users("k", "v")}
	cases := []struct {
		name    string
		version byte
		pkt     Packet
		want    []byte
	}{
		{"connack-v3-maps-v5-code", V311, &Connack{ReasonCode: NotAuthorized}, []byte{0x20, 2, 0, 5}},
		{"connack-v3-maps-unsupported", V311, &Connack{ReasonCode: UnsupportedProtocolVersion}, []byte{0x20, 2, 0, 1}},
		{"connack-drops-session-present-on-failure", V5, &Connack{SessionPresent: true, ReasonCode: Banned}, []byte{0x20, 3, 0, 0x8A, 0}},
		{"connack-v31-no-session-present", V31, &Connack{SessionPresent: true}, []byte{0x20, 2, 0, 0}},
		{"connack-v3-drops-props", V311, &Connack{Props: pubProps}, []byte{0x20, 2, 0, 0}},
		{"suback-v3-maps-failures", V311, &Suback{PacketID: 1, ReasonCodes: []ReasonCode{1, NotAuthorized, QuotaExceeded}},
			[]byte{0x90, 5, 0, 1, 1, 0x80, 0x80}},
		{"connect-username-sets-flag", V311, &Connect{ProtocolName: "junk", ClientID: "c", Username: "u", Password: []byte("p")},
			pk(0x10, str("MQTT"), []byte{4, 0xC0}, u16(0), str("c"), str("u"), str("p"))},
		{"connect-v31-name", V31, &Connect{ClientID: "c"}, pk(0x10, str("MQIsdp"), []byte{3, 0}, u16(0), str("c"))},
		{"connect-no-will-ignores-will-fields", V311, &Connect{ClientID: "c", WillQoS: 2, WillRetain: true, WillTopic: "w"},
			pk(0x10, str("MQTT"), []byte{4, 0}, u16(0), str("c"))},
		{"publish-v3-drops-props", V311, &Publish{Topic: []byte("t"), Props: pubProps}, pk(0x30, str("t"))},
		{"publish-v5-writes-publish-props-only", V5, &Publish{Topic: []byte("t"), Props: pubProps},
			pk(0x30, str("t"), props(pU32(PropMessageExpiry, 4), pUser("k", "v")))},
		{"subscribe-v5-drops-invalid-props", V5, &Subscribe{PacketID: 1, Props: pubProps,
			Subscriptions: []Subscription{{Filter: "a"}}}, pk(0x82, u16(1), props(pUser("k", "v")), str("a"), []byte{0})},
		{"subscribe-v3-drops-v5-options", V311, &Subscribe{PacketID: 1,
			Subscriptions: []Subscription{{Filter: "a", QoS: 1, NoLocal: true, RetainHandling: 2}}}, pk(0x82, u16(1), str("a"), []byte{1})},
		{"ack-v3-drops-code", V311, &Ack{PacketType: PUBREC, PacketID: 7, ReasonCode: QuotaExceeded, Props: pubProps}, []byte{0x50, 2, 0, 7}},
		{"pubrel-flags", V5, &Ack{PacketType: PUBREL, PacketID: 7}, []byte{0x62, 2, 0, 7}},
		{"ack-v5-code-without-props", V5, &Ack{PacketType: PUBACK, PacketID: 7, ReasonCode: QuotaExceeded},
			[]byte{0x40, 3, 0, 7, 0x97}},
		{"disconnect-v3-drops-code", V311, &Disconnect{ReasonCode: ServerBusy, Props: pubProps}, []byte{0xE0, 0}},
		{"disconnect-v5-drops-invalid-props", V5, &Disconnect{Props: Properties{Present: idSet(PropTopicAlias), TopicAlias: 1}},
			[]byte{0xE0, 0}},
		{"auth-v5-code-keeps-property-length", V5, &Auth{ReasonCode: ReAuthenticate}, []byte{0xF0, 2, 0x19, 0}},
		{"unsuback-v3-drops-codes", V311, &Unsuback{PacketID: 3, ReasonCodes: []ReasonCode{0x11}}, []byte{0xB0, 2, 0, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			equalBytes(t, "Append", mustAppend(t, c.pkt, c.version), c.want)
			if n := c.pkt.Size(c.version); n != len(c.want) {
				t.Fatalf("Size = %d, want %d", n, len(c.want))
			}
		})
	}
}

// TestPacketEncodeRejects checks that encoders refuse what decoders reject.
func TestPacketEncodeRejects(t *testing.T) {
	long := strings.Repeat("x", 0x10000)
	sub := func(s Subscription) *Subscribe { return &Subscribe{PacketID: 1, Subscriptions: []Subscription{s}} }
	cases := []struct {
		name    string
		version byte
		pkt     Packet
		want    ReasonCode
	}{
		{"version-6", 6, &Pingreq{}, UnsupportedProtocolVersion},
		{"publish-version-2", 2, &Publish{Topic: []byte("t")}, UnsupportedProtocolVersion},
		{"publish-qos3", V311, &Publish{QoS: 3, PacketID: 1, Topic: []byte("t")}, MalformedPacket},
		{"publish-dup-qos0", V311, &Publish{Dup: true, Topic: []byte("t")}, MalformedPacket},
		{"publish-packet-id-0", V311, &Publish{QoS: 1, Topic: []byte("t")}, ProtocolError},
		{"publish-empty-topic-v3", V311, &Publish{}, ProtocolError},
		{"publish-empty-topic-v5-no-alias", V5, &Publish{}, ProtocolError},
		{"publish-topic-too-long", V311, &Publish{Topic: []byte(long)}, MalformedPacket},
		{"publish-too-large", V311, &Publish{Topic: []byte("t"), Payload: make([]byte, MaxRemaining-2)}, PacketTooLarge},
		{"publish-subscription-id-0", V5, &Publish{Topic: []byte("t"), Props: Properties{SubscriptionIDs: []uint32{0}}}, ProtocolError},
		{"publish-prop-too-long", V5, &Publish{Topic: []byte("t"), Props: Properties{Present: idSet(PropContentType),
			ContentType: []byte(long)}}, MalformedPacket},
		{"publish-user-prop-too-long", V5, &Publish{Topic: []byte("t"), Props: Properties{User: users(long, "v")}}, MalformedPacket},
		{"connect-password-no-username-v3", V311, &Connect{PasswordFlag: true}, ProtocolError},
		{"connect-will-qos3", V311, &Connect{WillFlag: true, WillQoS: 3}, MalformedPacket},
		{"connect-auth-data-no-method", V5, &Connect{Props: Properties{Present: idSet(PropAuthData)}}, ProtocolError},
		{"connect-client-id-too-long", V311, &Connect{ClientID: long}, MalformedPacket},
		{"connack-v3-code", V311, &Connack{ReasonCode: NoMatchingSubscribers}, ProtocolError},
		{"connack-v5-code", V5, &Connack{ReasonCode: NoMatchingSubscribers}, ProtocolError},
		{"ack-wrong-type", V311, &Ack{PacketType: PUBLISH, PacketID: 1}, MalformedPacket},
		{"ack-packet-id-0", V311, &Ack{PacketType: PUBACK}, ProtocolError},
		{"ack-v5-code", V5, &Ack{PacketType: PUBREL, PacketID: 1, ReasonCode: NotAuthorized}, ProtocolError},
		{"subscribe-empty", V311, &Subscribe{PacketID: 1}, ProtocolError},
		{"subscribe-packet-id-0", V311, &Subscribe{Subscriptions: []Subscription{{Filter: "a"}}}, ProtocolError},
		{"subscribe-v3-qos3", V311, sub(Subscription{Filter: "a", QoS: 3}), MalformedPacket},
		{"subscribe-v5-qos3", V5, sub(Subscription{Filter: "a", QoS: 3}), ProtocolError},
		{"subscribe-qos4", V5, sub(Subscription{Filter: "a", QoS: 4}), MalformedPacket},
		{"subscribe-v5-retain-handling-3", V5, sub(Subscription{Filter: "a", RetainHandling: 3}), ProtocolError},
		{"subscribe-v5-no-local-shared", V5, sub(Subscription{Filter: "$share/g/a", NoLocal: true}), ProtocolError},
		{"subscribe-v5-two-ids", V5, &Subscribe{PacketID: 1, Props: Properties{SubscriptionIDs: []uint32{1, 2}},
			Subscriptions: []Subscription{{Filter: "a"}}}, ProtocolError},
		{"subscribe-filter-too-long", V311, sub(Subscription{Filter: long}), MalformedPacket},
		{"suback-empty", V311, &Suback{PacketID: 1}, ProtocolError},
		{"suback-v3-code", V311, &Suback{PacketID: 1, ReasonCodes: []ReasonCode{NoMatchingSubscribers}}, ProtocolError},
		{"suback-v5-code", V5, &Suback{PacketID: 1, ReasonCodes: []ReasonCode{ServerBusy}}, ProtocolError},
		{"unsubscribe-empty", V311, &Unsubscribe{PacketID: 1}, ProtocolError},
		{"unsubscribe-filter-too-long", V311, &Unsubscribe{PacketID: 1, Filters: []string{long}}, MalformedPacket},
		{"unsuback-v5-empty", V5, &Unsuback{PacketID: 1}, ProtocolError},
		{"unsuback-packet-id-0", V311, &Unsuback{}, ProtocolError},
		{"disconnect-v5-code", V5, &Disconnect{ReasonCode: GrantedQoS1}, ProtocolError},
		{"auth-v3", V311, &Auth{}, ProtocolError},
		{"auth-code", V5, &Auth{ReasonCode: NotAuthorized}, ProtocolError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := c.pkt.Append(dst, c.version)
			wantCode(t, "Append", err, c.want)
			if !bytes.Equal(got, []byte("keep")) {
				t.Fatalf("Append changed dst to % x on error", got)
			}
		})
	}
}

// TestPacketPropertiesAppend checks the exported property section helpers.
func TestPacketPropertiesAppend(t *testing.T) {
	p := Properties{Present: idSet(PropReasonString, PropTopicAlias), ReasonString: []byte("r"), TopicAlias: 2,
		User: users("a", "b")}
	want := props(pStr(PropReasonString, "r"), pUser("a", "b"))
	got, err := p.Append(nil, PUBACK)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	equalBytes(t, "Properties.Append(PUBACK)", got, want)
	if n := p.Size(PUBACK); n != len(want) {
		t.Fatalf("Size(PUBACK) = %d, want %d", n, len(want))
	}
	if n := p.Size(PINGREQ); n != 1 {
		t.Fatalf("Size(PINGREQ) = %d, want 1 (an empty section)", n)
	}
	if !PropAllowed(willProps, PropWillDelay) || PropAllowed(CONNECT, PropWillDelay) || !PropAllowed(PUBLISH, PropTopicAlias) ||
		PropAllowed(AUTH+1, PropUser) || PropAllowed(PUBLISH, 0x7F) {
		t.Fatalf("Allowed disagrees with the property table")
	}
}

func TestPacketReasonCodes(t *testing.T) {
	v3 := map[ReasonCode]ReasonCode{
		Success: V3Accepted, UnsupportedProtocolVersion: V3UnacceptableProtocolVersion,
		ClientIdentifierNotValid: V3IdentifierRejected, BadUsernameOrPassword: V3BadUsernameOrPassword,
		NotAuthorized: V3NotAuthorized, ServerUnavailable: V3ServerUnavailable, ServerBusy: V3ServerUnavailable,
		Banned: V3NotAuthorized, BadAuthenticationMethod: V3BadUsernameOrPassword, UnspecifiedError: V3ServerUnavailable,
		QuotaExceeded: V3ServerUnavailable, UseAnotherServer: V3ServerUnavailable, V3NotAuthorized: V3NotAuthorized,
	}
	for in, want := range v3 {
		if got := V3ConnackCode(in); got != want {
			t.Fatalf("V3ConnackCode(%#x) = %#x, want %#x", byte(in), byte(got), byte(want))
		}
	}
	if !PacketIdentifierNotFound.ValidFor(PUBREL) || PacketIdentifierNotFound.ValidFor(PUBACK) ||
		Success.ValidFor(PUBLISH) || !ReAuthenticate.ValidFor(AUTH) || Success.ValidFor(Type(16)) {
		t.Fatalf("ValidFor disagrees with the reason code tables")
	}
	if NotAuthorized.Error() != "not authorized" || ReasonCode(0x03).String() != "reason code 0x03" {
		t.Fatalf("ReasonCode strings: %q, %q", NotAuthorized.Error(), ReasonCode(0x03).String())
	}
	if PUBREL.String() != "PUBREL" || Type(16).String() != "INVALID" {
		t.Fatalf("Type strings: %s %s", PUBREL, Type(16))
	}
}
