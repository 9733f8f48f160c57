package broker

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"
)

// testBroker runs a broker behind a plain TCP accept loop on 127.0.0.1.
type testBroker struct {
	*Broker
	addr string
	ln   net.Listener
}

func startBroker(t testing.TB, cfg Config, opts Options) *testBroker {
	t.Helper()
	b, err := New(cfg, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := b.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	tb := &testBroker{Broker: b, addr: ln.Addr().String(), ln: ln}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			ra, _ := netip.ParseAddrPort(nc.RemoteAddr().String())
			go b.ServeConn(nc, ConnMeta{Listener: "tcp:default", RemoteAddr: ra})
		}
	}()
	t.Cleanup(func() { tb.stop(t) })
	return tb
}

func (tb *testBroker) stop(t testing.TB) {
	t.Helper()
	tb.ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	if err := tb.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// testWait bounds every wait for an event in this package's tests: a
// failure bound, generous because the machine may be shared.
const testWait = 30 * time.Second

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.SysInterval, cfg.SysHeartbeat = 0, 0
	return cfg
}
