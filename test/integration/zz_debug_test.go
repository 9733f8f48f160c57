package integration

import (
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

func TestZZDebug(t *testing.T) {
	s := testutil.RunServer(t, func(c *config.Config) { c.MQTT.MaxPacketSize = 1024 })
	c, _ := rawConnect(t, s.TCP(), "big")
	over := &packet.Publish{Topic: []byte("mp/x"), QoS: 1, PacketID: 2, Payload: make([]byte, 1100)}
	c.Send(over)
	for {
		p, err := c.Read(2 * time.Second)
		t.Logf("%+v %v", p, err)
		if err != nil {
			return
		}
	}
}
