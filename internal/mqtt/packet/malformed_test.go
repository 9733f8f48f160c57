package packet

import (
	"errors"
	"testing"
)

// bad is one packet that breaks a rule, and the reason code it must yield.
type bad struct {
	name    string
	version byte
	raw     []byte
	want    ReasonCode
}

// decodeRaw frames raw and decodes it, passing whatever follows the fixed
// header as the body.
func decodeRaw(raw []byte, version byte) error {
	fh, n, err := ParseFixedHeader(raw)
	if err != nil {
		return err
	}
	_, err = Decode(fh, raw[n:], version)
	return err
}

const (
	mal = MalformedPacket
	pro = ProtocolError
	unv = UnsupportedProtocolVersion
)

func connectV5(flags byte, propsRaw []byte, payload ...[]byte) []byte {
	return pk(0x10, str("MQTT"), []byte{5, flags}, u16(0), propsRaw, cat(payload...))
}

func publishV5(propsRaw []byte) []byte { return pk(0x30, str("t"), propsRaw, []byte("x")) }

func malformedFraming() []bad {
	return []bad{
		{"type-0", V311, []byte{0x00, 0x00}, mal},
		{"connect-flags [MQTT-2.1.3-1]", V311, []byte{0x11, 0x00}, mal},
		{"connack-flags", V311, []byte{0x28, 2, 0, 0}, mal},
		{"puback-flags", V311, []byte{0x41, 2, 0, 1}, mal},
		{"pubrel-flags-0000 [MQTT-3.6.1-1]", V311, []byte{0x60, 2, 0, 1}, mal},
		{"subscribe-flags-0000 [MQTT-3.8.1-1]", V311, pk(0x80, u16(1), str("a"), []byte{0}), mal},
		{"unsubscribe-flags-0011 [MQTT-3.10.1-1]", V311, pk(0xA3, u16(1), str("a")), mal},
		{"pingreq-flags", V311, []byte{0xC1, 0}, mal},
		{"disconnect-flags [MQTT-3.14.1-1]", V5, []byte{0xE8, 0}, mal},
		{"auth-flags [MQTT-3.15.1-1]", V5, []byte{0xF1, 0}, mal},
		{"publish-qos3 [MQTT-3.3.1-4]", V311, pk(0x36, str("t"), u16(1)), mal},
		{"publish-dup-qos0 [MQTT-3.3.1-2]", V311, pk(0x38, str("t")), mal},
		{"varint-5-bytes [MQTT-1.5.5-1]", V311, []byte{0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}, mal},
		{"varint-not-minimal [MQTT-1.5.5-1]", V311, []byte{0xC0, 0x80, 0x00}, mal},
		{"body-shorter-than-declared", V311, []byte{0x30, 5, 0, 1, 't'}, mal},
		{"pingreq-body", V311, []byte{0xC0, 1, 0}, mal},
		{"pingresp-body", V5, []byte{0xD0, 1, 0}, mal},
		{"disconnect-v3-body", V311, []byte{0xE0, 1, 0}, mal},
		{"auth-v3", V311, []byte{0xF0, 0}, mal},
		{"version-6", 6, []byte{0xC0, 0}, unv},
		{"version-0", 0, []byte{0x30, 3, 0, 1, 't'}, unv},
	}
}

func malformedConnect() []bad {
	v311 := func(flags byte, payload ...[]byte) []byte {
		return pk(0x10, str("MQTT"), []byte{4, flags}, u16(0), cat(payload...))
	}
	return []bad{
		{"connect-name-unknown [MQTT-3.1.2-1]", V311, pk(0x10, str("MQTX"), []byte{4, 2}, u16(0), str("c")), unv},
		{"connect-level-6 [MQTT-3.1.2-2]", V311, pk(0x10, str("MQTT"), []byte{6, 2}, u16(0), str("c")), unv},
		{"connect-mqtt-level-3", V311, pk(0x10, str("MQTT"), []byte{3, 2}, u16(0), str("c")), unv},
		{"connect-mqisdp-level-4", V311, pk(0x10, str("MQIsdp"), []byte{4, 2}, u16(0), str("c")), unv},
		{"connect-reserved-flag [MQTT-3.1.2-3]", V311, v311(0x03, str("c")), mal},
		{"connect-will-qos3 [MQTT-3.1.2-12]", V311, v311(0x1C, str("c"), str("w"), str("p")), mal},
		{"connect-will-qos-no-will [MQTT-3.1.2-13]", V311, v311(0x08, str("c")), mal},
		{"connect-will-retain-no-will [MQTT-3.1.2-15]", V311, v311(0x20, str("c")), mal},
		{"connect-password-no-username [MQTT-3.1.2-22]", V311, v311(0x40, str("c"), str("p")), pro},
		{"connect-password-no-username-v31", V31, pk(0x10, str("MQIsdp"), []byte{3, 0x40}, u16(0), str("c"), str("p")), pro},
		{"connect-client-id-beyond-body", V311, v311(0x02, u16(5), []byte("ab")), mal},
		{"connect-client-id-overlong-utf8 [MQTT-1.5.4-1]", V311, v311(0x02, str("\xC0\x80")), mal},
		{"connect-client-id-nul [MQTT-1.5.4-2]", V311, v311(0x02, str("a\x00b")), mal},
		{"connect-client-id-surrogate [MQTT-1.5.4-1]", V311, v311(0x02, str("\xED\xA0\x80")), mal},
		{"connect-username-nul-after-utf8", V311, v311(0x80, str("c"), str("é\x00")), mal},
		{"connect-will-topic-missing [MQTT-3.1.2-9]", V311, v311(0x04, str("c")), mal},
		{"connect-trailing-bytes", V311, v311(0x02, str("c"), []byte{0}), mal},
		{"connect-truncated-header", V311, pk(0x10, str("MQTT"), []byte{4}), mal},
		{"connect-prop-not-allowed [MQTT-2.2.2-2]", V5, connectV5(2, props(pU16(PropTopicAlias, 1)), str("c")), mal},
		{"connect-prop-unknown", V5, connectV5(2, props([]byte{0x05, 0}), str("c")), mal},
		{"connect-prop-id-2-bytes", V5, connectV5(2, props([]byte{0x91, 0x01, 0}), str("c")), mal},
		{"connect-will-prop-not-allowed", V5, connectV5(6, props(), str("c"), props(pU32(PropSessionExpiry, 1)), str("w"), str("p")), mal},
		{"connect-prop-twice", V5, connectV5(2, props(pU32(PropSessionExpiry, 1), pU32(PropSessionExpiry, 2)), str("c")), pro},
		{"connect-receive-maximum-0", V5, connectV5(2, props(pU16(PropReceiveMaximum, 0)), str("c")), pro},
		{"connect-maximum-packet-size-0", V5, connectV5(2, props(pU32(PropMaximumPacketSize, 0)), str("c")), pro},
		{"connect-request-problem-info-2", V5, connectV5(2, props(pByte(PropRequestProblemInfo, 2)), str("c")), pro},
		{"connect-request-response-info-2", V5, connectV5(2, props(pByte(PropRequestResponseInfo, 2)), str("c")), pro},
		{"connect-will-response-topic-wildcard [MQTT-3.3.2-14]", V5, connectV5(6, props(), str("c"), props(pStr(PropResponseTopic, "r/#")), str("w"), str("p")), pro},
		{"connect-will-payload-format-2", V5, connectV5(6, props(), str("c"), props(pByte(PropPayloadFormat, 2)), str("w"), str("p")), pro},
		{"connect-auth-data-without-method", V5, connectV5(2, props(pStr(PropAuthData, "x")), str("c")), pro},
		{"connect-props-beyond-body", V5, connectV5(2, []byte{20, 0x11, 0, 0, 0, 1}), mal},
		{"connect-prop-value-truncated", V5, connectV5(2, []byte{3, 0x11, 0, 0}, str("c")), mal},
		{"connect-user-prop-bad-utf8 [MQTT-1.5.7-1]", V5, connectV5(2, props(pUser("k", "\xFF")), str("c")), mal},
		{"connect-props-length-varint-5", V5, connectV5(2, []byte{0xFF, 0xFF, 0xFF, 0xFF, 0x7F}), mal},
	}
}

func malformedConnack() []bad {
	return []bad{
		{"connack-reserved-flags [MQTT-3.2.2-1]", V311, []byte{0x20, 2, 2, 0}, mal},
		{"connack-v5-reserved-flags [MQTT-3.2.2-1]", V5, []byte{0x20, 3, 0x80, 0, 0}, mal},
		{"connack-v3-code-6", V311, []byte{0x20, 2, 0, 6}, pro},
		{"connack-session-present-failure [MQTT-3.2.2-6]", V311, []byte{0x20, 2, 1, 5}, pro},
		{"connack-v5-session-present-failure [MQTT-3.2.2-6]", V5, []byte{0x20, 3, 1, 0x80, 0}, pro},
		{"connack-v5-code-not-connack [MQTT-3.2.2-8]", V5, []byte{0x20, 3, 0, 0x01, 0}, pro},
		{"connack-v5-no-props", V5, []byte{0x20, 2, 0, 0}, mal},
		{"connack-v3-trailing", V311, []byte{0x20, 3, 0, 0, 0}, mal},
		{"connack-v3-short", V311, []byte{0x20, 1, 0}, mal},
		{"connack-maximum-qos-2", V5, pk(0x20, []byte{0, 0}, props(pByte(PropMaximumQoS, 2))), pro},
		{"connack-retain-available-2", V5, pk(0x20, []byte{0, 0}, props(pByte(PropRetainAvailable, 2))), pro},
		{"connack-wildcard-available-2", V5, pk(0x20, []byte{0, 0}, props(pByte(PropWildcardSubAvailable, 2))), pro},
		{"connack-subid-available-2", V5, pk(0x20, []byte{0, 0}, props(pByte(PropSubIDAvailable, 2))), pro},
		{"connack-shared-available-2", V5, pk(0x20, []byte{0, 0}, props(pByte(PropSharedSubAvailable, 2))), pro},
		{"connack-prop-will-delay", V5, pk(0x20, []byte{0, 0}, props(pU32(PropWillDelay, 2))), mal},
	}
}

func malformedPublish() []bad {
	return []bad{
		{"publish-packet-id-0 [MQTT-2.2.1-3]", V311, pk(0x32, str("t"), u16(0)), pro},
		{"publish-packet-id-truncated", V311, pk(0x32, str("t"), []byte{1}), mal},
		{"publish-topic-bad-utf8 [MQTT-3.3.2-1]", V311, pk(0x30, str("a\xFFb")), mal},
		{"publish-topic-nul [MQTT-1.5.4-2]", V311, pk(0x30, str("a\x00b")), mal},
		{"publish-topic-beyond-body", V311, pk(0x30, u16(9), []byte("ab")), mal},
		{"publish-topic-empty [MQTT-4.7.3-1]", V311, pk(0x30, str(""), []byte("x")), pro},
		{"publish-v5-topic-empty-no-alias", V5, pk(0x30, str(""), props(), []byte("x")), pro},
		{"publish-topic-alias-0 [MQTT-3.3.2-8]", V5, publishV5(props(pU16(PropTopicAlias, 0))), TopicAliasInvalid},
		{"publish-subscription-id-0", V5, publishV5(props(pSubID(0))), pro},
		{"publish-subscription-id-5-bytes", V5, publishV5(props([]byte{0x0B, 0x80, 0x80, 0x80, 0x80, 0x01})), mal},
		{"publish-subscription-id-not-minimal", V5, publishV5(props([]byte{0x0B, 0x81, 0x00})), mal},
		{"publish-payload-format-2", V5, publishV5(props(pByte(PropPayloadFormat, 2))), pro},
		{"publish-prop-session-expiry [MQTT-2.2.2-2]", V5, publishV5(props(pU32(PropSessionExpiry, 1))), mal},
		{"publish-message-expiry-twice", V5, publishV5(props(pU32(PropMessageExpiry, 1), pU32(PropMessageExpiry, 1))), pro},
		{"publish-content-type-twice", V5, publishV5(props(pStr(PropContentType, "a"), pStr(PropContentType, "a"))), pro},
		{"publish-content-type-bad-utf8 [MQTT-3.3.2-19]", V5, publishV5(props(pStr(PropContentType, "\xC3"))), mal},
		{"publish-response-topic-bad-utf8 [MQTT-3.3.2-13]", V5, publishV5(props(pStr(PropResponseTopic, "\xC3("))), mal},
		{"publish-response-topic-plus [MQTT-3.3.2-14]", V5, publishV5(props(pStr(PropResponseTopic, "a/+/c"))), pro},
		{"publish-response-topic-hash [MQTT-3.3.2-14]", V5, publishV5(props(pStr(PropResponseTopic, "#"))), pro},
		{"publish-props-beyond-body", V5, pk(0x30, str("t"), []byte{9, 1, 1}), mal},
		{"publish-props-missing", V5, pk(0x30, str("t")), mal},
	}
}

func malformedAcks() []bad {
	return []bad{
		{"puback-packet-id-0 [MQTT-2.2.1-3]", V311, []byte{0x40, 2, 0, 0}, pro},
		{"pubrec-v5-packet-id-0", V5, []byte{0x50, 2, 0, 0}, pro},
		{"puback-v3-short", V311, []byte{0x40, 1, 0}, mal},
		{"puback-v3-trailing", V311, []byte{0x40, 3, 0, 1, 0}, mal},
		{"puback-code-0x92 [MQTT-3.4.2-1]", V5, []byte{0x40, 3, 0, 1, 0x92}, pro},
		{"pubrec-code-0x92 [MQTT-3.5.2-1]", V5, []byte{0x50, 3, 0, 1, 0x92}, pro},
		{"pubrel-code-0x10 [MQTT-3.6.2-1]", V5, []byte{0x62, 3, 0, 1, 0x10}, pro},
		{"pubcomp-code-0x80 [MQTT-3.7.2-1]", V5, []byte{0x70, 3, 0, 1, 0x80}, pro},
		{"puback-prop-not-allowed", V5, pk(0x40, u16(1), []byte{0}, props(pU32(PropSessionExpiry, 1))), mal},
		{"puback-reason-string-twice", V5, pk(0x40, u16(1), []byte{0}, props(pStr(PropReasonString, "a"), pStr(PropReasonString, "b"))), pro},
		{"puback-props-beyond-body", V5, []byte{0x40, 5, 0, 1, 0, 5, 0x1F}, mal},
		{"puback-trailing-after-props", V5, pk(0x40, u16(1), []byte{0}, props(), []byte{0}), mal},
	}
}

func malformedSubscriptions() []bad {
	return []bad{
		{"subscribe-no-filter [MQTT-3.8.3-3]", V311, pk(0x82, u16(1)), pro},
		{"subscribe-v5-no-filter [MQTT-3.8.3-2]", V5, pk(0x82, u16(1), props()), pro},
		{"subscribe-packet-id-0 [MQTT-2.2.1-3]", V311, pk(0x82, u16(0), str("a"), []byte{0}), pro},
		{"subscribe-v3-reserved-bits [MQTT-3-8.3-4]", V311, pk(0x82, u16(1), str("a"), []byte{0x04}), mal},
		{"subscribe-v3-qos3 [MQTT-3-8.3-4]", V311, pk(0x82, u16(1), str("a"), []byte{0x03}), mal},
		{"subscribe-v5-reserved-bits [MQTT-3.8.3-5]", V5, pk(0x82, u16(1), props(), str("a"), []byte{0x40}), mal},
		{"subscribe-v5-qos3", V5, pk(0x82, u16(1), props(), str("a"), []byte{0x03}), pro},
		{"subscribe-v5-retain-handling-3", V5, pk(0x82, u16(1), props(), str("a"), []byte{0x30}), pro},
		{"subscribe-v5-no-local-shared [MQTT-3.8.3-4]", V5, pk(0x82, u16(1), props(), str("$share/g/a"), []byte{0x04}), pro},
		{"subscribe-v5-two-subscription-ids", V5, pk(0x82, u16(1), props(pSubID(1), pSubID(2)), str("a"), []byte{0}), pro},
		{"subscribe-v5-subscription-id-0", V5, pk(0x82, u16(1), props(pSubID(0)), str("a"), []byte{0}), pro},
		{"subscribe-v5-prop-not-allowed", V5, pk(0x82, u16(1), props(pStr(PropReasonString, "r")), str("a"), []byte{0}), mal},
		{"subscribe-filter-bad-utf8 [MQTT-3.8.3-1]", V311, pk(0x82, u16(1), str("\xFE"), []byte{0}), mal},
		{"subscribe-options-missing", V311, pk(0x82, u16(1), str("a")), mal},
		{"suback-v3-code-3", V311, []byte{0x90, 3, 0, 1, 3}, pro},
		{"suback-v5-code-3 [MQTT-3.9.3-2]", V5, []byte{0x90, 4, 0, 1, 0, 3}, pro},
		{"suback-no-code", V311, []byte{0x90, 2, 0, 1}, pro},
		{"suback-packet-id-0", V311, []byte{0x90, 3, 0, 0, 0}, pro},
		{"unsubscribe-no-filter [MQTT-3.10.3-2]", V311, pk(0xA2, u16(1)), pro},
		{"unsubscribe-v5-no-filter [MQTT-3.10.3-2]", V5, pk(0xA2, u16(1), props()), pro},
		{"unsubscribe-packet-id-0", V311, pk(0xA2, u16(0), str("a")), pro},
		{"unsubscribe-filter-truncated", V311, pk(0xA2, u16(1), u16(4), []byte("ab")), mal},
		{"unsubscribe-v5-prop-not-allowed", V5, pk(0xA2, u16(1), props(pStr(PropReasonString, "r")), str("a")), mal},
		{"unsuback-v3-trailing", V311, []byte{0xB0, 3, 0, 1, 0}, mal},
		{"unsuback-v5-no-code", V5, []byte{0xB0, 3, 0, 1, 0}, pro},
		{"unsuback-v5-code-1 [MQTT-3.11.3-2]", V5, []byte{0xB0, 4, 0, 1, 0, 1}, pro},
	}
}

func malformedTails() []bad {
	return []bad{
		{"disconnect-code-1 [MQTT-3.14.2-1]", V5, []byte{0xE0, 1, 0x01}, pro},
		{"disconnect-prop-not-allowed", V5, pk(0xE0, []byte{0}, props(pU16(PropTopicAlias, 1))), mal},
		{"disconnect-props-truncated", V5, []byte{0xE0, 3, 0, 4, 0x11}, mal},
		{"disconnect-trailing", V5, pk(0xE0, []byte{0}, props(), []byte{1}), mal},
		{"auth-code-1 [MQTT-3.15.2-1]", V5, []byte{0xF0, 1, 0x01}, pro},
		{"auth-prop-not-allowed", V5, pk(0xF0, []byte{0x18}, props(pU32(PropSessionExpiry, 1))), mal},
		{"auth-method-twice", V5, pk(0xF0, []byte{0x18}, props(pStr(PropAuthMethod, "a"), pStr(PropAuthMethod, "a"))), pro},
	}
}

func TestPacketMalformed(t *testing.T) {
	for _, c := range allMalformed() {
		t.Run(c.name, func(t *testing.T) {
			err := decodeRaw(c.raw, c.version)
			t.Logf("%v", err)
			wantCode(t, "decode "+c.name, err, c.want)
			if !errors.Is(err, c.want) {
				t.Fatalf("errors.Is(%v, %v) = false", err, c.want)
			}
		})
	}
}

// TestPacketMalformedConnectFields checks that an unsupported protocol still
// reports the name and level, so the broker can answer in the right format.
func TestPacketMalformedConnectFields(t *testing.T) {
	raw := pk(0x10, str("MQTT"), []byte{7, 2}, u16(0), str("c"))
	fh, body := split(t, raw)
	var p Connect
	err := DecodeConnect(fh, body, &p)
	wantCode(t, "DecodeConnect level 7", err, UnsupportedProtocolVersion)
	if p.ProtocolName != "MQTT" || p.ProtocolVersion != 7 {
		t.Fatalf("name %q level %d, want MQTT 7", p.ProtocolName, p.ProtocolVersion)
	}
}

// TestPacketMalformedWrongDecoder checks that decoders refuse another type.
func TestPacketMalformedWrongDecoder(t *testing.T) {
	fh := FixedHeader{Type: PUBACK, Remaining: 2}
	body := []byte{0, 1}
	checks := map[string]error{
		"connect":   DecodeConnect(fh, body, &Connect{}),
		"publish":   DecodePublish(fh, body, V311, &Publish{}),
		"subscribe": DecodeSubscribe(fh, body, V311, &Subscribe{}),
		"ack":       DecodeAck(FixedHeader{Type: SUBACK, Remaining: 2}, body, V311, &Ack{}),
		"auth":      DecodeAuth(fh, body, V5, &Auth{}),
		"body-len":  DecodeAck(FixedHeader{Type: PUBACK, Remaining: 3}, body, V311, &Ack{}),
	}
	for name, err := range checks {
		wantCode(t, name, err, MalformedPacket)
	}
}
