// Package packet is the MQTT 3.1, 3.1.1 and 5.0 codec: the fixed header,
// variable byte integers, properties and all 15 control packets, with the
// validation rules of both specifications. It imports only the standard
// library and knows nothing of the broker.
//
// # Decoding
//
// The caller frames packets with ParseFixedHeader and hands the body (exactly
// FixedHeader.Remaining bytes) to the decoder for that type:
//
//	fh, n, err := packet.ParseFixedHeader(buf) // ErrShortBuffer: read more
//	body := buf[n : n+fh.Remaining]
//	err = packet.DecodePublish(fh, body, version, &pub)
//
// version is the protocol level of the connection (V31, V311 or V5); any
// other value yields ErrUnsupportedProtocolVersion. DecodeConnect takes the
// level from the packet instead, and reports an unknown protocol name or
// level as ErrUnsupportedProtocolVersion with ProtocolName and
// ProtocolVersion filled in, so the broker can answer with CONNACK 0x84 (v5)
// or 0x01 (v3).
//
// Decoders fill a caller-owned struct and alias the body for []byte fields
// (the capacity of each alias is clipped to its length); strings are copied
// and empty fields are nil. Decoding into a reused struct reuses the capacity
// of SubscriptionIDs, User, Subscriptions, Filters and ReasonCodes, so a
// steady stream of PUBLISH packets decodes without allocating. Clone makes a
// Connect, Publish or Properties independent of the buffer. Decode is the
// allocating, type-switching convenience and ReadPacket reads one packet from
// an io.Reader.
//
// # Errors
//
// A packet that breaks a rule yields an error that wraps a ReasonCode: use
// errors.As to get it, or errors.Is with ErrMalformed (0x81), ErrProtocol
// (0x82), ErrUnsupportedProtocolVersion (0x84) or ErrPacketTooLarge (0x95).
// For v5 the broker sends the code in CONNACK or DISCONNECT; for v3 it closes
// the connection. Each rule is tagged in the code with its conformance
// statement, e.g. [MQTT-3.3.1-4]. Framing rules (reserved flags, variable
// byte integers that are too long or not minimal, lengths running past the
// body, trailing bytes, ill-formed UTF-8 or U+0000, properties not allowed in
// the packet type) are Malformed; values that parse but are not allowed
// (packet identifier 0, duplicated single-valued properties, out-of-range
// property values, reason codes not listed for the packet type, empty
// SUBSCRIBE/UNSUBSCRIBE, Retain Handling 3) are Protocol Errors.
//
// Rules that need more than one packet or depend on the direction or the
// session are the broker's: topic name and filter syntax (the topic
// package), Topic Alias mapping and maximum, a Subscription Identifier in a
// PUBLISH from a client [MQTT-3.3.4-6], Session Expiry in a server's
// DISCONNECT [MQTT-3.14.2-2], Payload Format Indicator 1 with a payload that
// is not UTF-8 [MQTT-3.3.2-4], Receive Maximum, Maximum Packet Size and
// client identifier rules.
//
// # Encoding
//
// Every packet struct has Append(dst, version) and Size(version), the full
// encoded length including the fixed header, so a sender can check a peer's
// Maximum Packet Size before writing. Append allocates nothing when dst has
// room, and refuses (leaving dst as it was) what the decoders would reject.
// It writes only the properties valid for the packet type, and for 3.1/3.1.1
// drops what the level cannot carry: properties, acknowledgement and
// DISCONNECT reason codes, UNSUBACK codes; v5 failure codes in CONNACK and
// SUBACK are mapped to their v3 equivalents. v5 acknowledgements, DISCONNECT
// and AUTH use the short forms when the code is Success and there are no
// properties [MQTT-3.4.2.1] [MQTT-3.14.2.1].
package packet
