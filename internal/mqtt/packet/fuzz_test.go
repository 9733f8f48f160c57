package packet

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Fuzz targets: every decoder must survive any input without panicking, fail
// only with an error wrapping a ReasonCode, and whatever decodes must
// re-encode, decode to the same struct and re-encode to the same bytes.
//
// Each per-decoder target takes (version, first, body): version%3 picks 3.1,
// 3.1.1 or 5, first is the fixed header's first byte (its high nibble picks
// the type where a target covers several), body is the whole body.
// Seed corpora under testdata/fuzz are generated from the canonical and
// malformed tables: go test -run TestPacketFuzzCorpus -update-fuzz-corpus.

var updateFuzzCorpus = flag.Bool("update-fuzz-corpus", false, "rewrite testdata/fuzz seed corpora")

func fuzzVersion(v byte) byte { return V31 + v%3 }

// roundTrip decodes a packet and, when that succeeds, checks the round trip.
func roundTrip(t *testing.T, fh FixedHeader, body []byte, version byte) {
	p, err := Decode(fh, body, version)
	if err != nil {
		var rc ReasonCode
		if !errors.As(err, &rc) || !rc.IsError() {
			t.Fatalf("Decode error %v wraps no failure reason code", err)
		}
		return
	}
	if c, ok := p.(*Connect); ok {
		version = c.ProtocolVersion
	}
	enc, err := p.Append(nil, version)
	if err != nil {
		t.Fatalf("re-encoding decoded %+v: %v", p, err)
	}
	if p.Size(version) != len(enc) {
		t.Fatalf("Size %d, Append wrote %d", p.Size(version), len(enc))
	}
	checkReencode(t, p, enc, version)
}

// checkReencode decodes enc, compares with p and encodes again.
func checkReencode(t *testing.T, p Packet, enc []byte, version byte) {
	fh, n, err := ParseFixedHeader(enc)
	if err != nil || n+fh.Remaining != len(enc) {
		t.Fatalf("framing our encoding % x: %v", enc, err)
	}
	p2, err := Decode(fh, enc[n:], version)
	if err != nil {
		t.Fatalf("decoding our encoding % x of %+v: %v", enc, p, err)
	}
	if !reflect.DeepEqual(p, p2) {
		t.Fatalf("round trip changed the packet:\n was %+v\n now %+v", p, p2)
	}
	enc2, err := p2.Append(nil, version)
	if err != nil || !bytes.Equal(enc, enc2) {
		t.Fatalf("second encoding differs: % x vs % x (%v)", enc, enc2, err)
	}
}

// fuzzDecoder runs roundTrip for packet types chosen by pick.
func fuzzDecoder(f *testing.F, pick func(first byte) Type) {
	f.Fuzz(func(t *testing.T, version, first byte, body []byte) {
		fh := FixedHeader{Type: pick(first), Flags: first & 0x0F, Remaining: len(body)}
		roundTrip(t, fh, body, fuzzVersion(version))
	})
}

func only(t Type) func(byte) Type { return func(byte) Type { return t } }

func FuzzDecodeConnect(f *testing.F)     { fuzzDecoder(f, only(CONNECT)) }
func FuzzDecodeConnack(f *testing.F)     { fuzzDecoder(f, only(CONNACK)) }
func FuzzDecodePublish(f *testing.F)     { fuzzDecoder(f, only(PUBLISH)) }
func FuzzDecodeSubscribe(f *testing.F)   { fuzzDecoder(f, only(SUBSCRIBE)) }
func FuzzDecodeSuback(f *testing.F)      { fuzzDecoder(f, only(SUBACK)) }
func FuzzDecodeUnsubscribe(f *testing.F) { fuzzDecoder(f, only(UNSUBSCRIBE)) }
func FuzzDecodeUnsuback(f *testing.F)    { fuzzDecoder(f, only(UNSUBACK)) }
func FuzzDecodeDisconnect(f *testing.F)  { fuzzDecoder(f, only(DISCONNECT)) }
func FuzzDecodeAuth(f *testing.F)        { fuzzDecoder(f, only(AUTH)) }

// FuzzDecodeAck covers PUBACK, PUBREC, PUBREL and PUBCOMP.
func FuzzDecodeAck(f *testing.F) {
	fuzzDecoder(f, func(first byte) Type { return PUBACK + Type(first>>4)%4 })
}

// FuzzDecodePing covers PINGREQ and PINGRESP.
func FuzzDecodePing(f *testing.F) {
	fuzzDecoder(f, func(first byte) Type { return PINGREQ + Type(first>>4)%2 })
}

// FuzzDecode covers any type through Decode, reserved ones included.
func FuzzDecode(f *testing.F) {
	fuzzDecoder(f, func(first byte) Type { return Type(first >> 4) })
}

func FuzzParseFixedHeader(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		fh, n, err := ParseFixedHeader(b)
		if err != nil {
			var rc ReasonCode
			if !errors.Is(err, ErrShortBuffer) && !errors.As(err, &rc) {
				t.Fatalf("error %v is neither ErrShortBuffer nor a reason code", err)
			}
			return
		}
		if n < 2 || n > 5 || n > len(b) || fh.Remaining > MaxRemaining {
			t.Fatalf("ParseFixedHeader(% x) = %+v, %d", b, fh, n)
		}
		equalBytes(t, "re-encoded header", appendHeader(nil, byte(fh.Type)<<4|fh.Flags, fh.Remaining), b[:n])
	})
}

// FuzzDecodeStream feeds a byte stream in chunks of arbitrary sizes through
// ParseFixedHeader and Decode, as a connection reader does, and checks that
// the chunking does not change what is decoded.
func FuzzDecodeStream(f *testing.F) {
	f.Fuzz(func(t *testing.T, version byte, chunks, data []byte) {
		v := fuzzVersion(version)
		whole := decodeStream(t, v, [][]byte{data})
		if got := decodeStream(t, v, chunk(data, chunks)); !reflect.DeepEqual(got, whole) {
			t.Fatalf("chunked stream decoded to %q, whole to %q", got, whole)
		}
	})
}

// chunk splits data into pieces of 1 to 32 bytes, sizes taken from sizes.
func chunk(data, sizes []byte) [][]byte {
	var out [][]byte
	for i := 0; len(data) > 0; i++ {
		n := len(data)
		if len(sizes) > 0 {
			n = min(n, 1+int(sizes[i%len(sizes)]%32))
		}
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

// decodeStream decodes the packets of a chunked stream until the data ends
// or an error stops it, and returns one line per packet or error.
func decodeStream(t *testing.T, version byte, chunks [][]byte) []string {
	var buf []byte
	var out []string
	for _, c := range chunks {
		buf = append(buf, c...)
		for {
			fh, n, err := ParseFixedHeader(buf)
			if errors.Is(err, ErrShortBuffer) || (err == nil && len(buf) < n+fh.Remaining) {
				break
			}
			if err != nil {
				return append(out, "error: "+err.Error())
			}
			line, ok := decodeOne(t, fh, buf[n:n+fh.Remaining], version)
			if out = append(out, line); !ok {
				return out
			}
			buf = buf[n+fh.Remaining:]
		}
	}
	return out
}

func decodeOne(t *testing.T, fh FixedHeader, body []byte, version byte) (string, bool) {
	roundTrip(t, fh, body, version)
	p, err := Decode(fh, body, version)
	if err != nil {
		return "error: " + err.Error(), false
	}
	if c, ok := p.(*Connect); ok && c.ProtocolVersion != version {
		return "error: CONNECT changes the protocol level", false
	}
	return fmt.Sprintf("%s %d", p.Type(), fh.Remaining), true
}

// TestPacketFuzzCorpus writes the seed corpora with -update-fuzz-corpus and
// otherwise checks that every target has one.
func TestPacketFuzzCorpus(t *testing.T) {
	seeds := fuzzSeeds(t)
	for target, files := range seeds {
		dir := filepath.Join("testdata", "fuzz", target)
		if *updateFuzzCorpus {
			writeCorpus(t, dir, files)
			continue
		}
		if entries, err := os.ReadDir(dir); err != nil || len(entries) == 0 {
			t.Fatalf("no seed corpus in %s (%v): run with -update-fuzz-corpus", dir, err)
		}
	}
}

func writeCorpus(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatalf("RemoveAll: %v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("MkdirAll: %v", err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatalf("WriteFile: %v", err)
		}
	}
}

// corpusFile renders values in the "go test fuzz v1" format.
func corpusFile(values ...any) string {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, v := range values {
		switch v := v.(type) {
		case byte:
			fmt.Fprintf(&b, "byte(%q)\n", v)
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		}
	}
	return b.String()
}

// fuzzSeeds builds the seed files of every target from the test tables.
func fuzzSeeds(t *testing.T) map[string]map[string]string {
	seeds := map[string]map[string]string{}
	add := func(target, name string, values ...any) {
		if seeds[target] == nil {
			seeds[target] = map[string]string{}
		}
		seeds[target][strings.NewReplacer("/", "-", " ", "_", "[", "", "]", "").Replace(name)] = corpusFile(values...)
	}
	streams := map[byte][]byte{}
	for _, c := range allCanonical() {
		addPacketSeeds(add, c.label(), c.version, c.raw)
		streams[c.version] = append(streams[c.version], c.raw...)
	}
	for _, c := range allMalformed() {
		addPacketSeeds(add, "bad-"+c.name+"-v"+string('0'+c.version%10), c.version, c.raw)
	}
	for v, s := range streams {
		for i, sizes := range [][]byte{nil, {0}, {3, 7, 1}} {
			add("FuzzDecodeStream", fmt.Sprintf("v%d-%d", v, i), byte(v-V31), sizes, s)
		}
	}
	return seeds
}

// addPacketSeeds adds one raw packet to the header target, FuzzDecode and
// the target of its type.
func addPacketSeeds(add func(string, string, ...any), name string, version byte, raw []byte) {
	add("FuzzParseFixedHeader", name, raw)
	fh, n, err := ParseFixedHeader(raw)
	if err != nil {
		return
	}
	args := []any{byte(version - V31), raw[0], raw[n:]}
	add("FuzzDecode", name, args...)
	add(fuzzTargetOf(fh.Type), name, args...)
}

func fuzzTargetOf(t Type) string {
	switch t {
	case PUBACK, PUBREC, PUBREL, PUBCOMP:
		return "FuzzDecodeAck"
	case PINGREQ, PINGRESP:
		return "FuzzDecodePing"
	}
	name := strings.ToLower(t.String())
	return "FuzzDecode" + strings.ToUpper(name[:1]) + name[1:]
}

func allMalformed() []bad {
	var all []bad
	for _, set := range [][]bad{malformedFraming(), malformedConnect(), malformedConnack(), malformedPublish(),
		malformedAcks(), malformedSubscriptions(), malformedTails()} {
		all = append(all, set...)
	}
	return all
}
