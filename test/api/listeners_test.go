package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"testing"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/herald-mqtt/herald/pkg/client"
)

// lnGetRaw GETs path and returns the body of a success.
func lnGetRaw(t *testing.T, c *client.Client, path string) []byte {
	t.Helper()
	res, err := c.Do(context.Background(), http.MethodGet, path, nil, nil, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return res.Body
}

// lnWantErr checks err is an API error with status and code, and pins
// its shape in golden (when not "").
func lnWantErr(t *testing.T, err error, status int, code, golden string) {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) || e.Status != status || e.Code != code {
		t.Fatalf("got %v, want %d %s", err, status, code)
	}
	if golden != "" {
		testutil.GoldenShape(t, golden, []byte(`{"code":"`+e.Code+`","message":"m"}`))
	}
}

// lnFreePort returns a loopback address nothing listens on.
func lnFreePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// lnRefused checks nothing accepts on addr.
func lnRefused(t *testing.T, addr string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, testutil.Timeout)
	if err == nil {
		conn.Close()
		t.Fatalf("%s still accepts connections", addr)
	}
}

// lnConnect connects an MQTT 5 client to addr.
func lnConnect(t *testing.T, addr, id string) *testutil.Raw {
	t.Helper()
	c, _ := testutil.ConnectRawV5(t, addr, id)
	return c
}

func lnPtr[T any](v T) *T { return &v }

func TestListenersListAndStatus(t *testing.T) {
	s := testutil.RunServer(t)
	c := s.API(t)
	ctx := context.Background()
	testutil.GoldenShape(t, "listeners_list.json", lnGetRaw(t, c, "/listeners"))
	testutil.GoldenShape(t, "listeners_status.json", lnGetRaw(t, c, "/listeners_status"))
	testutil.GoldenShape(t, "listener_tcp.json", lnGetRaw(t, c, "/listeners/tcp:default"))
	testutil.GoldenShape(t, "listener_ssl.json", lnGetRaw(t, c, "/listeners/ssl:default"))
	testutil.GoldenShape(t, "listener_ws.json", lnGetRaw(t, c, "/listeners/ws:default"))

	all, err := c.Listeners(ctx, "")
	if err != nil || len(all) != 4 {
		t.Fatalf("listeners: %v %+v", err, all)
	}
	tcp, err := c.Listeners(ctx, "tcp")
	if err != nil || len(tcp) != 1 || tcp[0].ID != "tcp:default" || tcp[0].Status.Running != true || tcp[0].Number != 1 {
		t.Fatalf("tcp listeners: %v %+v", err, tcp)
	}
	lnConnect(t, s.TCP(), "counted")
	testutil.Eventually(t, testutil.Timeout, func() error {
		l, err := c.Listener(ctx, "tcp:default")
		if err != nil {
			return err
		}
		if *l.CurrentConnections != 1 {
			return errors.New("current_connections = " + strconv.Itoa(*l.CurrentConnections))
		}
		return nil
	})
	st, err := c.ListenersStatus(ctx)
	if err != nil || len(st) != 4 || st[0].Type != "tcp" || st[0].Status.CurrentConnections != 1 {
		t.Fatalf("status: %v %+v", err, st)
	}
	if st[1].Type != "ssl" || st[1].Status.Running != false {
		t.Fatalf("ssl (no certificate) status: %+v", st[1])
	}
	_, err = c.Listeners(ctx, "bogus")
	lnWantErr(t, err, 400, "BAD_REQUEST", "")

	// A GET object PUT back unchanged is accepted and changes nothing
	// (the listener is not even restarted).
	addr := s.TCP()
	for _, id := range []string{"tcp:default", "ssl:default", "ws:default"} {
		l, err := c.Listener(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.UpdateListener(ctx, id, l); err != nil {
			t.Fatalf("PUT back %s: %v", id, err)
		}
	}
	if s.TCP() != addr {
		t.Fatal("an unchanged PUT restarted tcp:default")
	}
}

func TestListenerLifecycle(t *testing.T) {
	s := testutil.RunServer(t)
	c := s.API(t)
	ctx := context.Background()

	res, err := c.Do(ctx, http.MethodPost, "/listeners", nil,
		client.Listener{Type: "tcp", Name: "extra", Bind: "127.0.0.1:0", MaxConnections: 10}, nil)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	testutil.GoldenShape(t, "listener_create.json", res.Body)
	l, err := c.Listener(ctx, "tcp:extra")
	if err != nil || !*l.Running || l.MaxConnections != float64(10) || l.ID != "tcp:extra" {
		t.Fatalf("created listener: %v %+v", err, l)
	}
	addr := s.Addr("tcp:extra")
	live := lnConnect(t, addr, "on-extra")

	// Stop: no new connections, the existing one stays.
	if err := c.StopListener(ctx, "tcp:extra"); err != nil {
		t.Fatalf("stop: %v", err)
	}
	lnRefused(t, addr)
	if l, _ = c.Listener(ctx, "tcp:extra"); *l.Running || *l.CurrentConnections != 1 {
		t.Fatalf("stopped listener: %+v running=%v current=%d", l, *l.Running, *l.CurrentConnections)
	}
	live.Send(&packet.Pingreq{})
	live.Expect(packet.PINGRESP)

	// Start again (port 0: a new port), then restart.
	if err := c.StartListener(ctx, "tcp:extra"); err != nil {
		t.Fatalf("start: %v", err)
	}
	lnConnect(t, s.Addr("tcp:extra"), "after-start")
	if err := c.RestartListener(ctx, "tcp:extra"); err != nil {
		t.Fatalf("restart: %v", err)
	}
	lnConnect(t, s.Addr("tcp:extra"), "after-restart")

	// Update the bind to a known port.
	fixed := lnFreePort(t)
	l, err = c.UpdateListener(ctx, "tcp:extra", client.Listener{Type: "tcp", Bind: fixed})
	if err != nil || l.Bind != fixed || !*l.Running {
		t.Fatalf("update: %v %+v", err, l)
	}
	if got := s.Addr("tcp:extra"); got != fixed {
		t.Fatalf("bound to %s, want %s", got, fixed)
	}
	lnConnect(t, fixed, "after-update")

	// Delete.
	if err := c.DeleteListener(ctx, "tcp:extra"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	lnRefused(t, fixed)
	_, err = c.Listener(ctx, "tcp:extra")
	lnWantErr(t, err, 404, "BAD_LISTENER_ID", "listener_not_found.json")
}

func TestListenerErrors(t *testing.T) {
	s := testutil.RunServer(t)
	c := s.API(t)
	ctx := context.Background()

	_, err := c.Listener(ctx, "nonsense")
	lnWantErr(t, err, 400, "BAD_LISTENER_ID", "listener_bad_id.json")
	_, err = c.Listener(ctx, "tcp:nope")
	lnWantErr(t, err, 404, "BAD_LISTENER_ID", "")
	lnWantErr(t, c.StopListener(ctx, "tcp:nope"), 404, "BAD_LISTENER_ID", "")
	lnWantErr(t, c.StartListener(ctx, "quic:x"), 400, "BAD_LISTENER_ID", "")
	lnWantErr(t, c.DeleteListener(ctx, "tcp:nope"), 404, "BAD_LISTENER_ID", "")
	_, err = c.UpdateListener(ctx, "tcp:nope", client.Listener{Type: "tcp", Bind: "127.0.0.1:0"})
	lnWantErr(t, err, 404, "BAD_LISTENER_ID", "")

	// Duplicate, bad values, an address in use: 400 and nothing changed.
	_, err = c.CreateListener(ctx, client.Listener{Type: "tcp", Name: "default", Bind: "127.0.0.1:0"})
	lnWantErr(t, err, 400, "BAD_LISTENER_ID", "")
	_, err = c.CreateListener(ctx, client.Listener{Type: "tcp", Name: "bad", Bind: "127.0.0.1:0", MaxConnections: "lots"})
	lnWantErr(t, err, 400, "BAD_REQUEST", "listener_bad_value.json")
	_, err = c.CreateListener(ctx, client.Listener{Type: "tcp", Name: "busy", Bind: s.TCP()})
	lnWantErr(t, err, 400, "UPDATE_FAILED", "")
	_, err = c.Listener(ctx, "tcp:busy")
	lnWantErr(t, err, 404, "BAD_LISTENER_ID", "")
	lnConnect(t, s.TCP(), "default-still-up")

	// A start on an address another process holds.
	hold, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	if _, err := c.CreateListener(ctx, client.Listener{Type: "tcp", Name: "later", Bind: hold.Addr().String(), Enable: lnPtr(false)}); err != nil {
		t.Fatalf("create disabled: %v", err)
	}
	lnWantErr(t, c.StartListener(ctx, "tcp:later"), 400, "BAD_REQUEST", "")
	_, err = c.UpdateListener(ctx, "tcp:later", client.Listener{Type: "tcp", Enable: lnPtr(true)})
	lnWantErr(t, err, 400, "UPDATE_FAILED", "")
	if l, err := c.Listener(ctx, "tcp:later"); err != nil || *l.Enable || *l.Running {
		t.Fatalf("after a failed update: %v %+v", err, l)
	}
}

func TestListenerChangesSurviveRestart(t *testing.T) {
	s := testutil.RunServer(t)
	c := s.API(t)
	ctx := context.Background()
	fixed := lnFreePort(t)
	if _, err := c.CreateListener(ctx, client.Listener{Type: "tcp", Name: "kept", Bind: fixed}); err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := c.DeleteListener(ctx, "ws:default"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := c.StopListener(ctx, "tcp:default"); err != nil { // not persisted, as EMQX
		t.Fatalf("stop: %v", err)
	}
	s = s.Restart(t)
	c = s.API(t)
	l, err := c.Listener(ctx, "tcp:kept")
	if err != nil || !*l.Running || l.Bind != fixed {
		t.Fatalf("after restart: %v %+v", err, l)
	}
	lnConnect(t, fixed, "kept")
	lnConnect(t, s.TCP(), "default-back")
	_, err = c.Listener(ctx, "ws:default")
	lnWantErr(t, err, 404, "BAD_LISTENER_ID", "")
}
