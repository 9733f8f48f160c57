package packet

import (
	"bytes"
	"fmt"
	"math/bits"
)

// propKind is the wire data type of a property [MQTT-2.2.2.2].
type propKind uint8

const (
	kindNone   propKind = iota // not a property identifier
	kindByte                   // Byte
	kindU16                    // Two Byte Integer
	kindU32                    // Four Byte Integer
	kindVarint                 // Variable Byte Integer (Subscription Identifier)
	kindString                 // UTF-8 Encoded String
	kindBinary                 // Binary Data
	kindPair                   // UTF-8 String Pair (User Property)
)

var propKinds = [64]propKind{
	PropPayloadFormat: kindByte, PropMessageExpiry: kindU32, PropContentType: kindString,
	PropResponseTopic: kindString, PropCorrelationData: kindBinary, PropSubscriptionID: kindVarint,
	PropSessionExpiry: kindU32, PropAssignedClientID: kindString, PropServerKeepAlive: kindU16,
	PropAuthMethod: kindString, PropAuthData: kindBinary, PropRequestProblemInfo: kindByte,
	PropWillDelay: kindU32, PropRequestResponseInfo: kindByte, PropResponseInfo: kindString,
	PropServerReference: kindString, PropReasonString: kindString, PropReceiveMaximum: kindU16,
	PropTopicAliasMaximum: kindU16, PropTopicAlias: kindU16, PropMaximumQoS: kindByte,
	PropRetainAvailable: kindByte, PropUser: kindPair, PropMaximumPacketSize: kindU32,
	PropWildcardSubAvailable: kindByte, PropSubIDAvailable: kindByte, PropSharedSubAvailable: kindByte,
}

// willProps indexes propAllowed for the Will Properties of a CONNECT payload.
// Packet type 0 is reserved, so the slot is free; Properties.Size and Append
// accept it too.
const willProps Type = 0

// propAllowed[t] is the set of property identifiers (bit 1<<id) that packet
// type t may carry, from the table in [MQTT-2.2.2.2]. Any other identifier is
// a Malformed Packet [MQTT-2.2.2-2].
var propAllowed = [16]uint64{
	willProps: idSet(PropPayloadFormat, PropMessageExpiry, PropContentType, PropResponseTopic,
		PropCorrelationData, PropWillDelay, PropUser),
	CONNECT: idSet(PropSessionExpiry, PropAuthMethod, PropAuthData, PropRequestProblemInfo,
		PropRequestResponseInfo, PropReceiveMaximum, PropTopicAliasMaximum, PropUser, PropMaximumPacketSize),
	CONNACK: idSet(PropSessionExpiry, PropAssignedClientID, PropServerKeepAlive, PropAuthMethod,
		PropAuthData, PropResponseInfo, PropServerReference, PropReasonString, PropReceiveMaximum,
		PropTopicAliasMaximum, PropMaximumQoS, PropRetainAvailable, PropUser, PropMaximumPacketSize,
		PropWildcardSubAvailable, PropSubIDAvailable, PropSharedSubAvailable),
	PUBLISH: idSet(PropPayloadFormat, PropMessageExpiry, PropContentType, PropResponseTopic,
		PropCorrelationData, PropSubscriptionID, PropTopicAlias, PropUser),
	PUBACK:      idSet(PropReasonString, PropUser),
	PUBREC:      idSet(PropReasonString, PropUser),
	PUBREL:      idSet(PropReasonString, PropUser),
	PUBCOMP:     idSet(PropReasonString, PropUser),
	SUBSCRIBE:   idSet(PropSubscriptionID, PropUser),
	SUBACK:      idSet(PropReasonString, PropUser),
	UNSUBSCRIBE: idSet(PropUser),
	UNSUBACK:    idSet(PropReasonString, PropUser),
	DISCONNECT:  idSet(PropSessionExpiry, PropServerReference, PropReasonString, PropUser),
	AUTH:        idSet(PropAuthMethod, PropAuthData, PropReasonString, PropUser),
}

// multiValued are the identifiers kept in slices rather than the Present mask.
const multiValued = 1<<PropSubscriptionID | 1<<PropUser

func idSet(ids ...PropID) uint64 {
	var s uint64
	for _, id := range ids {
		s |= 1 << id
	}
	return s
}

// PropAllowed reports whether property id may appear in a packet of type t
// [MQTT-2.2.2.2]; t == 0 stands for the Will Properties of a CONNECT.
func PropAllowed(t Type, id PropID) bool {
	return t <= AUTH && id < 64 && propAllowed[t]&(1<<id) != 0
}

// Reset clears every property and keeps the capacity of SubscriptionIDs and
// User for reuse.
func (p *Properties) Reset() {
	*p = Properties{SubscriptionIDs: p.SubscriptionIDs[:0], User: p.User[:0]}
}

// read decodes a property section, the Property Length and the properties,
// into p, which is reset first.
func (p *Properties) read(r *reader, t Type) error {
	n, err := r.varint()
	if err != nil {
		return err
	}
	b, err := r.take(n)
	if err != nil {
		return err
	}
	p.Reset()
	pr := reader{b: b}
	for pr.left() > 0 {
		if err := p.readOne(&pr, t); err != nil {
			return err
		}
	}
	return nil
}

// readOne decodes one property. Payload Format Indicator 1 with a payload
// that is not UTF-8 is not checked here: the broker does that for PUBLISH and
// the will [MQTT-3.3.2-4], since it may choose not to.
func (p *Properties) readOne(r *reader, t Type) error {
	v, err := r.varint()
	if err != nil {
		return err
	}
	if v >= 64 || propAllowed[t]&(1<<v) == 0 {
		return malformed("property 0x%02x not allowed in %s [MQTT-2.2.2-2]", v, propContext(t))
	}
	id := PropID(v)
	switch propKinds[id] {
	case kindByte:
		return p.readByte(r, id)
	case kindU16:
		return p.readU16(r, id)
	case kindU32:
		return p.readU32(r, id)
	case kindVarint:
		return p.readSubID(r, t)
	case kindPair:
		return p.readUser(r)
	}
	return p.readBytes(r, id)
}

func propContext(t Type) string {
	if t == willProps {
		return "Will Properties"
	}
	return t.String()
}

// once marks single-valued property id present; a second occurrence is a
// Protocol Error (each property table says "more than once").
func (p *Properties) once(id PropID) error {
	if p.Has(id) {
		return protocolErr("property 0x%02x included more than once", byte(id))
	}
	p.Set(id)
	return nil
}

// readByte reads a Byte property. Every one of them is a 0/1 flag (Payload
// Format Indicator, Request Problem/Response Information, Maximum QoS, the
// four "available" flags); any other value is a Protocol Error.
func (p *Properties) readByte(r *reader, id PropID) error {
	v, err := r.u8()
	if err != nil {
		return err
	}
	if v > 1 {
		return protocolErr("property 0x%02x value %d, want 0 or 1", byte(id), v)
	}
	*p.byteField(id) = v
	return p.once(id)
}

// readU16 reads a Two Byte Integer property. Receive Maximum 0 is a
// Protocol Error; Topic Alias 0 [MQTT-3.3.2-8] is one that the receiver
// answers with 0x94 Topic Alias invalid (section 3.3.4).
func (p *Properties) readU16(r *reader, id PropID) error {
	v, err := r.u16()
	if err != nil {
		return err
	}
	if v == 0 && id == PropTopicAlias {
		return fmt.Errorf("%w: Topic Alias 0 [MQTT-3.3.2-8]", TopicAliasInvalid)
	}
	if v == 0 && id == PropReceiveMaximum {
		return protocolErr("property 0x%02x value 0", byte(id))
	}
	*p.u16Field(id) = v
	return p.once(id)
}

// readU32 reads a Four Byte Integer property; Maximum Packet Size 0 is a
// Protocol Error.
func (p *Properties) readU32(r *reader, id PropID) error {
	v, err := r.u32()
	if err != nil {
		return err
	}
	if v == 0 && id == PropMaximumPacketSize {
		return protocolErr("Maximum Packet Size 0")
	}
	*p.u32Field(id) = v
	return p.once(id)
}

// readBytes reads a UTF-8 string or Binary Data property. A Response Topic
// (PUBLISH and Will Properties) with a wildcard is a Protocol Error
// [MQTT-3.3.2-14]: it names the topic of a response, never a filter.
func (p *Properties) readBytes(r *reader, id PropID) error {
	var v []byte
	var err error
	if propKinds[id] == kindString {
		v, err = r.utf8()
	} else {
		v, err = r.binary()
	}
	if err != nil {
		return err
	}
	if id == PropResponseTopic && bytes.ContainsAny(v, "+#") {
		return protocolErr("Response Topic %q has a wildcard [MQTT-3.3.2-14]", v)
	}
	*p.bytesField(id) = v
	return p.once(id)
}

// readSubID reads a Subscription Identifier: 1 to 268,435,455, and at most
// one in a SUBSCRIBE; 0 or a second one there is a Protocol Error [MQTT-3.8.2.1.2].
func (p *Properties) readSubID(r *reader, t Type) error {
	v, err := r.varint()
	if err != nil {
		return err
	}
	if v == 0 {
		return protocolErr("Subscription Identifier 0")
	}
	if t == SUBSCRIBE && len(p.SubscriptionIDs) > 0 {
		return protocolErr("more than one Subscription Identifier in SUBSCRIBE")
	}
	p.SubscriptionIDs = append(p.SubscriptionIDs, uint32(v))
	return nil
}

// readUser reads a User Property, a UTF-8 String Pair [MQTT-1.5.7-1].
func (p *Properties) readUser(r *reader) error {
	k, err := r.utf8()
	if err != nil {
		return err
	}
	v, err := r.utf8()
	if err != nil {
		return err
	}
	p.User = append(p.User, UserProperty{Key: k, Value: v})
	return nil
}

func (p *Properties) byteField(id PropID) *byte {
	switch id {
	case PropPayloadFormat:
		return &p.PayloadFormat
	case PropRequestProblemInfo:
		return &p.RequestProblemInfo
	case PropRequestResponseInfo:
		return &p.RequestResponseInfo
	case PropMaximumQoS:
		return &p.MaximumQoS
	case PropRetainAvailable:
		return &p.RetainAvailable
	case PropWildcardSubAvailable:
		return &p.WildcardSubAvailable
	case PropSubIDAvailable:
		return &p.SubIDAvailable
	}
	return &p.SharedSubAvailable
}

func (p *Properties) u16Field(id PropID) *uint16 {
	switch id {
	case PropServerKeepAlive:
		return &p.ServerKeepAlive
	case PropReceiveMaximum:
		return &p.ReceiveMaximum
	case PropTopicAliasMaximum:
		return &p.TopicAliasMaximum
	}
	return &p.TopicAlias
}

func (p *Properties) u32Field(id PropID) *uint32 {
	switch id {
	case PropMessageExpiry:
		return &p.MessageExpiry
	case PropSessionExpiry:
		return &p.SessionExpiry
	case PropWillDelay:
		return &p.WillDelay
	}
	return &p.MaximumPacketSize
}

func (p *Properties) bytesField(id PropID) *[]byte {
	switch id {
	case PropContentType:
		return &p.ContentType
	case PropResponseTopic:
		return &p.ResponseTopic
	case PropCorrelationData:
		return &p.CorrelationData
	case PropAssignedClientID:
		return &p.AssignedClientID
	case PropAuthMethod:
		return &p.AuthMethod
	case PropAuthData:
		return &p.AuthData
	case PropResponseInfo:
		return &p.ResponseInfo
	case PropServerReference:
		return &p.ServerReference
	}
	return &p.ReasonString
}

// Size returns the encoded length of the property section for packet type t:
// the Property Length and the properties valid for t (t == 0: Will
// Properties). Properties not valid for t are not counted.
func (p *Properties) Size(t Type) int {
	n, _ := p.contentLen(t)
	return VarintSize(n) + n
}

// Append appends the property section for packet type t, writing only the
// properties valid for t: single-valued ones in identifier order, then the
// Subscription Identifiers, then the User Properties in their order
// [MQTT-3.3.2-18]. It fails when a string or binary value is longer than
// 65535 bytes or a Subscription Identifier is out of range.
func (p *Properties) Append(dst []byte, t Type) ([]byte, error) {
	n, err := p.contentLen(t)
	if err != nil {
		return dst, err
	}
	return p.appendContent(AppendVarint(dst, n), t), nil
}

// contentLen returns the length of the properties valid for t, without the
// Property Length, and checks that each value can be encoded.
func (p *Properties) contentLen(t Type) (int, error) {
	if p.Empty() || t > AUTH {
		return 0, nil
	}
	n := 0
	for m := p.Present & propAllowed[t] &^ multiValued; m != 0; m &= m - 1 {
		l, err := p.valueLen(PropID(bits.TrailingZeros64(m)))
		if err != nil {
			return 0, err
		}
		n += 1 + l
	}
	return p.multiLen(t, n)
}

// multiLen adds the Subscription Identifiers and User Properties to n.
func (p *Properties) multiLen(t Type, n int) (int, error) {
	if propAllowed[t]&(1<<PropSubscriptionID) != 0 {
		for _, id := range p.SubscriptionIDs {
			if id == 0 || id > MaxRemaining {
				return 0, fmt.Errorf("%w: Subscription Identifier %d out of range", ErrProtocol, id)
			}
			n += 1 + VarintSize(int(id))
		}
	}
	if propAllowed[t]&(1<<PropUser) == 0 {
		return n, nil
	}
	for _, u := range p.User {
		if len(u.Key) > 0xFFFF || len(u.Value) > 0xFFFF {
			return 0, errFieldTooLong
		}
		n += 5 + len(u.Key) + len(u.Value)
	}
	if n > MaxRemaining {
		return 0, errTooLarge
	}
	return n, nil
}

// valueLen returns the encoded length of single-valued property id's value.
func (p *Properties) valueLen(id PropID) (int, error) {
	switch propKinds[id] {
	case kindByte:
		return 1, nil
	case kindU16:
		return 2, nil
	case kindU32:
		return 4, nil
	}
	v := *p.bytesField(id)
	if len(v) > 0xFFFF {
		return 0, errFieldTooLong
	}
	return 2 + len(v), nil
}

// appendContent appends the properties valid for t; contentLen has checked them.
func (p *Properties) appendContent(dst []byte, t Type) []byte {
	if p.Empty() || t > AUTH {
		return dst
	}
	for m := p.Present & propAllowed[t] &^ multiValued; m != 0; m &= m - 1 {
		dst = p.appendValue(dst, PropID(bits.TrailingZeros64(m)))
	}
	if propAllowed[t]&(1<<PropSubscriptionID) != 0 {
		for _, id := range p.SubscriptionIDs {
			dst = AppendVarint(append(dst, byte(PropSubscriptionID)), int(id))
		}
	}
	if propAllowed[t]&(1<<PropUser) == 0 {
		return dst
	}
	for _, u := range p.User {
		dst = appendBinary(appendBinary(append(dst, byte(PropUser)), u.Key), u.Value)
	}
	return dst
}

// appendValue appends single-valued property id and its value.
func (p *Properties) appendValue(dst []byte, id PropID) []byte {
	dst = append(dst, byte(id))
	switch propKinds[id] {
	case kindByte:
		return append(dst, *p.byteField(id))
	case kindU16:
		return appendU16(dst, *p.u16Field(id))
	case kindU32:
		return appendU32(dst, *p.u32Field(id))
	}
	return appendBinary(dst, *p.bytesField(id))
}
