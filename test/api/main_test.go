// Package api holds the end-to-end tests of the management API: a real
// node, real MQTT clients (paho), and the API reached over HTTP through
// pkg/client.
package api

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/cockroachdb/pebble/v2/internal/invariants.init.0.func1"))
}
