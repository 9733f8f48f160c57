package broker

import (
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

// BenchmarkBrokerIdleConnMemory reports the memory of idle connections:
// heap and goroutine stack per connection (the heap figure includes the
// test's own client-side net.Conn, about 300 B). Run it without -race.
func BenchmarkBrokerIdleConnMemory(b *testing.B) {
	for i := 0; i < b.N; i++ {
		heap, stack := idleConnMemory(b, 2000)
		b.ReportMetric(heap, "heapB/conn")
		b.ReportMetric(stack, "stackB/conn")
	}
}

func idleConnMemory(t testing.TB, n int) (heap, stack float64) {
	tb := startBroker(t, testConfig(), Options{})
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	conns := make([]net.Conn, 0, n)
	for i := 0; i < n; i++ {
		nc, err := net.Dial("tcp", tb.addr)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		conns = append(conns, nc)
		b, _ := (&packet.Connect{ProtocolVersion: 4, ClientID: "idle-" + itoa(i), CleanStart: true, KeepAlive: 60}).Append(nil, 4)
		if _, err := nc.Write(b); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4)
		if _, err := nc.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	runtime.GC()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	heap = float64(after.HeapInuse-before.HeapInuse) / float64(n)
	stack = float64(after.StackInuse-before.StackInuse) / float64(n)
	for _, c := range conns {
		c.Close()
	}
	tb.stop(t)
	return heap, stack
}

func itoa(i int) string {
	const d = "0123456789"
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{d[i%10]}, b...)
	}
	return string(b)
}
