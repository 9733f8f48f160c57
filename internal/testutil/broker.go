package testutil

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/broker"
)

// BrokerConfig is broker.DefaultConfig with $SYS off, for ServeBroker.
func BrokerConfig() broker.Config {
	cfg := broker.DefaultConfig()
	cfg.SysInterval, cfg.SysHeartbeat = 0, 0
	return cfg
}

// ServeBroker starts a bare broker core (no server, no listeners package)
// built from cfg and opts, for tests that need ports the server does not
// wire (a custom Authenticator, say). Connections accepted on a 127.0.0.1
// port go to ServeConn as listener "tcp:default". It returns the broker and
// the address; everything stops in t.Cleanup.
func ServeBroker(t testing.TB, cfg broker.Config, opts broker.Options) (*broker.Broker, string) {
	t.Helper()
	b, err := broker.New(cfg, opts)
	if err != nil {
		t.Fatalf("broker.New: %v", err)
	}
	if err := b.Start(); err != nil {
		t.Fatalf("broker.Start: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { acceptLoop(ln, b, &wg) })
	t.Cleanup(func() {
		_ = ln.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Errorf("broker shutdown: %v", err)
		}
		wg.Wait()
	})
	return b, ln.Addr().String()
}

func acceptLoop(ln net.Listener, b *broker.Broker, wg *sync.WaitGroup) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		meta := broker.ConnMeta{Listener: "tcp:default"}
		meta.RemoteAddr, _ = netip.ParseAddrPort(nc.RemoteAddr().String())
		meta.LocalAddr, _ = netip.ParseAddrPort(nc.LocalAddr().String())
		wg.Go(func() {
			defer nc.Close()
			b.ServeConn(nc, meta)
		})
	}
}
