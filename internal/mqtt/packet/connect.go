package packet

import "slices"

// Connect flag bits [MQTT-3.1.2.3].
const (
	flagReserved   = 0x01
	flagCleanStart = 0x02
	flagWill       = 0x04
	flagWillQoS    = 0x18
	flagWillRetain = 0x20
	flagPassword   = 0x40
	flagUsername   = 0x80
)

// Protocol names [MQTT-3.1.2-1].
const (
	nameMQTT   = "MQTT"
	nameMQIsdp = "MQIsdp"
)

// DecodeConnect decodes a CONNECT body into p. The protocol level comes from
// the body: "MQIsdp" with level 3, "MQTT" with 4 or 5. Any other name or level
// yields an error wrapping ErrUnsupportedProtocolVersion with ProtocolName and
// ProtocolVersion filled in, so the broker can answer CONNACK 0x84 (v5) or
// 0x01 (v3) [MQTT-3.1.2-1] [MQTT-3.1.2-2].
func DecodeConnect(fh FixedHeader, body []byte, p *Connect) error {
	if err := checkBody(fh, CONNECT, body); err != nil {
		return err
	}
	*p = Connect{Props: p.Props, WillProps: p.WillProps}
	p.Props.Reset()
	p.WillProps.Reset()
	r := reader{b: body}
	if err := p.readHeader(&r); err != nil {
		return err
	}
	if err := p.readPayload(&r); err != nil {
		return err
	}
	return r.end()
}

// readHeader reads the variable header: protocol name and level, flags, Keep
// Alive and, in v5, the properties.
func (p *Connect) readHeader(r *reader) error {
	if err := p.readProtocol(r); err != nil {
		return err
	}
	flags, err := r.u8()
	if err != nil {
		return err
	}
	if err := p.setFlags(flags); err != nil {
		return err
	}
	if p.KeepAlive, err = r.u16(); err != nil {
		return err
	}
	if p.ProtocolVersion != V5 {
		return nil
	}
	if err := p.Props.read(r, CONNECT); err != nil {
		return err
	}
	if p.Props.Has(PropAuthData) && !p.Props.Has(PropAuthMethod) {
		// MQTT 5 section 3.1.2.11.10.
		return protocolErr("Authentication Data without Authentication Method")
	}
	return nil
}

// readProtocol reads and checks the protocol name and level.
func (p *Connect) readProtocol(r *reader) error {
	name, err := r.utf8()
	if err != nil {
		return err
	}
	p.ProtocolVersion, err = r.u8()
	if err != nil {
		return err
	}
	switch {
	case string(name) == nameMQTT && (p.ProtocolVersion == V311 || p.ProtocolVersion == V5):
		p.ProtocolName = nameMQTT
	case string(name) == nameMQIsdp && p.ProtocolVersion == V31:
		p.ProtocolName = nameMQIsdp
	default:
		p.ProtocolName = string(name)
		return badVersion(p.ProtocolVersion)
	}
	return nil
}

// setFlags applies the Connect Flags and checks their rules.
func (p *Connect) setFlags(f byte) error {
	if f&flagReserved != 0 {
		return malformed("CONNECT reserved flag set [MQTT-3.1.2-3]")
	}
	p.CleanStart = f&flagCleanStart != 0
	p.WillFlag = f&flagWill != 0
	p.WillQoS = f & flagWillQoS >> 3
	p.WillRetain = f&flagWillRetain != 0
	p.PasswordFlag = f&flagPassword != 0
	p.UsernameFlag = f&flagUsername != 0
	return p.checkFlags()
}

// checkFlags checks the will and credential flag rules, shared by the decoder
// and the encoder.
func (p *Connect) checkFlags() error {
	switch {
	case p.WillQoS > 2:
		return malformed("Will QoS %d [MQTT-3.1.2-12]", p.WillQoS)
	case !p.WillFlag && p.WillQoS != 0:
		return malformed("Will QoS %d without the Will Flag [MQTT-3.1.2-11] [MQTT-3.1.2-13]", p.WillQoS)
	case !p.WillFlag && p.WillRetain:
		return malformed("Will Retain without the Will Flag [MQTT-3.1.2-11] [MQTT-3.1.2-15]")
	case p.PasswordFlag && !p.UsernameFlag && p.ProtocolVersion < V5:
		// MQTT 3.1.1 [MQTT-3.1.2-22]; MQTT 5 allows a password alone.
		return protocolErr("Password Flag without User Name Flag [MQTT-3.1.2-22]")
	}
	return nil
}

// readPayload reads the Client Identifier, the will, the user name and the
// password, in that order [MQTT-3.1.3-1].
func (p *Connect) readPayload(r *reader) error {
	var err error
	if p.ClientID, err = r.str(); err != nil {
		return err
	}
	if p.WillFlag {
		if err = p.readWill(r); err != nil {
			return err
		}
	}
	if p.UsernameFlag {
		if p.Username, err = r.str(); err != nil {
			return err
		}
	}
	if p.PasswordFlag {
		p.Password, err = r.binary()
	}
	return err
}

// readWill reads the Will Properties (v5), Will Topic and Will Payload.
func (p *Connect) readWill(r *reader) error {
	var err error
	if p.ProtocolVersion == V5 {
		if err = p.WillProps.read(r, willProps); err != nil {
			return err
		}
	}
	if p.WillTopic, err = r.str(); err != nil {
		return err
	}
	p.WillPayload, err = r.binary()
	return err
}

// Type returns CONNECT.
func (p *Connect) Type() Type { return CONNECT }

// Size returns the encoded length of p at protocol level version, fixed
// header included. It assumes p is encodable; Append reports when it is not.
func (p *Connect) Size(version byte) int {
	n, _ := p.remaining(version)
	return totalSize(n)
}

// Append encodes p for protocol level version and appends it to dst. The
// protocol name and level come from version, not from p.ProtocolName and
// p.ProtocolVersion. A non-empty Username or Password sets its flag; the will
// is encoded when WillFlag is set. Properties are written for v5 only, and
// only those valid in a CONNECT (or in the Will Properties).
func (p *Connect) Append(dst []byte, version byte) ([]byte, error) {
	n, err := p.remaining(version)
	if err != nil {
		return dst, err
	}
	dst = slices.Grow(dst, totalSize(n))
	dst = appendHeader(dst, byte(CONNECT)<<4, n)
	dst = appendString(dst, protocolName(version))
	dst = append(dst, version, p.flags())
	dst = appendU16(dst, p.KeepAlive)
	if version == V5 {
		dst = p.Props.appendContent(AppendVarint(dst, p.Props.mustLen(CONNECT)), CONNECT)
	}
	return p.appendPayload(dst, version), nil
}

func protocolName(version byte) string {
	if version == V31 {
		return nameMQIsdp
	}
	return nameMQTT
}

// flags builds the Connect Flags byte.
func (p *Connect) flags() byte {
	f := boolBit(p.CleanStart, flagCleanStart) | boolBit(p.hasUsername(), flagUsername) |
		boolBit(p.hasPassword(), flagPassword)
	if p.WillFlag {
		f |= flagWill | p.WillQoS<<3 | boolBit(p.WillRetain, flagWillRetain)
	}
	return f
}

func (p *Connect) hasUsername() bool { return p.UsernameFlag || p.Username != "" }
func (p *Connect) hasPassword() bool { return p.PasswordFlag || len(p.Password) > 0 }

func (p *Connect) appendPayload(dst []byte, version byte) []byte {
	dst = appendString(dst, p.ClientID)
	if p.WillFlag {
		if version == V5 {
			dst = p.WillProps.appendContent(AppendVarint(dst, p.WillProps.mustLen(willProps)), willProps)
		}
		dst = appendBinary(appendString(dst, p.WillTopic), p.WillPayload)
	}
	if p.hasUsername() {
		dst = appendString(dst, p.Username)
	}
	if p.hasPassword() {
		dst = appendBinary(dst, p.Password)
	}
	return dst
}

// remaining validates p for encoding and returns its Remaining Length.
func (p *Connect) remaining(version byte) (int, error) {
	if err := checkVersion(version); err != nil {
		return 0, err
	}
	c := *p // check the flags as they will be sent
	c.ProtocolVersion, c.UsernameFlag, c.PasswordFlag = version, p.hasUsername(), p.hasPassword()
	if !c.WillFlag {
		c.WillQoS, c.WillRetain = 0, false
	}
	if err := c.checkFlags(); err != nil {
		return 0, err
	}
	if version == V5 && p.Props.Has(PropAuthData) && !p.Props.Has(PropAuthMethod) {
		return 0, protocolErr("Authentication Data without Authentication Method")
	}
	n := 2 + len(protocolName(version)) + 4 + 2 + len(p.ClientID)
	if !fits(p.ClientID, p.Username, p.WillTopic) || len(p.Password) > 0xFFFF || len(p.WillPayload) > 0xFFFF {
		return 0, errFieldTooLong
	}
	return p.addOptional(n, version)
}

// addOptional adds the properties, will and credentials to n.
func (p *Connect) addOptional(n int, version byte) (int, error) {
	if version == V5 {
		l, err := sectionLen(&p.Props, CONNECT)
		if err != nil {
			return 0, err
		}
		n += l
	}
	if p.WillFlag {
		n += 4 + len(p.WillTopic) + len(p.WillPayload)
		if version == V5 {
			l, err := sectionLen(&p.WillProps, willProps)
			if err != nil {
				return 0, err
			}
			n += l
		}
	}
	n += optLen(p.hasUsername(), len(p.Username)) + optLen(p.hasPassword(), len(p.Password))
	return checkRemaining(n)
}

func optLen(present bool, n int) int {
	if present {
		return 2 + n
	}
	return 0
}

// fits reports whether every string fits a UTF-8 Encoded String.
func fits(ss ...string) bool {
	for _, s := range ss {
		if len(s) > 0xFFFF {
			return false
		}
	}
	return true
}

// sectionLen returns the encoded length of a property section, prefix included.
func sectionLen(p *Properties, t Type) (int, error) {
	n, err := p.contentLen(t)
	return VarintSize(n) + n, err
}

// mustLen returns the content length of properties already checked by contentLen.
func (p *Properties) mustLen(t Type) int {
	n, _ := p.contentLen(t)
	return n
}

// checkRemaining rejects a Remaining Length a Variable Byte Integer cannot hold.
func checkRemaining(n int) (int, error) {
	if n > MaxRemaining {
		return 0, errTooLarge
	}
	return n, nil
}
