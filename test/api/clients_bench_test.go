package api

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/herald-mqtt/herald/pkg/client"
)

// benchClients is the number of connected clients of the paging benchmark.
const benchClients = 10000

// BenchmarkClientsPage measures GET /clients?page=N&limit=100 over HTTP
// with 10,000 connected MQTT clients: the first, a middle and the last
// page. Run it alone:
//
//	go test -run '^$' -bench BenchmarkClientsPage -benchtime 200x ./test/api/
//
// The clients speak real MQTT 3.1.1 (CONNECT, CONNACK, a live session on
// the broker) over in-memory pipes handed to the broker as a listener
// would: 10,000 loopback TCP connections would need 20,000 descriptors in
// one process, above this machine's limit.
func BenchmarkClientsPage(b *testing.B) {
	s := testutil.RunServer(b)
	start := time.Now()
	benchConnectPipes(b, s.Broker(), benchClients)
	b.Logf("%d clients connected in %v", benchClients, time.Since(start).Round(time.Millisecond))
	c := s.API(b)
	last := benchClients / 100
	for _, page := range []int{1, last / 2, last} {
		q := url.Values{"page": {fmt.Sprint(page)}, "limit": {"100"}}
		benchCheckPage(b, c, q, page != last)
		b.Run(fmt.Sprintf("page=%d", page), func(b *testing.B) {
			ctx := context.Background()
			var p client.Page[client.ClientInfo]
			for b.Loop() {
				if _, err := c.Do(ctx, http.MethodGet, "/clients", q, nil, &p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/op")
		})
	}
}

// benchCheckPage asserts the page's meta: 100 clients, count 10,000 and
// hasnext as given.
func benchCheckPage(b *testing.B, c *client.Client, q url.Values, next bool) {
	b.Helper()
	var p client.Page[client.ClientInfo]
	if _, err := c.Do(context.Background(), http.MethodGet, "/clients", q, nil, &p); err != nil {
		b.Fatal(err)
	}
	if len(p.Data) != 100 || p.Meta.Count == nil || *p.Meta.Count != benchClients || p.Meta.HasNext != next {
		b.Fatalf("%v: %d clients, meta %+v (count %v), want 100, %d, hasnext %v", q, len(p.Data), p.Meta, p.Meta.Count, benchClients, next)
	}
}

// benchConnectPipes connects n MQTT 3.1.1 clients to the broker over
// net.Pipe, 16 at a time, and closes them (waiting for the broker's side)
// when the benchmark ends.
func benchConnectPipes(b *testing.B, br *broker.Broker, n int) {
	b.Helper()
	conns := make([]net.Conn, n)
	var served sync.WaitGroup
	b.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
		served.Wait()
	})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	ids := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ids {
				cli, srv := net.Pipe()
				conns[i] = cli
				served.Add(1)
				meta := broker.ConnMeta{Listener: "tcp:default",
					RemoteAddr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(10000+i%50000)),
					LocalAddr:  netip.MustParseAddrPort("127.0.0.1:1883")}
				go func() { defer served.Done(); br.ServeConn(srv, meta) }()
				if err := benchConnect(cli, fmt.Sprintf("bench-%05d", i)); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := range n {
		ids <- i
	}
	close(ids)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}

// benchConnect sends a CONNECT and reads a successful CONNACK.
func benchConnect(c net.Conn, id string) error {
	p := &packet.Connect{ProtocolVersion: packet.V311, ClientID: id, CleanStart: true, UsernameFlag: true, Username: "bench"}
	buf, err := p.Append(nil, packet.V311)
	if err != nil {
		return err
	}
	_ = c.SetDeadline(time.Now().Add(testutil.Timeout))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write(buf); err != nil {
		return fmt.Errorf("%s: write CONNECT: %w", id, err)
	}
	pk, err := packet.ReadPacket(bufio.NewReader(c), packet.V311, 0)
	if err != nil {
		return fmt.Errorf("%s: read CONNACK: %w", id, err)
	}
	if ack, ok := pk.(*packet.Connack); !ok || ack.ReasonCode != packet.Success {
		return fmt.Errorf("%s: got %+v, want a successful CONNACK", id, pk)
	}
	return nil
}
