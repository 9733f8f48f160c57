package api

import (
	"context"
	"strings"
	"testing"

	"github.com/herald-mqtt/herald/internal/testutil"
)

// TestSysTopicsHotUpdate: $SYS is off in test nodes; turning the heartbeat
// on through PUT /configs/sys_topics starts the uptime topic at once,
// without a restart.
func TestSysTopicsHotUpdate(t *testing.T) {
	s := testutil.RunServer(t)
	sub := clV5(t, s.TCP(), "sys-watcher", "", true, 0)
	sub.SubscribeOK(t, "$SYS/brokers/+/uptime", 0)
	ctx := context.Background()
	root, err := s.API(t).ConfigRoot(ctx, "sys_topics")
	if err != nil {
		t.Fatal(err)
	}
	root["sys_heartbeat_interval"] = "1s"
	if _, err := s.API(t).UpdateConfigRoot(ctx, "sys_topics", root); err != nil {
		t.Fatalf("PUT /configs/sys_topics: %v", err)
	}
	if p := sub.Next(t); !strings.HasSuffix(p.Topic, "/uptime") {
		t.Fatalf("got %s, want the uptime heartbeat", p.Topic)
	}
}
