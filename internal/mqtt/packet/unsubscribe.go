package packet

import "slices"

// DecodeUnsubscribe decodes an UNSUBSCRIBE body into p, reusing the capacity
// of p.Filters. It needs at least one Topic Filter [MQTT-3.10.3-2].
func DecodeUnsubscribe(fh FixedHeader, body []byte, version byte, p *Unsubscribe) error {
	r, err := startIDPacket(fh, UNSUBSCRIBE, body, version, &p.PacketID, &p.Props)
	if err != nil {
		return err
	}
	p.Filters = p.Filters[:0]
	for r.left() > 0 {
		f, err := r.str() // [MQTT-3.10.3-1]
		if err != nil {
			return err
		}
		p.Filters = append(p.Filters, f)
	}
	if len(p.Filters) == 0 {
		return protocolErr("UNSUBSCRIBE without a topic filter [MQTT-3.10.3-2]")
	}
	return nil
}

// Type returns UNSUBSCRIBE.
func (p *Unsubscribe) Type() Type { return UNSUBSCRIBE }

// Size returns the encoded length of p at protocol level version, fixed
// header included.
func (p *Unsubscribe) Size(version byte) int {
	n, _ := p.remaining(version)
	return totalSize(n)
}

// Append encodes p for protocol level version and appends it to dst.
func (p *Unsubscribe) Append(dst []byte, version byte) ([]byte, error) {
	n, err := p.remaining(version)
	if err != nil {
		return dst, err
	}
	dst = slices.Grow(dst, totalSize(n))
	dst = appendIDAndProps(dst, UNSUBSCRIBE, n, p.PacketID, &p.Props, version)
	for _, f := range p.Filters {
		dst = appendString(dst, f)
	}
	return dst, nil
}

func (p *Unsubscribe) remaining(version byte) (int, error) {
	n, err := idAndPropsLen(UNSUBSCRIBE, p.PacketID, &p.Props, version)
	if err != nil {
		return 0, err
	}
	if len(p.Filters) == 0 {
		return 0, protocolErr("UNSUBSCRIBE without a topic filter [MQTT-3.10.3-2]")
	}
	for _, f := range p.Filters {
		if len(f) > 0xFFFF {
			return 0, errFieldTooLong
		}
		n += 2 + len(f)
	}
	return checkRemaining(n)
}

// DecodeUnsuback decodes an UNSUBACK body into p. In v3 the body is the
// Packet Identifier alone; in v5 properties and at least one reason code from
// the UNSUBACK list [MQTT-3.11.3-2] follow.
func DecodeUnsuback(fh FixedHeader, body []byte, version byte, p *Unsuback) error {
	r, err := startIDPacket(fh, UNSUBACK, body, version, &p.PacketID, &p.Props)
	if err != nil {
		return err
	}
	p.ReasonCodes = p.ReasonCodes[:0]
	if version < V5 {
		return r.end()
	}
	p.ReasonCodes, err = readCodes(&r, UNSUBACK, version, p.ReasonCodes)
	return err
}

// Type returns UNSUBACK.
func (p *Unsuback) Type() Type { return UNSUBACK }

// Size returns the encoded length of p at protocol level version, fixed
// header included.
func (p *Unsuback) Size(version byte) int {
	n, _ := listRemaining(UNSUBACK, p.PacketID, &p.Props, p.ReasonCodes, version)
	return totalSize(n)
}

// Append encodes p for protocol level version and appends it to dst; v3
// writes the Packet Identifier only.
func (p *Unsuback) Append(dst []byte, version byte) ([]byte, error) {
	return appendList(dst, UNSUBACK, p.PacketID, &p.Props, p.ReasonCodes, version)
}
