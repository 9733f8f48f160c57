package integration

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// psAppProps are application properties a publisher sets, user properties
// with a repeated key and in non-sorted order.
func psAppProps(p *packet.Publish) {
	pr := &p.Props
	pr.PayloadFormat, pr.ContentType = 1, []byte("text/plain")
	pr.ResponseTopic, pr.CorrelationData = []byte("reply/here"), []byte{0, 1, 2, 0xff}
	pr.Set(packet.PropPayloadFormat)
	pr.Set(packet.PropContentType)
	pr.Set(packet.PropResponseTopic)
	pr.Set(packet.PropCorrelationData)
	for _, kv := range [][2]string{{"z", "1"}, {"a", "2"}, {"z", "3"}, {"m", ""}} {
		pr.User = append(pr.User, packet.UserProperty{Key: []byte(kv[0]), Value: []byte(kv[1])})
	}
}

// psCheckAppProps fails unless p carries exactly the properties of
// psAppProps.
func psCheckAppProps(t *testing.T, what string, p *packet.Publish) {
	t.Helper()
	var want packet.Publish
	psAppProps(&want)
	w, g := &want.Props, &p.Props
	for _, id := range []packet.PropID{packet.PropPayloadFormat, packet.PropContentType, packet.PropResponseTopic, packet.PropCorrelationData} {
		if !g.Has(id) {
			t.Fatalf("%s: property 0x%02x missing", what, byte(id))
		}
	}
	if g.PayloadFormat != 1 || !bytes.Equal(g.ContentType, w.ContentType) || !bytes.Equal(g.ResponseTopic, w.ResponseTopic) ||
		!bytes.Equal(g.CorrelationData, w.CorrelationData) {
		t.Fatalf("%s: properties %+v", what, g)
	}
	if fmt.Sprint(g.User) != fmt.Sprint(w.User) {
		t.Fatalf("%s: user properties %q, want %q in that order", what, g.User, w.User)
	}
}

// TestPropsForwarded: Payload Format Indicator [MQTT-3.3.2-4], Content
// Type [MQTT-3.3.2-20], Response Topic [MQTT-3.3.2-15], Correlation Data
// [MQTT-3.3.2-16] and User Properties, in order [MQTT-3.3.2-17, 3.3.2-18],
// reach subscribers unaltered: live, from the retained store, and from the
// queue of an offline session.
func TestPropsForwarded(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	live, _ := psRaw(t, s.TCP(), packet.V5, "live")
	psRawSub(t, live, 1, 0, packet.Subscription{Filter: "pf/#", QoS: 1})
	off, _ := psRaw(t, s.TCP(), packet.V5, "off", psSessionExpiry(60))
	psRawSub(t, off, 1, 0, packet.Subscription{Filter: "pf/#", QoS: 1})
	off.Send(&packet.Disconnect{})
	off.ExpectClosed(testutil.Timeout)
	pub, _ := psRaw(t, s.TCP(), packet.V5, "pub")
	psRawPub(pub, "pf/a", 1, 1, "hello", psAppProps, func(p *packet.Publish) { p.Retain = true })
	psExpectAck(t, pub, packet.PUBACK, 1)
	psCheckAppProps(t, "live", psExpectPub(t, live))
	late, _ := psRaw(t, s.TCP(), packet.V5, "late")
	psRawSub(t, late, 1, 0, packet.Subscription{Filter: "pf/#", QoS: 1})
	psCheckAppProps(t, "retained", psExpectPub(t, late))
	back, ack := psRaw(t, s.TCP(), packet.V5, "off", psSessionExpiry(60), func(p *packet.Connect) { p.CleanStart = false })
	if !ack.SessionPresent {
		t.Fatalf("session not present")
	}
	psCheckAppProps(t, "queued", psExpectPub(t, back))
}

// psSessionExpiry sets a Session Expiry Interval in CONNECT.
func psSessionExpiry(secs uint32) func(*packet.Connect) {
	return func(p *packet.Connect) {
		p.Props.SessionExpiry = secs
		p.Props.Set(packet.PropSessionExpiry)
	}
}

// psExpiry sets a Message Expiry Interval on a PUBLISH.
func psExpiry(secs uint32) func(*packet.Publish) {
	return func(p *packet.Publish) {
		p.Props.MessageExpiry = secs
		p.Props.Set(packet.PropMessageExpiry)
	}
}

// TestPropsMessageExpiry: a message whose Message Expiry Interval passes
// while it waits in the server is not delivered [MQTT-3.3.2-5] (counted as
// delivery.dropped.expired); one still valid is sent with the interval
// minus the time it waited [MQTT-3.3.2-6]. Checked for a queue behind a full
// Receive Maximum window and for an offline session's queue.
func TestPropsMessageExpiry(t *testing.T) {
	t.Parallel() // waits for an expiry
	s := testutil.RunServer(t, psNoStore)
	slow, _ := psRaw(t, s.TCP(), packet.V5, "slow", func(p *packet.Connect) {
		p.Props.ReceiveMaximum = 1
		p.Props.Set(packet.PropReceiveMaximum)
	})
	psRawSub(t, slow, 1, 0, packet.Subscription{Filter: "me/#", QoS: 1})
	off, _ := psRaw(t, s.TCP(), packet.V5, "off", psSessionExpiry(60))
	psRawSub(t, off, 1, 0, packet.Subscription{Filter: "me/#", QoS: 1})
	off.Send(&packet.Disconnect{})
	off.ExpectClosed(testutil.Timeout)
	pub, _ := psRaw(t, s.TCP(), packet.V5, "pub")
	sent := time.Now()
	// Only "short" may expire: the others outlive any stall of a busy machine.
	psRawPub(pub, "me/a", 1, 1, "blocker", psExpiry(600))
	psRawPub(pub, "me/a", 1, 2, "short", psExpiry(1))
	psRawPub(pub, "me/a", 1, 3, "long", psExpiry(300))
	for pid := uint16(1); pid <= 3; pid++ {
		psExpectAck(t, pub, packet.PUBACK, pid)
	}
	first := psExpectPub(t, slow)
	if string(first.Payload) != "blocker" || first.Props.MessageExpiry > 600 || first.Props.MessageExpiry < 1 {
		t.Fatalf("first delivery %q with expiry %d, want blocker with 600 or less", first.Payload, first.Props.MessageExpiry)
	}
	time.Sleep(time.Until(sent.Add(1100 * time.Millisecond))) // the condition is the passing of time
	slow.Send(&packet.Ack{PacketType: packet.PUBACK, PacketID: first.PacketID})
	back, _ := psRaw(t, s.TCP(), packet.V5, "off", psSessionExpiry(60), func(p *packet.Connect) { p.CleanStart = false })
	for name, c := range map[string]*testutil.Raw{"window": slow, "offline": back} {
		for {
			p := psExpectPub(t, c)
			if string(p.Payload) == "blocker" { // the offline session's copy
				c.Send(&packet.Ack{PacketType: packet.PUBACK, PacketID: p.PacketID})
				continue
			}
			// At least 1.1 s waited: counted down below 300 [MQTT-3.3.2-6].
			if string(p.Payload) != "long" || !p.Props.Has(packet.PropMessageExpiry) || p.Props.MessageExpiry >= 300 || p.Props.MessageExpiry < 1 {
				t.Fatalf("%s: %q with expiry %d, want long with less than 300", name, p.Payload, p.Props.MessageExpiry)
			}
			break
		}
	}
	psWaitMetric(t, s, "delivery.dropped.expired", 2)
}

// TestPropsResponseInformation: with Request Response Information 1 the
// CONNACK carries mqtt.response_information; with 0 it carries none
// [MQTT-3.1.2-28].
func TestPropsResponseInformation(t *testing.T) {
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) { c.MQTT.ResponseInformation = "responses/" })
	for _, req := range []byte{0, 1} {
		_, ack := psRaw(t, s.TCP(), packet.V5, "ri", func(p *packet.Connect) {
			p.Props.RequestResponseInfo = req
			p.Props.Set(packet.PropRequestResponseInfo)
		})
		has := ack.Props.Has(packet.PropResponseInfo)
		if has != (req == 1) || (has && string(ack.Props.ResponseInfo) != "responses/") {
			t.Fatalf("Request Response Information %d: Response Information %v %q", req, has, ack.Props.ResponseInfo)
		}
	}
}

// TestPropsProblemInformation: with Request Problem Information 0 the
// server sends no Reason String on PUBACK or SUBACK [MQTT-3.1.2-29]; by
// default error acknowledgements carry one.
func TestPropsProblemInformation(t *testing.T) {
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) {
		c.Authorization.Rules = []config.Rule{{Permission: "deny", Who: "all", Action: "publish", Topics: []string{"deny/#"}}}
	})
	for _, want := range []bool{true, false} {
		c, _ := psRaw(t, s.TCP(), packet.V5, "pi", func(p *packet.Connect) {
			if !want {
				p.Props.RequestProblemInfo = 0
				p.Props.Set(packet.PropRequestProblemInfo)
			}
		})
		psRawPub(c, "deny/x", 1, 1, "x")
		a := psExpectAck(t, c, packet.PUBACK, 1)
		if a.ReasonCode != packet.NotAuthorized || a.Props.Has(packet.PropReasonString) != want {
			t.Fatalf("problem info %v: PUBACK %v with reason string %q", want, a.ReasonCode, a.Props.ReasonString)
		}
		sa := psRawSub(t, c, 2, 0, packet.Subscription{Filter: "a/#/b"})
		if sa.ReasonCodes[0] != packet.TopicFilterInvalid || sa.Props.Has(packet.PropReasonString) != want {
			t.Fatalf("problem info %v: SUBACK %v with reason string %q", want, sa.ReasonCodes, sa.Props.ReasonString)
		}
	}
}

// TestPropsServerReference: a node shutting down sends v5 clients
// DISCONNECT 0x8B, or 0x9C Use another server with mqtt.server_reference
// as Server Reference when it is set (4.11).
func TestPropsServerReference(t *testing.T) {
	for _, ref := range []string{"", "other.example:1883"} {
		s := testutil.RunServer(t, psNoStore, func(c *config.Config) { c.MQTT.ServerReference = ref })
		c := psV5(t, s.TCP(), "ref")
		s.Stop(t)
		select {
		case d := <-c.Disc:
			want := byte(packet.ServerShuttingDown)
			if ref != "" {
				want = byte(packet.UseAnotherServer)
			}
			got := ""
			if d.Properties != nil {
				got = d.Properties.ServerReference
			}
			if d.ReasonCode != want || got != ref {
				t.Fatalf("DISCONNECT 0x%02x reference %q, want 0x%02x %q", d.ReasonCode, got, want, ref)
			}
		case <-time.After(testutil.Timeout):
			t.Fatalf("no DISCONNECT at shutdown")
		}
	}
}

// TestPropsResponseTopicWildcard: a Response Topic with a wildcard
// [MQTT-3.3.2-14] is a Protocol Error: a PUBLISH carrying one ends the
// connection with DISCONNECT 0x82 and is not delivered, a will carrying one
// refuses the CONNECT with CONNACK 0x82 (section 4.13).
func TestPropsResponseTopicWildcard(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	sub, _ := psRaw(t, s.TCP(), packet.V5, "rt-sub")
	psRawSub(t, sub, 1, 0, packet.Subscription{Filter: "rt/#"})
	for _, rt := range []string{"reply/+", "reply/#", "+"} {
		c, _ := psRaw(t, s.TCP(), packet.V5, "rt-pub")
		psRawPub(c, "rt/x", 1, 1, rt, func(p *packet.Publish) {
			p.Props.ResponseTopic = []byte(rt)
			p.Props.Set(packet.PropResponseTopic)
		})
		psExpectDisconnect(t, c, packet.ProtocolError)
		c = testutil.DialRaw(t, s.TCP(), packet.V5)
		will := withWill(&packet.Connect{ClientID: "rt-will", CleanStart: true}, "rt/will", "w", 0, 0)
		will.WillProps.ResponseTopic = []byte(rt)
		will.WillProps.Set(packet.PropResponseTopic)
		c.Send(will)
		expectRefused(t, c, packet.ProtocolError)
	}
	psRawPub(sub, "rt/ok", 0, 0, "ok")
	if m := psExpectPub(t, sub); string(m.Topic) != "rt/ok" {
		t.Fatalf("subscriber got %q: a PUBLISH with a wildcard Response Topic was delivered", m.Topic)
	}
}
