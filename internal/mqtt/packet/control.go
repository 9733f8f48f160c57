package packet

import "slices"

// DecodePingreq validates a PINGREQ: flags 0000 and no body [MQTT-3.12].
func DecodePingreq(fh FixedHeader, body []byte, version byte, p *Pingreq) error {
	return checkEmpty(fh, PINGREQ, body, version)
}

// DecodePingresp validates a PINGRESP: flags 0000 and no body [MQTT-3.13].
func DecodePingresp(fh FixedHeader, body []byte, version byte, p *Pingresp) error {
	return checkEmpty(fh, PINGRESP, body, version)
}

// checkEmpty validates a packet that has no variable header or payload.
func checkEmpty(fh FixedHeader, t Type, body []byte, version byte) error {
	if err := checkBody(fh, t, body); err != nil {
		return err
	}
	if err := checkVersion(version); err != nil {
		return err
	}
	if len(body) != 0 {
		return malformed("%s with a %d-byte body", t, len(body))
	}
	return nil
}

// Type returns PINGREQ.
func (p *Pingreq) Type() Type { return PINGREQ }

// Size returns 2.
func (p *Pingreq) Size(version byte) int { return 2 }

// Append appends a PINGREQ.
func (p *Pingreq) Append(dst []byte, version byte) ([]byte, error) {
	return appendEmpty(dst, PINGREQ, version)
}

// Type returns PINGRESP.
func (p *Pingresp) Type() Type { return PINGRESP }

// Size returns 2.
func (p *Pingresp) Size(version byte) int { return 2 }

// Append appends a PINGRESP.
func (p *Pingresp) Append(dst []byte, version byte) ([]byte, error) {
	return appendEmpty(dst, PINGRESP, version)
}

func appendEmpty(dst []byte, t Type, version byte) ([]byte, error) {
	if err := checkVersion(version); err != nil {
		return dst, err
	}
	return append(dst, byte(t)<<4, 0), nil
}

// DecodeDisconnect decodes a DISCONNECT body into p. In v3 the body must be
// empty. In v5 a Remaining Length of 0 means Normal disconnection, and the
// Property Length is absent when it is below 2 [MQTT-3.14.2.1]; the code must
// be one of the DISCONNECT reason codes [MQTT-3.14.2-1].
func DecodeDisconnect(fh FixedHeader, body []byte, version byte, p *Disconnect) error {
	return decodeTail(fh, DISCONNECT, body, version, &p.ReasonCode, &p.Props)
}

// DecodeAuth decodes an AUTH body into p; AUTH exists only in v5 and is
// malformed (reserved packet type 15) before. A Remaining Length of 0 means
// Success with no properties; the code must be 0x00, 0x18 or 0x19
// [MQTT-3.15.2-1]. A body of the Reason Code alone is accepted.
func DecodeAuth(fh FixedHeader, body []byte, version byte, p *Auth) error {
	if version != V5 && checkVersion(version) == nil {
		return malformed("AUTH before MQTT 5")
	}
	return decodeTail(fh, AUTH, body, version, &p.ReasonCode, &p.Props)
}

// decodeTail decodes DISCONNECT and AUTH, whose whole body is the optional
// Reason Code and properties.
func decodeTail(fh FixedHeader, t Type, body []byte, version byte, code *ReasonCode, props *Properties) error {
	if err := checkBody(fh, t, body); err != nil {
		return err
	}
	if err := checkVersion(version); err != nil {
		return err
	}
	*code = Success
	props.Reset()
	r := reader{b: body}
	if version == V5 {
		if err := readCodeAndProps(&r, t, code, props); err != nil {
			return err
		}
	}
	return r.end()
}

// Type returns DISCONNECT.
func (p *Disconnect) Type() Type { return DISCONNECT }

// Size returns the encoded length of p at protocol level version, fixed
// header included.
func (p *Disconnect) Size(version byte) int {
	n, _, _ := tailLen(DISCONNECT, p.ReasonCode, &p.Props, version)
	return totalSize(n)
}

// Append encodes p for protocol level version and appends it to dst. v3
// writes the two-byte packet. v5 leaves out the Reason Code and properties
// when the code is Normal disconnection and there are no properties, and the
// Property Length alone when there are no properties [MQTT-3.14.2.1].
func (p *Disconnect) Append(dst []byte, version byte) ([]byte, error) {
	return appendTail(dst, DISCONNECT, p.ReasonCode, &p.Props, version)
}

// Type returns AUTH.
func (p *Auth) Type() Type { return AUTH }

// Size returns the encoded length of p, fixed header included.
func (p *Auth) Size(version byte) int {
	n, _, _ := tailLen(AUTH, p.ReasonCode, &p.Props, V5)
	return totalSize(n)
}

// Append encodes p and appends it to dst. AUTH exists only in v5: other
// versions yield ErrProtocol. The Reason Code and Property Length are left
// out when the code is Success and there are no properties [MQTT-3.15.2.1].
func (p *Auth) Append(dst []byte, version byte) ([]byte, error) {
	if version != V5 {
		return dst, protocolErr("AUTH at protocol level %d", version)
	}
	return appendTail(dst, AUTH, p.ReasonCode, &p.Props, version)
}

func appendTail(dst []byte, t Type, code ReasonCode, props *Properties, version byte) ([]byte, error) {
	n, plen, err := tailLen(t, code, props, version)
	if err != nil {
		return dst, err
	}
	dst = slices.Grow(dst, totalSize(n))
	return appendCodeAndProps(appendHeader(dst, byte(t)<<4, n), n, byte(code), props, t, plen), nil
}

// tailLen validates DISCONNECT or AUTH and returns its Remaining Length and
// property length. AUTH never drops the Property Length alone.
func tailLen(t Type, code ReasonCode, props *Properties, version byte) (n, plen int, err error) {
	if err := checkVersion(version); err != nil || version < V5 {
		return 0, 0, err
	}
	return codeAndPropsLen(t, code, props, t == DISCONNECT)
}
