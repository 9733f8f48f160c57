package api

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// The HTTP API's listeners bound their connections: an idle keep-alive
// connection is closed after idle_timeout, a request whose body stalls
// after read_timeout, and the connection over max_connections at once. The
// checks run on dashboard.listeners.http and dashboard.listeners.https.

// apiEnd is one listener of the HTTP API under test.
type apiEnd struct {
	name string      // "http" or "https"
	addr net.Addr    // nil when the listener does not run
	tls  *tls.Config // nil for http
}

// dial opens a connection (TLS handshake done for https).
func (e apiEnd) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := e.tryDial()
	if err != nil {
		t.Fatalf("%s: dial: %v", e.name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (e apiEnd) tryDial() (net.Conn, error) {
	return e.dialWith(&net.Dialer{Timeout: testutil.Timeout})
}

func (e apiEnd) dialWith(d *net.Dialer) (net.Conn, error) {
	if e.addr == nil {
		return nil, fmt.Errorf("no %s API listener", e.name)
	}
	if e.tls == nil {
		return d.Dial("tcp", e.addr.String())
	}
	c, err := tls.DialWithDialer(d, "tcp", e.addr.String(), e.tls)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// httpEnds runs a node with both API listeners, each configured by set,
// and returns them.
func httpEnds(t *testing.T, set func(*config.DashboardListener)) (*testutil.Server, []apiEnd) {
	t.Helper()
	pki := testutil.NewPKI(t)
	s := testutil.RunServer(t, pki.UseAPITLS(), func(c *config.Config) {
		set(&c.Dashboard.Listeners.HTTP)
		set(&c.Dashboard.Listeners.HTTPS)
	})
	return s, []apiEnd{{"http", s.APIAddr(), nil}, {"https", s.APITLSAddr(), pki.ClientConfig()}}
}

// getStatus sends GET /status on c (keep-alive) and reads the answer.
func getStatus(t *testing.T, c net.Conn, r *bufio.Reader) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(testutil.Timeout))
	if _, err := io.WriteString(c, "GET /status HTTP/1.1\r\nHost: herald\r\n\r\n"); err != nil {
		t.Fatalf("write request: %v", err)
	}
	res, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Close {
		t.Fatalf("GET /status: %d, close %v", res.StatusCode, res.Close)
	}
}

// expectEOF waits (up to testutil.Timeout, a failure bound) until the
// server closes c, discarding what it sends first.
func expectEOF(t *testing.T, c net.Conn, r io.Reader, what string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(testutil.Timeout))
	_, err := io.Copy(io.Discard, r)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("%s: connection still open after %v", what, testutil.Timeout)
	}
}

// TestHTTPIdleConnectionClosed: a keep-alive connection that sends no
// further request is closed after idle_timeout, not before.
func TestHTTPIdleConnectionClosed(t *testing.T) {
	_, ends := httpEnds(t, func(l *config.DashboardListener) { l.IdleTimeout = time.Second })
	for _, e := range ends {
		t.Run(e.name, func(t *testing.T) {
			c := e.dial(t)
			r := bufio.NewReader(c)
			start := time.Now() // before the server can start the idle timer
			getStatus(t, c, r)
			expectEOF(t, c, r, "idle keep-alive connection")
			if el := time.Since(start); el < 900*time.Millisecond {
				t.Fatalf("closed %v after the request, before idle_timeout (1s)", el)
			}
		})
	}
}

// TestHTTPStalledBodyClosed: a request that sends one byte of a 1 MB body
// and stops is ended by read_timeout and its connection closed.
func TestHTTPStalledBodyClosed(t *testing.T) {
	_, ends := httpEnds(t, func(l *config.DashboardListener) { l.ReadTimeout = time.Second })
	for _, e := range ends {
		t.Run(e.name, func(t *testing.T) {
			c := e.dial(t)
			req := "POST /api/v5/login HTTP/1.1\r\nHost: herald\r\nContent-Type: application/json\r\n" +
				"Content-Length: 1000000\r\n\r\n{"
			if _, err := io.WriteString(c, req); err != nil {
				t.Fatalf("write: %v", err)
			}
			expectEOF(t, c, c, "request with a stalled body")
		})
	}
}

// TestHTTPStalledReaderClosed: a client that asks for megabytes of
// responses (the 190 KB OpenAPI document, 20 times, pipelined) and reads
// none of it is closed once the socket has taken nothing for send_timeout.
func TestHTTPStalledReaderClosed(t *testing.T) {
	s, ends := httpEnds(t, func(l *config.DashboardListener) { l.SendTimeout = time.Second })
	for _, e := range ends {
		t.Run(e.name, func(t *testing.T) {
			c, err := e.dialWith(&net.Dialer{Timeout: testutil.Timeout, Control: smallReceiveBuffer})
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.Close()
			req := strings.Repeat("GET /api/v5/openapi.json HTTP/1.1\r\nHost: herald\r\n\r\n", 20)
			if _, err := io.WriteString(c, req); err != nil {
				t.Fatalf("write: %v", err)
			}
			// Accepted, then closed by the server while the client read nothing.
			testutil.Eventually(t, testutil.Timeout, func() error {
				if st, _ := s.APIConnStats(e.name); st.Accepted != 1 || st.Open != 0 {
					return fmt.Errorf("%s: %+v, want the connection accepted and closed", e.name, st)
				}
				return nil
			})
			expectEOF(t, c, c, "stalled reader") // what the kernel took, then the end
		})
	}
}

// smallReceiveBuffer sets a 4 KB socket receive buffer before connecting,
// so the kernel absorbs little of what the server sends.
func smallReceiveBuffer(_, _ string, rc syscall.RawConn) error {
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
	}); err != nil {
		return err
	}
	return serr
}

// TestHTTPMaxConnections: with max_connections = n, n keep-alive
// connections are served and kept; connection n+1 is closed at once (and
// counted); once one of the n closes, a new one is served.
func TestHTTPMaxConnections(t *testing.T) {
	for _, tc := range []struct {
		name string
		max  int
	}{{"http", 500}, {"https", 100}} {
		t.Run(tc.name, func(t *testing.T) {
			s, ends := httpEnds(t, func(l *config.DashboardListener) {
				l.MaxConnections, l.IdleTimeout = tc.max, time.Hour // held for the whole test
			})
			e := ends[0]
			if tc.name == "https" {
				e = ends[1]
			}
			held := make([]net.Conn, tc.max)
			for i := range held {
				held[i] = e.dial(t)
				getStatus(t, held[i], bufio.NewReader(held[i]))
			}
			waitAPIConns(t, s, e.name, int64(tc.max), 0)
			expectRefused(t, e)
			waitAPIConns(t, s, e.name, int64(tc.max), 1)
			held[0].Close()
			waitAPIConns(t, s, e.name, int64(tc.max-1), 1)
			c := e.dial(t)
			getStatus(t, c, bufio.NewReader(c))
		})
	}
}

// expectRefused dials one connection too many: it is closed before a
// request can be answered (for https, before or at the handshake).
func expectRefused(t *testing.T, e apiEnd) {
	t.Helper()
	c, err := e.tryDial()
	if err != nil {
		return // https: the handshake met the close
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(testutil.Timeout))
	_, _ = io.WriteString(c, "GET /status HTTP/1.1\r\nHost: herald\r\n\r\n")
	b, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("%s: connection over max_connections still open after %v", e.name, testutil.Timeout)
	}
	if len(b) > 0 {
		t.Fatalf("%s: connection over max_connections answered %q", e.name, firstLine(b))
	}
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	return s
}

// waitAPIConns waits until the listener counts open connections and refused
// ones.
func waitAPIConns(t *testing.T, s *testutil.Server, name string, open int64, refused uint64) {
	t.Helper()
	testutil.Eventually(t, testutil.Timeout, func() error {
		st, ok := s.APIConnStats(name)
		if !ok || st.Open != open || st.Refused != refused {
			return fmt.Errorf("%s: %+v (on %v), want %d open, %d refused", name, st, ok, open, refused)
		}
		return nil
	})
}

// TestConfigsDashboardListeners: GET /configs/dashboard shows the
// listeners' settings in force, https included.
func TestConfigsDashboardListeners(t *testing.T) {
	s, _ := httpEnds(t, func(l *config.DashboardListener) { l.MaxConnections, l.IdleTimeout = 7, 9*time.Second })
	c, ctx := s.API(t), testutil.Ctx(t)
	db, err := c.ConfigRoot(ctx, "dashboard")
	if err != nil {
		t.Fatal(err)
	}
	ls := db["listeners"].(map[string]any)
	for _, name := range []string{"http", "https"} {
		l := ls[name].(map[string]any)
		if l["enable"] != true || l["max_connections"] != float64(7) || l["idle_timeout"] != "9s" ||
			l["read_timeout"] != "1m" || l["send_timeout"] != "10s" || !strings.HasPrefix(l["bind"].(string), "127.0.0.1:") {
			t.Fatalf("%s: %v", name, l)
		}
	}
	ssl := ls["https"].(map[string]any)["ssl_options"].(map[string]any)
	if !strings.HasSuffix(ssl["certfile"].(string), "server.pem") || !strings.HasSuffix(ssl["keyfile"].(string), "server-key.pem") {
		t.Fatalf("https ssl_options: %v", ssl)
	}
	if _, err := c.UpdateConfigRoot(ctx, "dashboard", db); err != nil {
		t.Fatalf("PUT of the unchanged root: %v", err)
	}
	off := testutil.RunServer(t)
	db, err = off.API(t).ConfigRoot(ctx, "dashboard")
	if err != nil {
		t.Fatal(err)
	}
	if h := db["listeners"].(map[string]any)["https"].(map[string]any); h["enable"] != false || h["bind"] != float64(0) {
		t.Fatalf("https off: %v", h)
	}
}

// TestHTTPShutdownClosesConnections: at shutdown the API closes its idle
// keep-alive connections and, after a short grace, those in the middle of
// a request (a body that never comes); none is left open (and the
// package's goleak check finds none of their goroutines).
func TestHTTPShutdownClosesConnections(t *testing.T) {
	s, ends := httpEnds(t, func(*config.DashboardListener) {})
	var conns []net.Conn
	for _, e := range ends {
		idle := e.dial(t)
		getStatus(t, idle, bufio.NewReader(idle))
		stalled := e.dial(t)
		if _, err := io.WriteString(stalled, "POST /api/v5/login HTTP/1.1\r\nHost: herald\r\nContent-Length: 100\r\n\r\n{"); err != nil {
			t.Fatalf("write: %v", err)
		}
		conns = append(conns, idle, stalled)
	}
	waitAPIConns(t, s, "http", 2, 0)
	waitAPIConns(t, s, "https", 2, 0)
	s.Stop(t)
	for _, name := range []string{"http", "https"} {
		if st, _ := s.APIConnStats(name); st.Open != 0 {
			t.Fatalf("%s: %+v after shutdown", name, st)
		}
	}
	for i, c := range conns {
		expectEOF(t, c, c, fmt.Sprintf("connection %d at shutdown", i))
	}
}
