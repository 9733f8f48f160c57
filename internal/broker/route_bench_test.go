package broker

import (
	"io"
	"net"
	"testing"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

// BenchmarkBrokerRouteQoS0 measures the QoS 0 publish path from a decoded
// PUBLISH to bytes in a subscriber's outbound buffer (trie match, per-session
// encode, flush scheduling), for 1 and 16 subscribers. It allocates nothing
// per message.
func BenchmarkBrokerRouteQoS0(b *testing.B) {
	for _, subs := range []int{1, 16} {
		b.Run(itoa(subs)+"subs", func(b *testing.B) { benchRoute(b, subs) })
	}
}

func benchRoute(b *testing.B, subs int) {
	tb := startBroker(b, testConfig(), Options{})
	for i := 0; i < subs; i++ {
		subscribeDraining(b, tb.addr, "bench-sub-"+itoa(i), "bench/+/t")
	}
	var w work
	w.init(tb.Broker)
	in := &inbound{qos: 0, b: tb.Broker, from: "bench-pub"}
	in.tmpl = packet.Publish{Topic: []byte("bench/1/t"), Payload: make([]byte, 64)}
	b.ReportAllocs()
	b.SetBytes(64)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in.now = int64(i)
		if n := tb.route(&w, in, nil); n != subs {
			b.Fatalf("delivered to %d, want %d", n, subs)
		}
		if i%256 == 255 {
			w.finish() // end of a read batch
		}
	}
	w.finish()
}

// subscribeDraining connects a 3.1.1 subscriber to filter whose socket is
// drained by a goroutine until the test ends.
func subscribeDraining(b *testing.B, addr, id, filter string) {
	b.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { nc.Close() })
	con, _ := (&packet.Connect{ProtocolVersion: packet.V311, ClientID: id, CleanStart: true}).Append(nil, packet.V311)
	sub, _ := (&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: filter}}}).Append(nil, packet.V311)
	if _, err := nc.Write(append(con, sub...)); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 9) // CONNACK (4) + SUBACK (5)
	if _, err := io.ReadFull(nc, buf); err != nil {
		b.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, nc) }()
}
