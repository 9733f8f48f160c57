package api

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/lograte"
	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/herald-mqtt/herald/pkg/client"
)

func TestLoginBootstrapAdmin(t *testing.T) {
	s := testutil.RunServer(t)
	c := client.New(s.APIURL())
	ctx := context.Background()
	res, err := c.Login(ctx, "admin", "public")
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if res.Token == "" || res.Role != "administrator" {
		t.Fatalf("login result %+v", res)
	}
	_, err = client.New(s.APIURL()).Login(ctx, "admin", "wrong")
	var e *client.Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized || e.Code != "BAD_USERNAME_OR_PWD" {
		t.Fatalf("wrong password: %v", err)
	}
}

// TestLoginLockoutLogRateLimited: 1,000 bad logins (most of them refused
// by the lock) write a bounded number of log lines, and once the node
// stops the summaries count the rest: every attempt is either a line or
// counted as suppressed.
func TestLoginLockoutLogRateLimited(t *testing.T) {
	t.Parallel()
	s, logs := testutil.RunServerLogged(t)
	c := client.New(s.APIURL())
	ctx := context.Background()
	const attempts = 1000
	start := time.Now()
	for range attempts {
		var e *client.Error
		if _, err := c.Login(ctx, "admin", "wrong"); !errors.As(err, &e) || e.Status != http.StatusUnauthorized {
			t.Fatalf("bad login: %v", err)
		}
	}
	elapsed := time.Since(start)
	s.Stop(t) // the service writes its last summaries
	bound := lograte.DefaultBurst + int(elapsed.Seconds()*lograte.DefaultRate) + 1
	total := 0
	for _, msg := range []string{"dashboard login locked", "dashboard login failed"} {
		passed := len(logs.Find(t, msg))
		if passed > bound {
			t.Fatalf("%d %q lines for %d bad logins in %v, want at most %d", passed, msg, attempts, elapsed, bound)
		}
		total += passed
		for _, r := range logs.Find(t, lograte.SummaryMsg, "suppressed_msg", msg, "component", "service") {
			total += int(r["suppressed"].(float64))
		}
	}
	if total != attempts {
		t.Fatalf("lines + suppressed = %d, want one per attempt (%d)", total, attempts)
	}
}
