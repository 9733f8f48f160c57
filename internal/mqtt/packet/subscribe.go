package packet

import (
	"slices"
	"strings"
)

// Subscription Options bits [MQTT-3.8.3.1].
const (
	optQoS               = 0x03
	optNoLocal           = 0x04
	optRetainAsPublished = 0x08
	optRetainHandling    = 0x30
	optReservedV5        = 0xC0
	optReservedV3        = 0xFC
)

// sharedPrefix starts a Shared Subscription filter [MQTT-4.8.2].
const sharedPrefix = "$share/"

// DecodeSubscribe decodes a SUBSCRIBE body into p, reusing the capacity of
// p.Subscriptions. Filters are copied strings; checking their wildcards is
// left to the topic package.
func DecodeSubscribe(fh FixedHeader, body []byte, version byte, p *Subscribe) error {
	r, err := startIDPacket(fh, SUBSCRIBE, body, version, &p.PacketID, &p.Props)
	if err != nil {
		return err
	}
	p.Subscriptions = p.Subscriptions[:0]
	for r.left() > 0 {
		s, err := readSubscription(&r, version)
		if err != nil {
			return err
		}
		p.Subscriptions = append(p.Subscriptions, s)
	}
	if len(p.Subscriptions) == 0 {
		// v5 [MQTT-3.8.3-2], 3.1.1 [MQTT-3.8.3-3].
		return protocolErr("SUBSCRIBE without a topic filter [MQTT-3.8.3-3]")
	}
	return nil
}

// startIDPacket runs the checks common to packets that start with a Packet
// Identifier and, in v5, properties, and reads those two fields.
func startIDPacket(fh FixedHeader, t Type, body []byte, version byte, id *uint16, props *Properties) (reader, error) {
	r := reader{b: body}
	if err := checkBody(fh, t, body); err != nil {
		return r, err
	}
	if err := checkVersion(version); err != nil {
		return r, err
	}
	var err error
	if *id, err = r.packetID(); err != nil {
		return r, err
	}
	if version == V5 {
		return r, props.read(&r, t)
	}
	props.Reset()
	return r, nil
}

// readSubscription reads one Topic Filter and its options.
func readSubscription(r *reader, version byte) (Subscription, error) {
	filter, err := r.str()
	if err != nil {
		return Subscription{}, err
	}
	opts, err := r.u8()
	if err != nil {
		return Subscription{}, err
	}
	s := Subscription{Filter: filter, QoS: opts & optQoS}
	if version < V5 {
		return s, checkV3Options(opts)
	}
	s.NoLocal, s.RetainAsPublished = opts&optNoLocal != 0, opts&optRetainAsPublished != 0
	s.RetainHandling = opts & optRetainHandling >> 4
	return s, checkV5Options(opts, &s)
}

// checkV3Options: reserved bits set or QoS 3 is malformed (3.1.1 [MQTT-3-8.3-4]).
func checkV3Options(opts byte) error {
	if opts&optReservedV3 != 0 || opts&optQoS == 3 {
		return malformed("SUBSCRIBE requested QoS byte 0x%02x [MQTT-3-8.3-4]", opts)
	}
	return nil
}

// checkV5Options: reserved bits are malformed [MQTT-3.8.3-5]; QoS 3, Retain
// Handling 3 and No Local on a Shared Subscription [MQTT-3.8.3-4] are
// Protocol Errors.
func checkV5Options(opts byte, s *Subscription) error {
	switch {
	case opts&optReservedV5 != 0:
		return malformed("subscription options reserved bits 0x%02x [MQTT-3.8.3-5]", opts)
	case s.QoS == 3:
		return protocolErr("subscription Maximum QoS 3")
	case s.RetainHandling == 3:
		return protocolErr("subscription Retain Handling 3")
	case s.NoLocal && strings.HasPrefix(s.Filter, sharedPrefix):
		return protocolErr("No Local on a Shared Subscription [MQTT-3.8.3-4]")
	}
	return nil
}

// Type returns SUBSCRIBE.
func (p *Subscribe) Type() Type { return SUBSCRIBE }

// Size returns the encoded length of p at protocol level version, fixed
// header included.
func (p *Subscribe) Size(version byte) int {
	n, _ := p.remaining(version)
	return totalSize(n)
}

// Append encodes p for protocol level version and appends it to dst. v3
// writes the requested QoS alone for each filter.
func (p *Subscribe) Append(dst []byte, version byte) ([]byte, error) {
	n, err := p.remaining(version)
	if err != nil {
		return dst, err
	}
	dst = slices.Grow(dst, totalSize(n))
	dst = appendIDAndProps(dst, SUBSCRIBE, n, p.PacketID, &p.Props, version)
	for i := range p.Subscriptions {
		s := &p.Subscriptions[i]
		dst = append(appendString(dst, s.Filter), s.options(version))
	}
	return dst, nil
}

// appendIDAndProps appends the fixed header, the Packet Identifier and, in
// v5, the properties (already checked).
func appendIDAndProps(dst []byte, t Type, n int, id uint16, props *Properties, version byte) []byte {
	dst = appendU16(appendHeader(dst, byte(t)<<4|fixedFlags[t], n), id)
	if version == V5 {
		dst = props.appendContent(AppendVarint(dst, props.mustLen(t)), t)
	}
	return dst
}

// options builds the Subscription Options byte.
func (s *Subscription) options(version byte) byte {
	if version < V5 {
		return s.QoS
	}
	return s.QoS | boolBit(s.NoLocal, optNoLocal) | boolBit(s.RetainAsPublished, optRetainAsPublished) |
		s.RetainHandling<<4
}

func (p *Subscribe) remaining(version byte) (int, error) {
	n, err := idAndPropsLen(SUBSCRIBE, p.PacketID, &p.Props, version)
	if err != nil {
		return 0, err
	}
	if len(p.Subscriptions) == 0 {
		return 0, protocolErr("SUBSCRIBE without a topic filter [MQTT-3.8.3-3]")
	}
	if version == V5 && len(p.Props.SubscriptionIDs) > 1 {
		return 0, protocolErr("more than one Subscription Identifier in SUBSCRIBE")
	}
	for i := range p.Subscriptions {
		s := &p.Subscriptions[i]
		if err := s.check(version); err != nil {
			return 0, err
		}
		n += 3 + len(s.Filter)
	}
	return checkRemaining(n)
}

// check applies the decoder's option rules to s.
func (s *Subscription) check(version byte) error {
	if len(s.Filter) > 0xFFFF {
		return errFieldTooLong
	}
	if s.QoS > 3 || s.RetainHandling > 3 {
		return malformed("subscription QoS %d, Retain Handling %d", s.QoS, s.RetainHandling)
	}
	if version < V5 {
		return checkV3Options(s.QoS)
	}
	return checkV5Options(s.options(version), s)
}

// idAndPropsLen validates the Packet Identifier and, in v5, the properties,
// and returns the length of those two fields.
func idAndPropsLen(t Type, id uint16, props *Properties, version byte) (int, error) {
	if err := checkVersion(version); err != nil {
		return 0, err
	}
	if id == 0 {
		return 0, errPacketIDZero
	}
	if version < V5 {
		return 2, nil
	}
	l, err := sectionLen(props, t)
	return 2 + l, err
}

// DecodeSuback decodes a SUBACK body into p, reusing p.ReasonCodes. v3 codes
// must be 0, 1, 2 or 0x80 (3.1.1 [MQTT-3.9.3-2]); v5 codes those of Table
// 3-10 [MQTT-3.9.3-2]. At least one code is required.
func DecodeSuback(fh FixedHeader, body []byte, version byte, p *Suback) error {
	r, err := startIDPacket(fh, SUBACK, body, version, &p.PacketID, &p.Props)
	if err != nil {
		return err
	}
	p.ReasonCodes, err = readCodes(&r, SUBACK, version, p.ReasonCodes[:0])
	return err
}

// readCodes reads the reason code list that ends SUBACK and UNSUBACK.
func readCodes(r *reader, t Type, version byte, dst []ReasonCode) ([]ReasonCode, error) {
	for r.left() > 0 {
		c, _ := r.u8()
		if err := checkListCode(t, version, ReasonCode(c)); err != nil {
			return dst, err
		}
		dst = append(dst, ReasonCode(c))
	}
	if len(dst) == 0 {
		return dst, protocolErr("%s without a reason code", t)
	}
	return dst, nil
}

func checkListCode(t Type, version byte, c ReasonCode) error {
	if version == V5 {
		return checkCode(t, c)
	}
	if !v3SubackCodes.has(c) {
		return protocolErr("SUBACK return code 0x%02x [MQTT-3.9.3-2]", byte(c))
	}
	return nil
}

// Type returns SUBACK.
func (p *Suback) Type() Type { return SUBACK }

// Size returns the encoded length of p at protocol level version, fixed
// header included.
func (p *Suback) Size(version byte) int {
	n, _ := listRemaining(SUBACK, p.PacketID, &p.Props, p.ReasonCodes, version)
	return totalSize(n)
}

// Append encodes p for protocol level version and appends it to dst. For v3
// every failure code (0x80 and above) is sent as 0x80.
func (p *Suback) Append(dst []byte, version byte) ([]byte, error) {
	return appendList(dst, SUBACK, p.PacketID, &p.Props, p.ReasonCodes, version)
}

// appendList encodes SUBACK and v5 UNSUBACK.
func appendList(dst []byte, t Type, id uint16, props *Properties, rcs []ReasonCode, version byte) ([]byte, error) {
	n, err := listRemaining(t, id, props, rcs, version)
	if err != nil {
		return dst, err
	}
	dst = slices.Grow(dst, totalSize(n))
	dst = appendIDAndProps(dst, t, n, id, props, version)
	if t == UNSUBACK && version < V5 {
		return dst, nil
	}
	for _, c := range rcs {
		dst = append(dst, byte(wireListCode(c, version)))
	}
	return dst, nil
}

// wireListCode maps a SUBACK code to v3: failures become 0x80.
func wireListCode(c ReasonCode, version byte) ReasonCode {
	if version < V5 && c.IsError() {
		return UnspecifiedError
	}
	return c
}

// listRemaining validates SUBACK or UNSUBACK and returns its Remaining Length.
func listRemaining(t Type, id uint16, props *Properties, rcs []ReasonCode, version byte) (int, error) {
	n, err := idAndPropsLen(t, id, props, version)
	if err != nil || (t == UNSUBACK && version < V5) {
		return n, err
	}
	if len(rcs) == 0 {
		return 0, protocolErr("%s without a reason code", t)
	}
	for _, c := range rcs {
		if err := checkListCode(t, version, wireListCode(c, version)); err != nil {
			return 0, err
		}
	}
	return checkRemaining(n + len(rcs))
}
