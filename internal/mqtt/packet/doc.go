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
// Decoders fill a caller-owned struct and alias the body for []byte fields,
// so decoding a PUBLISH into a reused struct does not allocate. Decode is the
// allocating, type-switching convenience. A malformed packet yields an error
// that wraps a ReasonCode (ErrMalformed 0x81, ErrProtocol 0x82, ...): for v5
// the broker sends it in CONNACK or DISCONNECT, for v3 it closes the
// connection. Each normative rule is tagged with its conformance statement,
// e.g. [MQTT-3.3.2-2].
//
// # Encoding
//
// Every packet struct has Append(dst, version) and Size(version), the full
// encoded length including the fixed header, so a sender can check a peer's
// Maximum Packet Size before writing. Encoding allocates nothing when dst has
// room.
package packet
