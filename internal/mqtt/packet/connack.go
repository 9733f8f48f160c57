package packet

import "slices"

// DecodeConnack decodes a CONNACK body into p. In 3.1.1 and 5 bits 7-1 of
// the acknowledge flags are reserved [MQTT-3.2.2-1]; in 3.1 the whole byte is
// unused and ignored. Session Present with a failure code is a Protocol Error
// [MQTT-3.2.2-6]. v3 return codes above 5 and v5 codes outside Table 3-1
// [MQTT-3.2.2-8] are Protocol Errors.
func DecodeConnack(fh FixedHeader, body []byte, version byte, p *Connack) error {
	if err := checkBody(fh, CONNACK, body); err != nil {
		return err
	}
	if err := checkVersion(version); err != nil {
		return err
	}
	r := reader{b: body}
	flags, _ := r.u8()
	code, err := r.u8()
	if err != nil {
		return err
	}
	if err := p.set(flags, ReasonCode(code), version); err != nil {
		return err
	}
	if version == V5 {
		if err := p.Props.read(&r, CONNACK); err != nil {
			return err
		}
	} else {
		p.Props.Reset()
	}
	return r.end()
}

// set applies and checks the flags and the code.
func (p *Connack) set(flags byte, code ReasonCode, version byte) error {
	if version == V31 {
		flags = 0
	}
	if flags&0xFE != 0 {
		return malformed("CONNACK reserved flags 0x%02x [MQTT-3.2.2-1]", flags)
	}
	p.SessionPresent, p.ReasonCode = flags == 1, code
	return p.check(version)
}

// check validates the code and its pairing with Session Present.
func (p *Connack) check(version byte) error {
	if version < V5 && p.ReasonCode > V3NotAuthorized {
		return protocolErr("CONNACK return code 0x%02x", byte(p.ReasonCode))
	}
	if version == V5 {
		if err := checkCode(CONNACK, p.ReasonCode); err != nil {
			return err
		}
	}
	if p.SessionPresent && p.ReasonCode != Success {
		return protocolErr("Session Present with a failure code [MQTT-3.2.2-6]")
	}
	return nil
}

// Type returns CONNACK.
func (p *Connack) Type() Type { return CONNACK }

// Size returns the encoded length of p at protocol level version, fixed
// header included.
func (p *Connack) Size(version byte) int {
	n, _ := p.remaining(version)
	return totalSize(n)
}

// Append encodes p for protocol level version and appends it to dst. For
// 3.1/3.1.1 a v5 failure code (0x80 and above) is mapped with V3ConnackCode;
// v5-only properties are dropped. Session Present is sent only with Success
// [MQTT-3.2.2-6] and never in 3.1.
func (p *Connack) Append(dst []byte, version byte) ([]byte, error) {
	n, err := p.remaining(version)
	if err != nil {
		return dst, err
	}
	c := p.wire(version)
	dst = slices.Grow(dst, totalSize(n))
	dst = appendHeader(dst, byte(CONNACK)<<4, n)
	dst = append(dst, boolBit(c.SessionPresent, 1), byte(c.ReasonCode))
	if version == V5 {
		dst = p.Props.appendContent(AppendVarint(dst, p.Props.mustLen(CONNACK)), CONNACK)
	}
	return dst, nil
}

// wire returns the flags and code as sent at version.
func (p *Connack) wire(version byte) Connack {
	c := Connack{SessionPresent: p.SessionPresent && p.ReasonCode == Success, ReasonCode: p.ReasonCode}
	if version < V5 && c.ReasonCode.IsError() {
		c.ReasonCode = V3ConnackCode(c.ReasonCode)
	}
	if version == V31 {
		c.SessionPresent = false
	}
	return c
}

func (p *Connack) remaining(version byte) (int, error) {
	if err := checkVersion(version); err != nil {
		return 0, err
	}
	c := p.wire(version)
	if err := c.check(version); err != nil {
		return 0, err
	}
	if version < V5 {
		return 2, nil
	}
	l, err := sectionLen(&p.Props, CONNACK)
	if err != nil {
		return 0, err
	}
	return checkRemaining(2 + l)
}
