package packet

import (
	"bytes"
	"testing"
)

// TestPacketDecodeReuse decodes different packets into one struct and checks
// that nothing of the previous packet survives.
func TestPacketDecodeReuse(t *testing.T) {
	full := canonByName(t, V5, "publish-all-props")
	var p Publish
	fh, body := split(t, full.raw)
	if err := DecodePublish(fh, body, V5, &p); err != nil {
		t.Fatalf("DecodePublish: %v", err)
	}
	for _, c := range []canon{canonByName(t, V5, "publish-qos0"), canonByName(t, V311, "publish-qos1-dup-retain")} {
		fh, body := split(t, c.raw)
		if err := DecodePublish(fh, body, c.version, &p); err != nil {
			t.Fatalf("DecodePublish %s: %v", c.name, err)
		}
		want := c.pkt.(*Publish)
		if !p.Props.Empty() || p.Dup != want.Dup || p.QoS != want.QoS || p.PacketID != want.PacketID ||
			!bytes.Equal(p.Topic, want.Topic) || !bytes.Equal(p.Payload, want.Payload) {
			t.Fatalf("reused decode of %s: %+v", c.name, p)
		}
	}
}

func TestPacketDecodeReuseLists(t *testing.T) {
	var s Subscribe
	for _, c := range []canon{canonByName(t, V5, "subscribe"), canonByName(t, V31, "subscribe")} {
		fh, body := split(t, c.raw)
		if err := DecodeSubscribe(fh, body, c.version, &s); err != nil {
			t.Fatalf("DecodeSubscribe %s: %v", c.name, err)
		}
	}
	if len(s.Subscriptions) != 1 || s.Subscriptions[0] != (Subscription{Filter: "x/#", QoS: 2}) || !s.Props.Empty() {
		t.Fatalf("reused SUBSCRIBE: %+v", s)
	}
	var c Connect
	for _, raw := range [][]byte{canonByName(t, V5, "connect-full").raw, canonByName(t, V311, "connect-minimal").raw} {
		fh, body := split(t, raw)
		if err := DecodeConnect(fh, body, &c); err != nil {
			t.Fatalf("DecodeConnect: %v", err)
		}
	}
	if !c.Props.Empty() || !c.WillProps.Empty() || c.WillFlag || c.Username != "" || c.Password != nil || c.ClientID != "c1" {
		t.Fatalf("reused CONNECT: %+v", c)
	}
}

// TestPacketClone checks that clones equal the original and survive the
// decode buffer being overwritten.
func TestPacketClone(t *testing.T) {
	for _, c := range allCanonical() {
		if c.pkt.Type() != PUBLISH && c.pkt.Type() != CONNECT {
			continue
		}
		raw := bytes.Clone(c.raw)
		p := mustDecode(t, raw, c.version)
		var clone Packet
		switch p := p.(type) {
		case *Publish:
			clone = p.Clone()
		case *Connect:
			clone = p.Clone()
		}
		for i := range raw {
			raw[i] = 0xFF
		}
		equalPackets(t, "clone of "+c.label(), clone, c.pkt)
	}
}

func TestPacketPropertiesClone(t *testing.T) {
	orig := connackPropsV5.Clone()
	c := orig.Clone()
	orig.ReasonString[0] = 'X'
	orig.User[0].Key[0] = 'X'
	orig.User = append(orig.User[:0], user("z", "z"))
	equalPackets(t, "Properties.Clone", &Connack{Props: c}, &Connack{Props: connackPropsV5})
	// Appending to a cloned field must not overwrite its neighbour.
	c.AssignedClientID = append(c.AssignedClientID, "!!!!"...)
	if !bytes.Equal(c.AuthMethod, []byte("SCRAM-SHA-1")) {
		t.Fatalf("append to a clone field overwrote the next field: %q", c.AuthMethod)
	}
}

func canonByName(t testing.TB, version byte, name string) canon {
	t.Helper()
	for _, c := range allCanonical() {
		if c.version == version && c.name == name {
			return c
		}
	}
	t.Fatalf("no canonical packet %s/v%d", name, version)
	return canon{}
}
