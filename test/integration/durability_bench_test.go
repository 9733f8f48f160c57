package integration

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// BenchmarkDurabilityQoS1Persistent measures acknowledged QoS 1 publishes
// per second to an offline persistent session with durability = sync: every
// PUBACK waits for the fsync that makes its message durable. Each publisher
// has one message in flight, so one publisher pays a whole fsync per message
// while eight share them (group commit): msgs/s should grow with publishers.
func BenchmarkDurabilityQoS1Persistent(b *testing.B) {
	for _, pubs := range []int{1, 8} {
		b.Run(fmt.Sprintf("publishers=%d", pubs), func(b *testing.B) { benchDurable(b, pubs) })
	}
}

func benchDurable(b *testing.B, pubs int) {
	s := testutil.RunServer(b, func(c *config.Config) { c.MQTT.MaxMqueueLen = 0 }) // 0 = infinity
	persistentV5(b, s.TCP(), "bench-sub", "b/#", 1)
	conns := make([]*testutil.Raw, pubs)
	for i := range conns {
		conns[i], _ = connectRaw(b, s.TCP(), packet.V5, fmt.Sprintf("bench-pub-%d", i), true, 0)
	}
	var next atomic.Int64
	errs := make(chan error, pubs)
	var wg sync.WaitGroup
	b.ResetTimer()
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := publishAcked(c, fmt.Sprintf("b/%d", i), &next, int64(b.N)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// publishAcked publishes QoS 1 messages, one at a time, until next passes n.
func publishAcked(c *testutil.Raw, topic string, next *atomic.Int64, n int64) error {
	p := &packet.Publish{QoS: 1, Topic: []byte(topic), PacketID: 1, Payload: make([]byte, 64)}
	for next.Add(1) <= n {
		if err := sendPacket(c.Conn, c.Version, p); err != nil {
			return err
		}
		a, err := c.Read(10 * time.Second)
		if err != nil {
			return err
		}
		if ack, ok := a.(*packet.Ack); !ok || ack.PacketType != packet.PUBACK || ack.ReasonCode != packet.Success {
			return fmt.Errorf("got %v %+v, want PUBACK 0x00", a.Type(), a)
		}
	}
	return nil
}
