package api

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/herald-mqtt/herald/pkg/client"
)

// fastSysmon checks memory and connections every 20ms with memory alarms
// out of reach, and turns the CPU check off.
func fastSysmon(conns int) func(*config.Config) {
	return func(c *config.Config) {
		c.Sysmon.MemCheckInterval = 20 * time.Millisecond
		c.Sysmon.CPUCheckInterval = 0
		c.Sysmon.SysmemHighWatermark, c.Sysmon.ProcmemHighWatermark = 100, 100
		c.Sysmon.ConnHighWatermark = conns
	}
}

// findAlarm polls the activated (or deactivated) alarms until name shows.
func findAlarm(t *testing.T, c *client.Client, activated bool, name string) client.Alarm {
	t.Helper()
	var found client.Alarm
	testutil.Eventually(t, testutil.Timeout, func() error {
		p, err := c.Alarms(context.Background(), activated, 0, 0)
		if err != nil {
			return err
		}
		for _, a := range p.Data {
			if a.Name == name {
				found = a
				return nil
			}
		}
		return fmt.Errorf("no alarm %s (activated=%v) in %+v", name, activated, p.Data)
	})
	return found
}

func TestAlarmsConnectionWatermark(t *testing.T) {
	s := testutil.RunServer(t, fastSysmon(2))
	c := s.API(t)
	ctx := context.Background()
	clients := []*testutil.V5{liveV5(t, s.TCP(), "a1", ""), liveV5(t, s.TCP(), "a2", "")}
	if p, err := c.Alarms(ctx, true, 0, 0); err != nil || len(p.Data) != 0 {
		t.Fatalf("alarms with 2 connections: %+v, %v", p, err)
	}
	clients = append(clients, liveV5(t, s.TCP(), "a3", ""))
	a := findAlarm(t, c, true, "high_connection_count")
	if a.DeactivateAt != "infinity" || a.ActivateAt == "" || a.Node == "" || a.Details["high_watermark"] != float64(2) {
		t.Fatalf("activated alarm %+v", a)
	}
	testutil.GoldenShape(t, "alarms_activated.json", getRaw(t, c, "/alarms?activated=true"))

	if err := clients[2].Disconnect(&paho.Disconnect{}); err != nil {
		t.Fatal(err)
	}
	h := findAlarm(t, c, false, "high_connection_count")
	if h.DeactivateAt == "infinity" || h.Duration < 0 {
		t.Fatalf("deactivated alarm %+v", h)
	}
	if p, err := c.Alarms(ctx, true, 0, 0); err != nil || len(p.Data) != 0 {
		t.Fatalf("still activated: %+v, %v", p, err)
	}
	testutil.GoldenShape(t, "alarms_history.json", getRaw(t, c, "/alarms?activated=false"))

	if err := c.ClearAlarmHistory(ctx); err != nil {
		t.Fatal(err)
	}
	if p, err := c.Alarms(ctx, false, 0, 0); err != nil || len(p.Data) != 0 || *p.Meta.Count != 0 {
		t.Fatalf("history after DELETE: %+v, %v", p, err)
	}
	_, err := c.Do(ctx, "GET", "/alarms", map[string][]string{"activated": {"maybe"}}, nil, nil)
	apiErr(t, err, nil, 400, "BAD_REQUEST", "alarms_400.json")
}

func TestAlarmsCPUWatermark(t *testing.T) {
	s := testutil.RunServer(t, func(c *config.Config) {
		c.Sysmon.CPUCheckInterval = 50 * time.Millisecond
		c.Sysmon.CPUHighWatermark, c.Sysmon.CPULowWatermark = 0, 0
		c.Sysmon.MemCheckInterval = 0
	})
	a := findAlarm(t, s.API(t), true, "high_cpu_usage")
	if a.Details["usage"] == nil || a.Message == "" {
		t.Fatalf("cpu alarm %+v", a)
	}
}
