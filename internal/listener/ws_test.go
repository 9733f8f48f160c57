package listener

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// httpClient returns a client whose idle connections are closed at cleanup.
func httpClient(t *testing.T, tlsCfg *tls.Config, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: tlsCfg, DialContext: dial}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: testTimeout}
}

func wsURL(l *Listener, scheme, path string) string {
	return scheme + "://" + l.Addr().String() + path
}

func dialWS(t *testing.T, url string, opts *websocket.DialOptions) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	if opts.HTTPClient == nil {
		opts.HTTPClient = httpClient(t, nil, nil)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, opts)
	if err == nil {
		t.Cleanup(func() { _ = c.CloseNow() })
	}
	return c, resp, err
}

func mustDialWS(t *testing.T, url string, opts *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	c, _, err := dialWS(t, url, opts)
	if err != nil {
		t.Fatalf("websocket dial %s: %v", url, err)
	}
	return c
}

func wsWrite(t *testing.T, c *websocket.Conn, typ websocket.MessageType, b []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := c.Write(ctx, typ, b); err != nil {
		t.Fatalf("websocket write: %v", err)
	}
}

func wsRead(t *testing.T, c *websocket.Conn) (websocket.MessageType, []byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	return c.Read(ctx)
}

// packetEcho reads three MQTT packets of known sizes from the byte stream
// and writes each back with one Write.
func packetEcho(sizes ...int) Handler {
	return func(c net.Conn, _ ConnMeta) {
		for _, n := range sizes {
			buf := make([]byte, n)
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
		_, _ = io.Copy(io.Discard, c)
	}
}

var (
	wsConnect = []byte{0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00}
	wsPingreq = []byte{0xc0, 0x00}
	wsSub     = []byte{0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00}
)

// checkStream sends CONNECT split over two frames [MQTT-6.0.0-2], then
// PINGREQ and SUBSCRIBE sharing one frame, and expects one message per
// packet back (one binary message per Write).
func checkStream(t *testing.T, c *websocket.Conn) {
	t.Helper()
	wsWrite(t, c, websocket.MessageBinary, wsConnect[:5])
	wsWrite(t, c, websocket.MessageBinary, wsConnect[5:])
	wsWrite(t, c, websocket.MessageBinary, append(append([]byte{}, wsPingreq...), wsSub...))
	for _, want := range [][]byte{wsConnect, wsPingreq, wsSub} {
		typ, got, err := wsRead(t, c)
		if err != nil || typ != websocket.MessageBinary || string(got) != string(want) {
			t.Fatalf("read = %v %x %v, want binary %x", typ, got, err, want)
		}
	}
}

func TestWSStreamSemantics(t *testing.T) {
	rec := &metaRecorder{ch: make(chan recorded, 4)}
	h := packetEcho(len(wsConnect), len(wsPingreq), len(wsSub))
	l := startListener(t, Config{Type: TypeWS}, func(c net.Conn, m ConnMeta) { rec.ch <- recorded{c, m}; h(c, m) })
	c := mustDialWS(t, wsURL(l, "ws", "/mqtt"), &websocket.DialOptions{Subprotocols: []string{"mqtt"}})
	if c.Subprotocol() != "mqtt" {
		t.Fatalf("subprotocol = %q", c.Subprotocol())
	}
	checkStream(t, c)
	got := rec.next(t)
	m := got.meta
	if m.Type != TypeWS || m.Subprotocol != "mqtt" || m.TLS != nil || !m.RemoteAddr.Addr().IsLoopback() {
		t.Fatalf("meta = %+v", m)
	}
	if got.conn.RemoteAddr().String() != m.RemoteAddr.String() {
		t.Fatalf("conn RemoteAddr %v, meta %v", got.conn.RemoteAddr(), m.RemoteAddr)
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
	waitFor(t, "ws conn released", func() bool { return l.Stats().Current == 0 })
}

func TestWSPathNotFound(t *testing.T) {
	l := startListener(t, Config{Type: TypeWS, WSPath: "/mqtt"}, echo)
	client := httpClient(t, nil, nil)
	resp, err := client.Get(wsURL(l, "http", "/other"))
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /other = %d, want 404", resp.StatusCode)
	}
	_, resp, err = dialWS(t, wsURL(l, "ws", "/other"), &websocket.DialOptions{Subprotocols: []string{"mqtt"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("ws dial /other = %v, %v; want 404", resp, err)
	}
	if s := l.Stats(); s.UpgradeErrors != 2 {
		t.Fatalf("stats = %+v", s)
	}
	client.CloseIdleConnections()
	waitFor(t, "http conns released", func() bool { return l.Stats().Current == 0 })
}

func TestWSSubprotocolNegotiation(t *testing.T) {
	cases := []struct {
		offer      []string
		failIfNone bool
		want       string
		status     int // 0 = upgraded
	}{
		{[]string{"mqtt"}, false, "mqtt", 0},
		{[]string{"mqttv3.1", "mqtt"}, false, "mqtt", 0},
		{[]string{"mqttv3.1"}, false, "mqttv3.1", 0},
		{[]string{"foo", "mqttv3.1.1"}, false, "mqttv3.1.1", 0},
		{[]string{"mqtt-v5"}, false, "mqtt-v5", 0},
		{nil, false, "", 0},
		{[]string{"foo"}, false, "", http.StatusBadRequest},
		{nil, true, "", http.StatusBadRequest},
		{[]string{"mqtt"}, true, "mqtt", 0},
	}
	plain := startListener(t, Config{Type: TypeWS}, echo)
	strict := startListener(t, Config{Type: TypeWS, WSFailIfNoSubprotocol: true}, echo)
	for _, tc := range cases {
		l := plain
		if tc.failIfNone {
			l = strict
		}
		c, resp, err := dialWS(t, wsURL(l, "ws", "/mqtt"), &websocket.DialOptions{Subprotocols: tc.offer})
		if tc.status != 0 {
			if err == nil || resp == nil || resp.StatusCode != tc.status {
				t.Fatalf("offer %v: resp %v err %v, want %d", tc.offer, resp, err, tc.status)
			}
			continue
		}
		if err != nil || c.Subprotocol() != tc.want {
			t.Fatalf("offer %v: err %v, subprotocol %q, want %q", tc.offer, err, c.Subprotocol(), tc.want)
		}
		_ = c.Close(websocket.StatusNormalClosure, "")
	}
}

func TestWSTextFrameCloses(t *testing.T) {
	readErr := make(chan error, 1)
	l := startListener(t, Config{Type: TypeWS}, func(c net.Conn, _ ConnMeta) {
		_, err := c.Read(make([]byte, 16))
		readErr <- err
	})
	c := mustDialWS(t, wsURL(l, "ws", "/mqtt"), &websocket.DialOptions{Subprotocols: []string{"mqtt"}})
	wsWrite(t, c, websocket.MessageText, []byte("not mqtt"))
	// [MQTT-6.0.0-1]: the server closes the connection.
	if _, _, err := wsRead(t, c); websocket.CloseStatus(err) != websocket.StatusUnsupportedData {
		t.Fatalf("client read = %v, want close 1003", err)
	}
	if err := <-readErr; err == nil {
		t.Fatalf("handler read a text frame without error")
	}
}

func TestWSReadDeadline(t *testing.T) {
	readErr := make(chan error, 1)
	l := startListener(t, Config{Type: TypeWS}, func(c net.Conn, _ ConnMeta) {
		_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		_, err := c.Read(make([]byte, 16))
		readErr <- err
	})
	mustDialWS(t, wsURL(l, "ws", "/mqtt"), &websocket.DialOptions{})
	select {
	case err := <-readErr:
		var ne net.Error
		if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("read after deadline = %v, want os.ErrDeadlineExceeded", err)
		}
	case <-time.After(testTimeout):
		t.Fatalf("read deadline did not fire")
	}
}

func TestWSConcurrentWriteAndClose(t *testing.T) {
	var written atomic.Int32
	closeTook := make(chan time.Duration, 1)
	l := startListener(t, Config{Type: TypeWS}, func(c net.Conn, _ ConnMeta) {
		writerDone := make(chan struct{})
		go func() {
			defer close(writerDone)
			for {
				if _, err := c.Write(wsPingreq); err != nil {
					return
				}
				written.Add(1)
			}
		}()
		for written.Load() < 50 {
			time.Sleep(time.Millisecond) // let the writer run
		}
		start := time.Now()
		_ = c.Close()
		closeTook <- time.Since(start)
		<-writerDone
	})
	c := mustDialWS(t, wsURL(l, "ws", "/mqtt"), &websocket.DialOptions{})
	go func() {
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	select {
	case d := <-closeTook: // returning at all is the point: a hung Close fails below
		t.Logf("Close took %v", d)
	case <-time.After(testTimeout):
		t.Fatalf("handler did not close")
	}
	waitFor(t, "ws conn released", func() bool { return l.Stats().Current == 0 })
}

func TestWSCloseUnblocksRead(t *testing.T) {
	readErr := make(chan error, 1)
	l := startListener(t, Config{Type: TypeWS}, func(c net.Conn, _ ConnMeta) {
		go func() {
			_, err := c.Read(make([]byte, 16))
			readErr <- err
		}()
		time.Sleep(50 * time.Millisecond) // let the read block
		_ = c.Close()
		<-readErr
		readErr <- nil
	})
	c := mustDialWS(t, wsURL(l, "ws", "/mqtt"), &websocket.DialOptions{})
	if _, _, err := wsRead(t, c); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("client read = %v, want normal closure", err)
	}
	waitFor(t, "ws conn released", func() bool { return l.Stats().Current == 0 })
}

func TestWSSecure(t *testing.T) {
	pki := newPKI(t)
	tc := pki.serverTLS()
	tc.VerifyPeer = true
	rec := &metaRecorder{ch: make(chan recorded, 4)}
	h := packetEcho(len(wsConnect), len(wsPingreq), len(wsSub))
	l := startListener(t, Config{Type: TypeWSS, TLS: tc}, func(c net.Conn, m ConnMeta) { rec.ch <- recorded{c, m}; h(c, m) })
	opts := &websocket.DialOptions{Subprotocols: []string{"mqtt"}, HTTPClient: httpClient(t, pki.clientTLS(true), nil)}
	c := mustDialWS(t, wsURL(l, "wss", "/mqtt"), opts)
	checkStream(t, c)
	m := rec.next(t).meta
	if m.Type != TypeWSS || m.TLS == nil || len(m.TLS.PeerCertificates) != 1 || m.TLS.PeerCertificates[0].Subject.CommonName != "client-1" {
		t.Fatalf("meta = %+v", m)
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
}

func TestWSProxyProtocol(t *testing.T) {
	rec := newRecorder()
	l := startListener(t, Config{Type: TypeWS, ProxyProtocol: true}, rec.handle)
	hdr := proxyHeader(t, 1, proxySrc, proxyDst)
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			_, err = c.Write(hdr)
		}
		return c, err
	}
	opts := &websocket.DialOptions{Subprotocols: []string{"mqtt"}, HTTPClient: httpClient(t, nil, dial)}
	c := mustDialWS(t, wsURL(l, "ws", "/mqtt"), opts)
	m := rec.next(t).meta
	if m.RemoteAddr != proxySrc || m.LocalAddr != proxyDst {
		t.Fatalf("meta = %+v", m)
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
	// Without the header the connection is refused before any HTTP.
	if _, _, err := dialWS(t, wsURL(l, "ws", "/mqtt"), &websocket.DialOptions{}); err == nil {
		t.Fatalf("ws dial without PROXY header succeeded")
	}
}

func TestWSCloseListenerKeepsUpgraded(t *testing.T) {
	l := startListener(t, Config{Type: TypeWS}, packetEcho(len(wsConnect), len(wsPingreq), len(wsSub)))
	c := mustDialWS(t, wsURL(l, "ws", "/mqtt"), &websocket.DialOptions{})
	pending := dialTCP(t, l) // TCP connected, no HTTP request yet
	waitFor(t, "two connections", func() bool { return l.Stats().Current == 2 })
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	expectClosed(t, pending, testTimeout)
	checkStream(t, c)
	_ = c.Close(websocket.StatusNormalClosure, "")
}

func TestWSCloseBoundedWithSilentPeer(t *testing.T) {
	closeTook := make(chan time.Duration, 1)
	l := startListener(t, Config{Type: TypeWS}, func(c net.Conn, _ ConnMeta) {
		start := time.Now()
		_ = c.Close() // the client never reads, so never answers the close frame
		closeTook <- time.Since(start)
	})
	mustDialWS(t, wsURL(l, "ws", "/mqtt"), &websocket.DialOptions{})
	select {
	case d := <-closeTook: // it waited for the close frame, and did not hang
		if d < wsCloseTimeout/2 {
			t.Fatalf("Close took %v, want about %v", d, wsCloseTimeout)
		}
	case <-time.After(testTimeout):
		t.Fatalf("Close did not return")
	}
}
