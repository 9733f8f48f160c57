package api

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/herald-mqtt/herald/pkg/client"
)

// TestStatus: /status and /api/v5/status answer without credentials, as
// text or JSON, 200 while the node runs and 503 once it stops.
func TestStatus(t *testing.T) {
	s := testutil.RunServer(t)
	c := client.New(s.APIURL()) // no credentials
	ctx := testutil.Ctx(t)
	want := "Node herald@127.0.0.1 is started\nherald is running"
	for _, bare := range []bool{false, true} {
		got, err := c.StatusText(ctx, bare)
		if err != nil || got != want {
			t.Fatalf("status text (bare %v): %q, %v; want %q", bare, got, err, want)
		}
	}
	code, ct, _ := monGet(t, s.APIURL()+"/status", "")
	if code != http.StatusOK || !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("GET /status: %d %s", code, ct)
	}
	st, err := c.Status(ctx)
	if err != nil || st.NodeName != "herald@127.0.0.1" || st.BrokerStatus != "started" || st.AppStatus != "running" {
		t.Fatalf("status json: %+v, %v", st, err)
	}
	_, _, body := monGet(t, s.APIURL()+"/api/v5/status?format=json", "")
	testutil.GoldenShape(t, "status.json", body)

	code, _, body = monGet(t, s.APIURL()+"/api/v5/status?format=xml", "")
	if code != http.StatusBadRequest {
		t.Fatalf("format=xml: %d", code)
	}
	testutil.GoldenShape(t, "status_bad_format.json", body)

	// The management service stops first when a node shuts down.
	if err := s.Service().Close(); err != nil {
		t.Fatal(err)
	}
	_, err = c.Status(ctx)
	var e *client.Error
	if !errors.As(err, &e) || e.Status != http.StatusServiceUnavailable {
		t.Fatalf("stopped node: %v, want 503", err)
	}
	code, _, body = monGet(t, s.APIURL()+"/status", "")
	if code != http.StatusServiceUnavailable || string(body) != "Node herald@127.0.0.1 is stopped\nherald is not_running" {
		t.Fatalf("stopped node, text: %d %q", code, body)
	}
}
