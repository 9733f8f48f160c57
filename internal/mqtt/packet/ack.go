package packet

import "slices"

// DecodeAck decodes a PUBACK, PUBREC, PUBREL or PUBCOMP body into p; fh.Type
// says which. In v3 the body is the Packet Identifier alone. In v5 the Reason
// Code is absent when the Remaining Length is 2 (Success) and the Property
// Length when it is less than 4 [MQTT-3.4.2.1]; the code must be one listed
// for the packet type [MQTT-3.4.2-1] [MQTT-3.5.2-1] [MQTT-3.6.2-1] [MQTT-3.7.2-1].
func DecodeAck(fh FixedHeader, body []byte, version byte, p *Ack) error {
	if fh.Type < PUBACK || fh.Type > PUBCOMP {
		return malformed("%s packet handed to the acknowledgement decoder", fh.Type)
	}
	if err := checkBody(fh, fh.Type, body); err != nil {
		return err
	}
	if err := checkVersion(version); err != nil {
		return err
	}
	p.PacketType, p.ReasonCode = fh.Type, Success
	p.Props.Reset()
	r := reader{b: body}
	var err error
	if p.PacketID, err = r.packetID(); err != nil {
		return err
	}
	if version == V5 {
		if err = readCodeAndProps(&r, fh.Type, &p.ReasonCode, &p.Props); err != nil {
			return err
		}
	}
	return r.end()
}

// readCodeAndProps reads the optional Reason Code and property section that
// end acknowledgements, DISCONNECT and AUTH in v5: each is omitted when
// nothing follows.
func readCodeAndProps(r *reader, t Type, code *ReasonCode, props *Properties) error {
	if r.left() == 0 {
		return nil
	}
	c, _ := r.u8()
	*code = ReasonCode(c)
	if err := checkCode(t, *code); err != nil {
		return err
	}
	if r.left() == 0 {
		return nil
	}
	return props.read(r, t)
}

// Type returns p.PacketType.
func (p *Ack) Type() Type { return p.PacketType }

// Size returns the encoded length of p at protocol level version, fixed
// header included.
func (p *Ack) Size(version byte) int {
	n, _, _ := p.remaining(version)
	return totalSize(n)
}

// Append encodes p for protocol level version and appends it to dst. v3
// writes the Packet Identifier only. v5 leaves out the Reason Code and the
// Property Length when the code is Success and there are no properties, and
// the Property Length alone when there are no properties [MQTT-3.4.2.1].
func (p *Ack) Append(dst []byte, version byte) ([]byte, error) {
	n, plen, err := p.remaining(version)
	if err != nil {
		return dst, err
	}
	dst = slices.Grow(dst, totalSize(n))
	dst = appendU16(appendHeader(dst, byte(p.PacketType)<<4|fixedFlags[p.PacketType], n), p.PacketID)
	return appendCodeAndProps(dst, n-2, byte(p.ReasonCode), &p.Props, p.PacketType, plen), nil
}

// appendCodeAndProps appends the trailing Reason Code and properties: tail
// is their encoded length, 0, 1 or more.
func appendCodeAndProps(dst []byte, tail int, code byte, props *Properties, t Type, plen int) []byte {
	if tail == 0 {
		return dst
	}
	dst = append(dst, code)
	if tail == 1 {
		return dst
	}
	return props.appendContent(AppendVarint(dst, plen), t)
}

// remaining validates p and returns its Remaining Length and property length.
func (p *Ack) remaining(version byte) (n, plen int, err error) {
	switch {
	case p.PacketType < PUBACK || p.PacketType > PUBCOMP:
		return 0, 0, malformed("acknowledgement of type %s", p.PacketType)
	case p.PacketID == 0:
		return 0, 0, errPacketIDZero
	}
	if err := checkVersion(version); err != nil {
		return 0, 0, err
	}
	if version < V5 {
		return 2, 0, nil
	}
	tail, plen, err := codeAndPropsLen(p.PacketType, p.ReasonCode, &p.Props, true)
	if err != nil {
		return 0, 0, err
	}
	n, err = checkRemaining(2 + tail)
	return n, plen, err
}

// codeAndPropsLen validates a v5 trailing Reason Code and properties and
// returns their encoded length and the property length. canShorten allows
// sending the code without a Property Length when there are no properties.
func codeAndPropsLen(t Type, code ReasonCode, props *Properties, canShorten bool) (tail, plen int, err error) {
	if err := checkCode(t, code); err != nil {
		return 0, 0, err
	}
	if plen, err = props.contentLen(t); err != nil {
		return 0, 0, err
	}
	switch {
	case plen == 0 && code == Success:
		return 0, 0, nil
	case plen == 0 && canShorten:
		return 1, 0, nil
	}
	tail, err = checkRemaining(1 + VarintSize(plen) + plen)
	return tail, plen, err
}
