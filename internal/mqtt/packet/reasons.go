package packet

// codeSet is a set of reason code values.
type codeSet [4]uint64

func (s *codeSet) has(r ReasonCode) bool { return s[r>>6]&(1<<(r&63)) != 0 }

func codes(rs ...ReasonCode) codeSet {
	var s codeSet
	for _, r := range rs {
		s[r>>6] |= 1 << (r & 63)
	}
	return s
}

// validCodes[t] lists the MQTT 5 reason codes packet type t may carry: Table
// 3-1 (CONNACK) [MQTT-3.2.2-8], PUBACK [MQTT-3.4.2-1], PUBREC [MQTT-3.5.2-1],
// PUBREL [MQTT-3.6.2-1], PUBCOMP [MQTT-3.7.2-1], SUBACK [MQTT-3.9.3-2],
// UNSUBACK [MQTT-3.11.3-2], DISCONNECT [MQTT-3.14.2-1] and AUTH [MQTT-3.15.2-1].
var validCodes = [16]codeSet{
	CONNACK: codes(Success, UnspecifiedError, MalformedPacket, ProtocolError, ImplementationSpecificError,
		UnsupportedProtocolVersion, ClientIdentifierNotValid, BadUsernameOrPassword, NotAuthorized,
		ServerUnavailable, ServerBusy, Banned, BadAuthenticationMethod, TopicNameInvalid, PacketTooLarge,
		QuotaExceeded, PayloadFormatInvalid, RetainNotSupported, QoSNotSupported, UseAnotherServer,
		ServerMoved, ConnectionRateExceeded),
	PUBACK:  pubCodes,
	PUBREC:  pubCodes,
	PUBREL:  codes(Success, PacketIdentifierNotFound),
	PUBCOMP: codes(Success, PacketIdentifierNotFound),
	SUBACK: codes(Success, GrantedQoS1, GrantedQoS2, UnspecifiedError, ImplementationSpecificError,
		NotAuthorized, TopicFilterInvalid, PacketIdentifierInUse, QuotaExceeded, SharedSubsNotSupported,
		SubscriptionIDsNotSupported, WildcardSubsNotSupported),
	UNSUBACK: codes(Success, NoSubscriptionExisted, UnspecifiedError, ImplementationSpecificError,
		NotAuthorized, TopicFilterInvalid, PacketIdentifierInUse),
	DISCONNECT: codes(Success, DisconnectWithWill, UnspecifiedError, MalformedPacket, ProtocolError,
		ImplementationSpecificError, NotAuthorized, ServerBusy, ServerShuttingDown, KeepAliveTimeout,
		SessionTakenOver, TopicFilterInvalid, TopicNameInvalid, ReceiveMaximumExceeded, TopicAliasInvalid,
		PacketTooLarge, MessageRateTooHigh, QuotaExceeded, AdministrativeAction, PayloadFormatInvalid,
		RetainNotSupported, QoSNotSupported, UseAnotherServer, ServerMoved, SharedSubsNotSupported,
		ConnectionRateExceeded, MaximumConnectTime, SubscriptionIDsNotSupported, WildcardSubsNotSupported),
	AUTH: codes(Success, ContinueAuthentication, ReAuthenticate),
}

var pubCodes = codes(Success, NoMatchingSubscribers, UnspecifiedError, ImplementationSpecificError,
	NotAuthorized, TopicNameInvalid, PacketIdentifierInUse, QuotaExceeded, PayloadFormatInvalid)

// v3SubackCodes are the SUBACK return codes of MQTT 3.1.1 [MQTT-3.9.3-2]:
// granted QoS 0, 1, 2 or 0x80 failure.
var v3SubackCodes = codes(0x00, 0x01, 0x02, 0x80)

// ValidFor reports whether r is one of the MQTT 5 reason codes packet type t
// may carry. Packets without a reason code accept none.
func (r ReasonCode) ValidFor(t Type) bool {
	return t <= AUTH && validCodes[t].has(r)
}

// checkCode returns a Protocol Error when r is not valid for t in v5.
func checkCode(t Type, r ReasonCode) error {
	if !validCodes[t].has(r) {
		return protocolErr("reason code 0x%02x not allowed in %s", byte(r), t)
	}
	return nil
}

// V3ConnackCode maps an MQTT 5 CONNACK reason code to the closest MQTT
// 3.1/3.1.1 return code: Success to Accepted, 0x84 to 0x01 (unacceptable
// protocol version), 0x85 to 0x02 (identifier rejected), 0x86 and 0x8C to
// 0x04 (bad user name or password), 0x87 and 0x8A to 0x05 (not authorized),
// and every other failure to 0x03 (server unavailable). A code that already
// is a v3 return code (0x00-0x05) is returned as is.
func V3ConnackCode(rc ReasonCode) ReasonCode {
	switch rc {
	case UnsupportedProtocolVersion:
		return V3UnacceptableProtocolVersion
	case ClientIdentifierNotValid:
		return V3IdentifierRejected
	case BadUsernameOrPassword, BadAuthenticationMethod:
		return V3BadUsernameOrPassword
	case NotAuthorized, Banned:
		return V3NotAuthorized
	}
	if rc <= V3NotAuthorized {
		return rc
	}
	return V3ServerUnavailable
}
