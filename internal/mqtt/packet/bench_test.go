package packet

import (
	"bytes"
	"testing"
)

// Typical traffic: a sensor reading with a 64-byte payload, and in v5 the
// properties a request/response client and a subscription add.
var (
	benchPayload = bytes.Repeat([]byte("x"), 64)
	benchTopic   = []byte("sensors/building-1/floor-3/temperature")
	benchProps   = Properties{
		Present:       idSet(PropPayloadFormat, PropMessageExpiry, PropContentType, PropResponseTopic, PropCorrelationData),
		PayloadFormat: 1, MessageExpiry: 3600, ContentType: []byte("application/json"),
		ResponseTopic: []byte("replies/client-42"), CorrelationData: []byte("req-0001"),
		SubscriptionIDs: []uint32{42}, User: users("trace-id", "4bf92f3577b34da6", "origin", "edge-7"),
	}
	benchPublishV311 = &Publish{QoS: 1, Topic: benchTopic, PacketID: 1234, Payload: benchPayload}
	benchPublishV5   = &Publish{QoS: 1, Topic: benchTopic, PacketID: 1234, Payload: benchPayload, Props: benchProps}
)

func benchRaw(tb testing.TB, p Packet, version byte) (FixedHeader, []byte) {
	tb.Helper()
	raw, err := p.Append(nil, version)
	if err != nil {
		tb.Fatalf("Append: %v", err)
	}
	fh, n, err := ParseFixedHeader(raw)
	if err != nil {
		tb.Fatalf("ParseFixedHeader: %v", err)
	}
	return fh, raw[n:]
}

func decodePublishFunc(tb testing.TB, version byte, src *Publish) func() {
	fh, body := benchRaw(tb, src, version)
	var p Publish
	return func() {
		if err := DecodePublish(fh, body, version, &p); err != nil {
			tb.Fatalf("DecodePublish: %v", err)
		}
	}
}

func encodePublishFunc(tb testing.TB, version byte, p *Publish) func() {
	buf := make([]byte, 0, 512)
	return func() {
		var err error
		if buf, err = p.Append(buf[:0], version); err != nil {
			tb.Fatalf("Append: %v", err)
		}
	}
}

func runBench(b *testing.B, size int, f func()) {
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		f()
	}
}

func BenchmarkPacketDecodePublishV311(b *testing.B) {
	runBench(b, benchPublishV311.Size(V311), decodePublishFunc(b, V311, benchPublishV311))
}

func BenchmarkPacketDecodePublishV5(b *testing.B) {
	runBench(b, benchPublishV5.Size(V5), decodePublishFunc(b, V5, benchPublishV5))
}

func BenchmarkPacketEncodePublishV311(b *testing.B) {
	runBench(b, benchPublishV311.Size(V311), encodePublishFunc(b, V311, benchPublishV311))
}

func BenchmarkPacketEncodePublishV5(b *testing.B) {
	runBench(b, benchPublishV5.Size(V5), encodePublishFunc(b, V5, benchPublishV5))
}

func BenchmarkPacketDecodeConnectV5(b *testing.B) {
	c := canonByName(b, V5, "connect-full")
	fh, body := benchRaw(b, c.pkt, V5)
	var p Connect
	runBench(b, len(c.raw), func() {
		if err := DecodeConnect(fh, body, &p); err != nil {
			b.Fatalf("DecodeConnect: %v", err)
		}
	})
}

func BenchmarkPacketDecodeSubscribeV5(b *testing.B) {
	c := canonByName(b, V5, "subscribe")
	fh, body := benchRaw(b, c.pkt, V5)
	var p Subscribe
	runBench(b, len(c.raw), func() {
		if err := DecodeSubscribe(fh, body, V5, &p); err != nil {
			b.Fatalf("DecodeSubscribe: %v", err)
		}
	})
}

func BenchmarkPacketParseFixedHeader(b *testing.B) {
	raw, _ := benchPublishV5.Append(nil, V5)
	runBench(b, 0, func() {
		if _, _, err := ParseFixedHeader(raw); err != nil {
			b.Fatalf("ParseFixedHeader: %v", err)
		}
	})
}

// TestPacketZeroAlloc asserts that PUBLISH decoding into a reused struct and
// encoding into a buffer with room allocate nothing, in 3.1.1 and in 5 with
// properties including User Properties and a Subscription Identifier.
func TestPacketZeroAlloc(t *testing.T) {
	cases := map[string]func(){
		"decode-v311": decodePublishFunc(t, V311, benchPublishV311),
		"decode-v5":   decodePublishFunc(t, V5, benchPublishV5),
		"encode-v311": encodePublishFunc(t, V311, benchPublishV311),
		"encode-v5":   encodePublishFunc(t, V5, benchPublishV5),
	}
	for name, f := range cases {
		f() // first decode grows the reused slices
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Fatalf("%s: %v allocations per run, want 0", name, n)
		}
	}
}

// TestPacketAppendNoAlloc checks that encoding any packet into a buffer with
// room allocates nothing.
func TestPacketAppendNoAlloc(t *testing.T) {
	buf := make([]byte, 0, 4096)
	for _, c := range allCanonical() {
		n := testing.AllocsPerRun(20, func() {
			var err error
			if buf, err = c.pkt.Append(buf[:0], c.version); err != nil {
				t.Fatalf("Append %s: %v", c.label(), err)
			}
		})
		if n != 0 {
			t.Fatalf("Append %s: %v allocations, want 0", c.label(), n)
		}
	}
}
