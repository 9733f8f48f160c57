package listener

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

func TestListenerTCPEcho(t *testing.T) {
	rec := newRecorder()
	l := startListener(t, Config{ID: "tcp:default", Type: TypeTCP}, rec.handle)
	c := dialTCP(t, l)
	roundTrip(t, c, "hello")
	got := rec.next(t)
	if _, ok := got.conn.(*net.TCPConn); !ok {
		t.Fatalf("handler conn is %T, want raw *net.TCPConn", got.conn)
	}
	m := got.meta
	if m.Listener != "tcp:default" || m.Type != TypeTCP || m.TLS != nil {
		t.Fatalf("meta = %+v", m)
	}
	if m.RemoteAddr.String() != c.LocalAddr().String() || m.LocalAddr.String() != c.RemoteAddr().String() {
		t.Fatalf("meta addrs %v -> %v, client %v -> %v", m.RemoteAddr, m.LocalAddr, c.LocalAddr(), c.RemoteAddr())
	}
	if s := l.Stats(); s.Accepted != 1 || s.Current != 1 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestListenerDefaultID(t *testing.T) {
	l, err := New(Config{Type: TypeWS, Bind: "127.0.0.1:0"}, echo)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if l.ID() != "ws:default" || l.Addr() != nil {
		t.Fatalf("ID = %q, Addr = %v", l.ID(), l.Addr())
	}
	closeAndWait(t, l)
}

func TestListenerMaxConnections(t *testing.T) {
	l := startListener(t, Config{Type: TypeTCP, MaxConnections: 2}, echo)
	c1, c2 := dialTCP(t, l), dialTCP(t, l)
	roundTrip(t, c1, "one")
	roundTrip(t, c2, "two")
	c3 := dialTCP(t, l)
	expectClosed(t, c3, testTimeout)
	if s := l.Stats(); s.Accepted != 3 || s.Rejected != 1 || s.Current != 2 {
		t.Fatalf("stats = %+v", s)
	}
	_ = c1.Close()
	waitFor(t, "a free slot", func() bool { return l.Stats().Current == 1 })
	roundTrip(t, dialTCP(t, l), "four")
}

func TestListenerConnRate(t *testing.T) {
	const n = 20
	var served atomic.Int32
	l := startListener(t, Config{Type: TypeTCP, MaxConnRate: 10, ConnBurst: 1},
		func(c net.Conn, _ ConnMeta) { served.Add(1) })
	start := time.Now()
	for range n {
		dialTCP(t, l) // completes in the kernel backlog; accepting is paced
	}
	waitFor(t, "all connections served", func() bool { return served.Load() == n })
	// 19 intervals of 100 ms after the first token: a lower bound only (a
	// loaded machine makes it longer, never shorter).
	if el := time.Since(start); el < 1700*time.Millisecond {
		t.Fatalf("%d connections at 10/s took %v, want at least 1.9s", n, el)
	}
	if s := l.Stats(); s.Accepted != n {
		t.Fatalf("stats = %+v", s)
	}
}

// TestListenerConnRatePauseCounted: with a bucket of one token refilled
// once an hour, the second connection waits, and the pause is counted.
func TestListenerConnRatePauseCounted(t *testing.T) {
	var served atomic.Int32
	l := startListener(t, Config{Type: TypeTCP, MaxConnRate: 1.0 / 3600, ConnBurst: 1},
		func(c net.Conn, _ ConnMeta) { served.Add(1) })
	dialTCP(t, l)
	dialTCP(t, l)
	waitFor(t, "a paused accept", func() bool { return l.Stats().RateLimited == 1 && served.Load() == 1 })
}

func TestListenerCloseKeepsLiveConns(t *testing.T) {
	l := startListener(t, Config{Type: TypeTCP}, echo)
	addr := l.Addr().String()
	live := dialTCP(t, l)
	roundTrip(t, live, "before")
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		_ = c.Close()
		t.Fatalf("dial after Close succeeded")
	}
	roundTrip(t, live, "after")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with a live handler = %v, want deadline exceeded", err)
	}
	_ = live.Close()
	closeAndWait(t, l)
	if s := l.Stats(); s.Current != 0 {
		t.Fatalf("stats after Wait = %+v", s)
	}
}

func TestListenerWaitReturnsAfterHandlers(t *testing.T) {
	release := make(chan struct{})
	var returned atomic.Bool
	l := startListener(t, Config{Type: TypeTCP}, func(net.Conn, ConnMeta) {
		<-release
		returned.Store(true)
	})
	dialTCP(t, l)
	waitFor(t, "handler running", func() bool { return l.Stats().Current == 1 })
	_ = l.Close()
	done := make(chan error, 1)
	go func() { done <- l.Wait(context.Background()) }()
	select {
	case err := <-done:
		t.Fatalf("Wait returned %v while a handler runs", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil || !returned.Load() {
		t.Fatalf("Wait = %v, handler returned = %v", err, returned.Load())
	}
}

func TestListenerStartErrors(t *testing.T) {
	l := startListener(t, Config{Type: TypeTCP}, echo)
	if err := l.Start(); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start = %v, want ErrStarted", err)
	}
	taken, err := New(Config{Type: TypeTCP, Bind: l.Addr().String()}, echo)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := taken.Start(); err == nil {
		t.Fatalf("Start on a taken port succeeded")
	}
	closeAndWait(t, taken)
	if err := taken.Start(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start after Close = %v, want ErrClosed", err)
	}
}

func TestListenerNewValidation(t *testing.T) {
	pki := newPKI(t)
	cases := []struct {
		name string
		cfg  Config
		want error
	}{
		{"unknown type", Config{Type: "quic", Bind: ":0"}, ErrInvalidConfig},
		{"no bind", Config{Type: TypeTCP}, ErrInvalidConfig},
		{"negative max", Config{Type: TypeTCP, Bind: ":0", MaxConnections: -1}, ErrInvalidConfig},
		{"negative rate", Config{Type: TypeTCP, Bind: ":0", MaxConnRate: -1}, ErrInvalidConfig},
		{"bad ws path", Config{Type: TypeWS, Bind: ":0", WSPath: "mqtt"}, ErrInvalidConfig},
		{"ssl without tls", Config{Type: TypeSSL, Bind: ":0"}, ErrInvalidConfig},
		{"tls on tcp", Config{Type: TypeTCP, Bind: ":0", TLS: pki.serverTLS()}, ErrInvalidConfig},
		{"bad version", Config{Type: TypeSSL, Bind: ":0", TLS: &TLSConfig{CertFile: pki.certFile, KeyFile: pki.keyFile, MinVersion: "sslv3"}}, ErrInvalidConfig},
		{"verify without ca", Config{Type: TypeSSL, Bind: ":0", TLS: &TLSConfig{CertFile: pki.certFile, KeyFile: pki.keyFile, VerifyPeer: true}}, ErrInvalidConfig},
		{"fail without verify", Config{Type: TypeSSL, Bind: ":0", TLS: &TLSConfig{CertFile: pki.certFile, KeyFile: pki.keyFile, FailIfNoPeerCert: true}}, ErrInvalidConfig},
		{"missing cert", Config{Type: TypeSSL, Bind: ":0", TLS: &TLSConfig{CertFile: pki.certFile + ".nope", KeyFile: pki.keyFile}}, ErrCertificate},
		{"bad ca", Config{Type: TypeWSS, Bind: ":0", TLS: &TLSConfig{CertFile: pki.certFile, KeyFile: pki.keyFile, CACertFile: pki.keyFile}}, ErrCertificate},
	}
	for _, tc := range cases {
		if _, err := New(tc.cfg, echo); !errors.Is(err, tc.want) {
			t.Fatalf("%s: New = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := New(Config{Type: TypeTCP, Bind: ":0"}, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("nil handler: New = %v", err)
	}
}

// failingListener fails every Accept with a temporary error, like EMFILE.
type failingListener struct {
	calls atomic.Int32
}

func (f *failingListener) Accept() (net.Conn, error) {
	f.calls.Add(1)
	return nil, errors.New("accept: too many open files")
}
func (f *failingListener) Close() error   { return nil }
func (f *failingListener) Addr() net.Addr { return &net.TCPAddr{} }

func TestListenerAcceptBackoff(t *testing.T) {
	l, err := New(Config{Type: TypeTCP, Bind: ":0"}, echo)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	fl := &failingListener{}
	start := time.Now()
	go l.acceptLoop(fl)
	// Backoff 5, 10, 20, 40, 80 ms: the sixth call comes at least 155 ms
	// after the first (without backoff, within microseconds).
	waitFor(t, "six accept calls", func() bool { return fl.calls.Load() >= 6 })
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Fatalf("%d accepts in %v, want backoff (5, 10, 20, 40, 80 ms)", fl.calls.Load(), el)
	}
	close(l.done)
	<-l.loopDone
}

// BenchmarkListenerTCPAccept measures accept -> handler -> close of plain
// TCP connections (dial included).
func BenchmarkListenerTCPAccept(b *testing.B) {
	done := make(chan struct{}, 1)
	l, err := New(Config{Type: TypeTCP, Bind: "127.0.0.1:0"}, func(c net.Conn, _ ConnMeta) { done <- struct{}{} })
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	if err := l.Start(); err != nil {
		b.Fatalf("Start: %v", err)
	}
	defer func() { _ = l.Close(); _ = l.Wait(context.Background()) }()
	addr := l.Addr().String()
	b.ReportAllocs()
	for b.Loop() {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatalf("dial: %v", err)
		}
		<-done
		_ = c.Close()
	}
}

// TestListenerAdopt: an Adopter takes plain TCP connections on the accept
// loop (the Handler is not called); the connection stays open and counted
// until release, which closes it and frees the slot, and Wait waits for it.
func TestListenerAdopt(t *testing.T) {
	released := make(chan func(), 1)
	cfg := Config{ID: "tcp:adopt", Type: TypeTCP, Bind: "127.0.0.1:0"}
	cfg.Adopt = func(c *net.TCPConn, m ConnMeta, rel func()) {
		if m.Listener != "tcp:adopt" || !m.RemoteAddr.IsValid() {
			t.Errorf("meta = %+v", m)
		}
		go func() { _, _ = io.Copy(c, c) }()
		released <- rel
	}
	l := startListener(t, cfg, func(c net.Conn, m ConnMeta) { t.Errorf("handler called for an adopted connection") })
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	rel := <-released
	if _, err := conn.Write([]byte("ping")); err != nil {
		t.Fatalf("write: %v", err)
	}
	buf := make([]byte, 4)
	_ = conn.SetReadDeadline(time.Now().Add(testTimeout))
	if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo after the handler returned: %q %v", buf, err)
	}
	if cur := l.Stats().Current; cur != 1 {
		t.Fatalf("Current = %d while kept, want 1", cur)
	}
	_ = l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	if err := l.Wait(ctx); err == nil {
		t.Fatalf("Wait returned before release")
	}
	cancel()
	rel()
	rel() // idempotent
	if _, err := io.ReadFull(conn, buf); err == nil {
		t.Fatalf("connection still open after release")
	}
	ctx, cancel = context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := l.Wait(ctx); err != nil {
		t.Fatalf("Wait after release: %v", err)
	}
}
