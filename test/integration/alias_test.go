package integration

import (
	"testing"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// psAlias sets a Topic Alias on a PUBLISH.
func psAlias(a uint16) func(*packet.Publish) {
	return func(p *packet.Publish) {
		p.Props.TopicAlias = a
		p.Props.Set(packet.PropTopicAlias)
	}
}

// TestAliasInbound: a client sets a Topic Alias with a topic and then uses
// it with an empty topic; the subscriber sees the full topic name, without
// the alias (3.3.2.3.4); an alias can be remapped; every alias from 1 to the
// server's Topic Alias Maximum is accepted [MQTT-3.3.2-12].
func TestAliasInbound(t *testing.T) {
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) { c.MQTT.MaxTopicAlias = 3 })
	sub := psV5(t, s.TCP(), "sub")
	psSub(t, sub, paho.SubscribeOptions{Topic: "al/#", QoS: 1})
	c, ack := psRaw(t, s.TCP(), packet.V5, "pub")
	if ack.Props.TopicAliasMaximum != 3 {
		t.Fatalf("CONNACK Topic Alias Maximum %d, want 3", ack.Props.TopicAliasMaximum)
	}
	steps := []struct {
		topic string
		alias uint16
		want  string
	}{
		{"al/one", 1, "al/one"}, {"", 1, "al/one"}, {"al/three", 3, "al/three"}, {"", 3, "al/three"},
		{"al/uno", 1, "al/uno"}, {"", 1, "al/uno"}, {"al/plain", 0, "al/plain"}, {"", 3, "al/three"},
	}
	for i, st := range steps {
		var m []func(*packet.Publish)
		if st.alias != 0 {
			m = append(m, psAlias(st.alias))
		}
		psRawPub(c, st.topic, 1, uint16(i+1), "x", m...)
		psExpectAck(t, c, packet.PUBACK, uint16(i+1))
		got := sub.Next(t)
		if got.Topic != st.want {
			t.Fatalf("step %d: topic %q, want %q", i, got.Topic, st.want)
		}
		if got.Properties != nil && got.Properties.TopicAlias != nil {
			t.Fatalf("step %d: the publisher's alias was forwarded", i)
		}
	}
}

// TestAliasInboundInvalid: a Topic Alias above the server's Topic Alias
// Maximum [MQTT-3.3.2-9] ends the connection with DISCONNECT 0x94 Topic
// Alias invalid (the code the spec defines for exactly that case); Topic
// Alias 0 [MQTT-3.3.2-8] gets 0x94 Topic Alias invalid, as an alias above
// the maximum does (MQTT 5 section 3.3.4; EMQX does the same); an alias that has no
// mapping with an empty topic is a Protocol Error, and mappings do not
// outlive the connection [MQTT-3.3.2-7].
func TestAliasInboundInvalid(t *testing.T) {
	s := testutil.RunServer(t, psNoStore, func(c *config.Config) { c.MQTT.MaxTopicAlias = 3 })
	cases := []struct {
		name  string
		topic string
		alias uint16
		rc    packet.ReasonCode
	}{
		{"zero", "ai/a", 0, packet.TopicAliasInvalid},
		{"above maximum", "ai/a", 4, packet.TopicAliasInvalid},
		{"unknown", "", 2, packet.ProtocolError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := psRaw(t, s.TCP(), packet.V5, "bad")
			psRawPub(c, tc.topic, 0, 0, "x", psAlias(tc.alias))
			psExpectDisconnect(t, c, tc.rc)
		})
	}
	t.Run("new connection", func(t *testing.T) {
		c, _ := psRaw(t, s.TCP(), packet.V5, "again")
		psRawPub(c, "ai/a", 0, 0, "x", psAlias(1))
		c.Send(&packet.Disconnect{})
		c.ExpectClosed(testutil.Timeout)
		c, _ = psRaw(t, s.TCP(), packet.V5, "again")
		psRawPub(c, "", 0, 0, "x", psAlias(1))
		psExpectDisconnect(t, c, packet.ProtocolError)
	})
	t.Run("aliases off", func(t *testing.T) {
		s := testutil.RunServer(t, psNoStore, func(c *config.Config) { c.MQTT.MaxTopicAlias = 0 })
		c, ack := psRaw(t, s.TCP(), packet.V5, "off")
		if ack.Props.TopicAliasMaximum != 0 {
			t.Fatalf("CONNACK Topic Alias Maximum %d, want 0", ack.Props.TopicAliasMaximum)
		}
		psRawPub(c, "ai/a", 0, 0, "x", psAlias(1))
		psExpectDisconnect(t, c, packet.TopicAliasInvalid)
	})
}

// TestAliasOutbound: the server uses Topic Aliases towards a client only
// when its CONNECT has a Topic Alias Maximum above 0 [MQTT-3.1.2-27], never
// above it [MQTT-3.1.2-26, 3.3.2-11]: the first PUBLISH on a topic carries
// the topic and the alias, later ones the alias and an empty topic; topics
// beyond the maximum go out in full; a new connection starts afresh
// [MQTT-3.3.2-7].
func TestAliasOutbound(t *testing.T) {
	s := testutil.RunServer(t, psNoStore)
	none, _ := psRaw(t, s.TCP(), packet.V5, "none")
	psRawSub(t, none, 1, 0, packet.Subscription{Filter: "ao/#"})
	withMax := func(p *packet.Connect) {
		p.Props.TopicAliasMaximum = 2
		p.Props.Set(packet.PropTopicAliasMaximum)
	}
	two, _ := psRaw(t, s.TCP(), packet.V5, "two", withMax)
	psRawSub(t, two, 1, 0, packet.Subscription{Filter: "ao/#"})
	pub := psV5(t, s.TCP(), "pub")
	type want struct {
		topic string
		alias uint16
	}
	seq := []string{"ao/1", "ao/2", "ao/3", "ao/1", "ao/2", "ao/3"}
	wants := []want{{"ao/1", 1}, {"ao/2", 2}, {"ao/3", 0}, {"", 1}, {"", 2}, {"ao/3", 0}}
	for _, tp := range seq {
		psPub(t, pub, tp, 0, tp)
	}
	for i, tp := range seq {
		p := psExpectPub(t, none)
		if string(p.Topic) != tp || p.Props.Has(packet.PropTopicAlias) {
			t.Fatalf("no maximum, message %d: topic %q alias %v", i, p.Topic, p.Props.Has(packet.PropTopicAlias))
		}
		p = psExpectPub(t, two)
		got := want{string(p.Topic), 0}
		if p.Props.Has(packet.PropTopicAlias) {
			got.alias = p.Props.TopicAlias
		}
		if got != wants[i] || string(p.Payload) != tp {
			t.Fatalf("maximum 2, message %d: got %+v payload %q, want %+v", i, got, p.Payload, wants[i])
		}
	}
	two.Send(&packet.Disconnect{})
	two.ExpectClosed(testutil.Timeout)
	two, _ = psRaw(t, s.TCP(), packet.V5, "two", withMax)
	psRawSub(t, two, 1, 0, packet.Subscription{Filter: "ao/#"})
	psPub(t, pub, "ao/2", 0, "again")
	if p := psExpectPub(t, two); string(p.Topic) != "ao/2" || p.Props.TopicAlias != 1 {
		t.Fatalf("new connection: topic %q alias %d, want ao/2 with alias 1", p.Topic, p.Props.TopicAlias)
	}
}
