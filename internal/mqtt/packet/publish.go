package packet

import "slices"

// PUBLISH fixed header flags [MQTT-3.3.1].
const (
	flagDup    = 0x08
	flagRetain = 0x01
)

// DecodePublish decodes a PUBLISH body into p. Topic, Payload and the []byte
// properties alias body; SubscriptionIDs and User reuse p's capacity, so
// decoding into a reused p does not allocate. The fixed header flags give DUP,
// QoS and RETAIN (QoS 3 and DUP on QoS 0 are malformed). The Topic Name must
// be UTF-8 without U+0000 [MQTT-3.3.2-1]; it may be empty only in v5 with a
// Topic Alias. Wildcards in it [MQTT-3.3.2-2] are left to the topic package.
func DecodePublish(fh FixedHeader, body []byte, version byte, p *Publish) error {
	if err := checkBody(fh, PUBLISH, body); err != nil {
		return err
	}
	if err := checkVersion(version); err != nil {
		return err
	}
	p.Dup, p.QoS, p.Retain = fh.Flags&flagDup != 0, fh.Flags>>1&3, fh.Flags&flagRetain != 0
	r := reader{b: body}
	var err error
	if p.Topic, err = r.utf8(); err != nil {
		return err
	}
	if err = p.readRest(&r, version); err != nil {
		return err
	}
	if len(p.Topic) == 0 && !p.Props.Has(PropTopicAlias) {
		return errEmptyTopic
	}
	return nil
}

// readRest reads the Packet Identifier (QoS > 0 only [MQTT-2.2.1-2]), the
// properties and the payload.
func (p *Publish) readRest(r *reader, version byte) error {
	p.PacketID = 0
	if p.QoS > 0 {
		id, err := r.packetID()
		if err != nil {
			return err
		}
		p.PacketID = id
	}
	if version == V5 {
		if err := p.Props.read(r, PUBLISH); err != nil {
			return err
		}
	} else {
		p.Props.Reset()
	}
	p.Payload = r.rest()
	return nil
}

// Type returns PUBLISH.
func (p *Publish) Type() Type { return PUBLISH }

// Size returns the encoded length of p at protocol level version, fixed
// header included.
func (p *Publish) Size(version byte) int {
	n, _, _ := p.remaining(version)
	return totalSize(n)
}

// Append encodes p for protocol level version and appends it to dst, without
// allocating when dst has room. v5 writes the properties valid in PUBLISH;
// 3.1/3.1.1 drop them.
func (p *Publish) Append(dst []byte, version byte) ([]byte, error) {
	n, plen, err := p.remaining(version)
	if err != nil {
		return dst, err
	}
	dst = slices.Grow(dst, totalSize(n))
	first := byte(PUBLISH)<<4 | boolBit(p.Dup, flagDup) | p.QoS<<1 | boolBit(p.Retain, flagRetain)
	dst = appendBinary(appendHeader(dst, first, n), p.Topic)
	if p.QoS > 0 {
		dst = appendU16(dst, p.PacketID)
	}
	if version == V5 {
		dst = p.Props.appendContent(AppendVarint(dst, plen), PUBLISH)
	}
	return append(dst, p.Payload...), nil
}

// remaining validates p and returns its Remaining Length and the length of
// its properties (v5).
func (p *Publish) remaining(version byte) (n, plen int, err error) {
	if err = p.check(version); err != nil {
		return 0, 0, err
	}
	n = 2 + len(p.Topic) + len(p.Payload)
	if p.QoS > 0 {
		n += 2
	}
	if version == V5 {
		if plen, err = p.Props.contentLen(PUBLISH); err != nil {
			return 0, 0, err
		}
		n += VarintSize(plen) + plen
	}
	n, err = checkRemaining(n)
	return n, plen, err
}

// check applies the rules the decoder enforces, so that what Append writes
// decodes.
func (p *Publish) check(version byte) error {
	if err := checkVersion(version); err != nil {
		return err
	}
	switch {
	case p.QoS > 2:
		return malformed("PUBLISH QoS %d [MQTT-3.3.1-4]", p.QoS)
	case p.Dup && p.QoS == 0:
		return malformed("PUBLISH DUP set on QoS 0 [MQTT-3.3.1-2]")
	case p.QoS > 0 && p.PacketID == 0:
		return errPacketIDZero
	case len(p.Topic) > 0xFFFF:
		return errFieldTooLong
	case len(p.Topic) == 0 && (version < V5 || !p.Props.Has(PropTopicAlias)):
		return errEmptyTopic
	}
	return nil
}
