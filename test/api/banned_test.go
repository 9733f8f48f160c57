package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/herald-mqtt/herald/pkg/client"
)

// connectRC connects a paho v5 client and returns the CONNACK reason code
// (0 on success; the client is closed in t.Cleanup).
func connectRC(t *testing.T, addr, clientID, username string) byte {
	t.Helper()
	c := testutil.DialV5(t, addr)
	cp := &paho.Connect{ClientID: clientID, CleanStart: true, KeepAlive: 30}
	if username != "" {
		cp.Username, cp.UsernameFlag = username, true
	}
	ack, err := c.Connect(testutil.Ctx(t), cp)
	if ack == nil {
		t.Fatalf("connect %q: no CONNACK: %v", clientID, err)
	}
	return ack.ReasonCode
}

// connectV3RC connects a raw 3.1.1 client and returns the CONNACK return
// code.
func connectV3RC(t *testing.T, addr, clientID string) byte {
	t.Helper()
	c := testutil.DialRaw(t, addr, packet.V311)
	return byte(c.Connect(&packet.Connect{ProtocolName: "MQTT", ClientID: clientID, CleanStart: true}).ReasonCode)
}

// expectKicked waits for a v5 client to get DISCONNECT (administrative
// action).
func expectKicked(t *testing.T, c *testutil.V5) {
	t.Helper()
	select {
	case d := <-c.Disc:
		if d.ReasonCode != byte(packet.AdministrativeAction) {
			t.Fatalf("DISCONNECT 0x%02x, want 0x98", d.ReasonCode)
		}
	case <-time.After(testutil.Timeout):
		t.Fatal("banned client not kicked")
	}
}

func liveV5(t *testing.T, addr, clientID, username string) *testutil.V5 {
	t.Helper()
	cp := &paho.Connect{ClientID: clientID, CleanStart: true, KeepAlive: 30}
	if username != "" {
		cp.Username, cp.UsernameFlag = username, true
	}
	c, _ := testutil.ConnectV5(t, addr, cp)
	return c
}

func TestBannedClientID(t *testing.T) {
	s := testutil.RunServer(t)
	c := s.API(t)
	ctx := context.Background()
	victim := liveV5(t, s.TCP(), "victim", "")

	var ban client.Ban
	resp, err := c.Do(ctx, http.MethodPost, "/banned", nil, client.Ban{As: "clientid", Who: "victim", Reason: "test"}, &ban)
	if err != nil {
		t.Fatalf("ban: %v", err)
	}
	testutil.GoldenShape(t, "banned_create.json", resp.Body)
	if ban.By != "mgmt_api" || ban.Reason != "test" || ban.At == "" || ban.Until == "" {
		t.Fatalf("ban %+v", ban)
	}
	at, _ := time.Parse(time.RFC3339, ban.At)
	until, _ := time.Parse(time.RFC3339, ban.Until)
	if d := until.Sub(at); d != 365*24*time.Hour {
		t.Fatalf("default ban length %v, want a year", d)
	}
	expectKicked(t, victim)
	if rc := connectRC(t, s.TCP(), "victim", ""); rc != byte(packet.Banned) {
		t.Fatalf("v5 CONNACK 0x%02x, want 0x8a", rc)
	}
	if rc := connectV3RC(t, s.TCP(), "victim"); rc != byte(packet.V3NotAuthorized) {
		t.Fatalf("v3 CONNACK %d, want 5", rc)
	}
	if rc := connectRC(t, s.TCP(), "bystander", ""); rc != 0 {
		t.Fatalf("unbanned client refused: 0x%02x", rc)
	}

	_, err = c.Ban(ctx, client.Ban{As: "clientid", Who: "victim", Reason: "again"})
	e := apiErr(t, err, nil, http.StatusBadRequest, "ALREADY_EXISTS", "banned_exists_400.json")
	var existing client.Ban
	if json.Unmarshal([]byte(e.Message), &existing) != nil || existing.Reason != "test" || existing.Who != "victim" {
		t.Fatalf("ALREADY_EXISTS message %q does not hold the existing ban", e.Message)
	}
	_, err = c.Ban(ctx, client.Ban{As: "ip", Who: "x"})
	apiErr(t, err, nil, http.StatusBadRequest, "BAD_REQUEST", "banned_bad_as_400.json")
	_, err = c.Ban(ctx, client.Ban{As: "peerhost", Who: "not-an-ip"})
	apiErr(t, err, nil, http.StatusBadRequest, "BAD_REQUEST", "")
	_, err = c.Do(ctx, http.MethodPost, "/banned", nil, map[string]any{"as": "clientid", "who": "old", "until": 1000}, nil)
	apiErr(t, err, nil, http.StatusBadRequest, "BAD_REQUEST", "")

	list, err := c.Banned(ctx, 0, 0)
	if err != nil || len(list.Data) != 1 || *list.Meta.Count != 1 {
		t.Fatalf("list: %+v, %v", list, err)
	}
	testutil.GoldenShape(t, "banned_list.json", getRaw(t, c, "/banned"))

	if err := c.Unban(ctx, "clientid", "victim"); err != nil {
		t.Fatalf("unban: %v", err)
	}
	err = c.Unban(ctx, "clientid", "victim")
	apiErr(t, err, nil, http.StatusNotFound, "NOT_FOUND", "banned_delete_404.json")
	err = c.Unban(ctx, "ip", "victim")
	apiErr(t, err, nil, http.StatusBadRequest, "BAD_REQUEST", "")
	if rc := connectRC(t, s.TCP(), "victim", ""); rc != 0 {
		t.Fatalf("unbanned client refused: 0x%02x", rc)
	}
}

func TestBannedUsernameAndPeerhost(t *testing.T) {
	s := testutil.RunServer(t)
	c := s.API(t)
	ctx := context.Background()

	mallory := liveV5(t, s.TCP(), "m1", "mallory")
	if _, err := c.Ban(ctx, client.Ban{As: "username", Who: "mallory"}); err != nil {
		t.Fatal(err)
	}
	expectKicked(t, mallory)
	if rc := connectRC(t, s.TCP(), "m2", "mallory"); rc != byte(packet.Banned) {
		t.Fatalf("username ban: CONNACK 0x%02x", rc)
	}
	if _, err := c.Ban(ctx, client.Ban{As: "username_re", Who: "^guest-"}); err != nil {
		t.Fatal(err)
	}
	if rc := connectRC(t, s.TCP(), "g", "guest-7"); rc != byte(packet.Banned) {
		t.Fatalf("username_re ban: CONNACK 0x%02x", rc)
	}
	if _, err := c.Ban(ctx, client.Ban{As: "clientid_re", Who: "^bot[0-9]+$"}); err != nil {
		t.Fatal(err)
	}
	if rc := connectRC(t, s.TCP(), "bot42", ""); rc != byte(packet.Banned) {
		t.Fatalf("clientid_re ban: CONNACK 0x%02x", rc)
	}
	if rc := connectRC(t, s.TCP(), "human", "alice"); rc != 0 {
		t.Fatalf("innocent client refused: 0x%02x", rc)
	}

	for _, b := range []client.Ban{{As: "peerhost", Who: "127.0.0.1"}, {As: "peerhost_net", Who: "127.0.0.0/8"}} {
		live := liveV5(t, s.TCP(), "live-"+b.As, "")
		got, err := c.Ban(ctx, b)
		if err != nil || got.Who != b.Who {
			t.Fatalf("ban %+v: %+v, %v", b, got, err)
		}
		expectKicked(t, live)
		if rc := connectRC(t, s.TCP(), "anyone", ""); rc != byte(packet.Banned) {
			t.Fatalf("%s ban: CONNACK 0x%02x", b.As, rc)
		}
		if err := c.Unban(ctx, b.As, b.Who); err != nil {
			t.Fatalf("unban %+v: %v", b, err)
		}
		if rc := connectRC(t, s.TCP(), "anyone", ""); rc != 0 {
			t.Fatalf("after unban %s: CONNACK 0x%02x", b.As, rc)
		}
	}
	if err := c.ClearBanned(ctx); err != nil {
		t.Fatal(err)
	}
	if list, err := c.Banned(ctx, 0, 0); err != nil || len(list.Data) != 0 {
		t.Fatalf("after clear: %+v, %v", list, err)
	}
	if rc := connectRC(t, s.TCP(), "m3", "mallory"); rc != 0 {
		t.Fatalf("after clear: CONNACK 0x%02x", rc)
	}
}

func TestBannedExpires(t *testing.T) {
	s := testutil.RunServer(t)
	c := s.API(t)
	ctx := context.Background()
	until := time.Now().Add(2 * time.Second)
	// until as epoch seconds (rounded up so the ban lasts at least 1s).
	body := map[string]any{"as": "clientid", "who": "brief", "until": until.Unix() + 1}
	if _, err := c.Do(ctx, http.MethodPost, "/banned", nil, body, nil); err != nil {
		t.Fatal(err)
	}
	// Refused while the ban lasts (at least until until): checked when the
	// round trip ended before (a busy machine may take longer).
	rc := connectRC(t, s.TCP(), "brief", "")
	if testutil.InTime(t, until.Add(-2*time.Second), 2*time.Second, "connect refused while banned") && rc != byte(packet.Banned) {
		t.Fatalf("CONNACK 0x%02x, want banned", rc)
	}
	testutil.Eventually(t, testutil.Timeout, func() error {
		if rc := connectRC(t, s.TCP(), "brief", ""); rc != 0 {
			return fmt.Errorf("still refused: 0x%02x", rc)
		}
		return nil
	})
	if time.Now().Unix() < until.Unix() {
		t.Fatal("ban lifted early")
	}
	if list, err := c.Banned(ctx, 0, 0); err != nil || len(list.Data) != 0 {
		t.Fatalf("expired ban listed: %+v, %v", list, err)
	}
	// RFC 3339 until works too.
	if _, err := c.Ban(ctx, client.Ban{As: "clientid", Who: "rfc", Until: time.Now().Add(time.Hour).Format(time.RFC3339)}); err != nil {
		t.Fatal(err)
	}
}

func TestBannedSurvivesRestart(t *testing.T) {
	s := testutil.RunServer(t)
	c := s.API(t)
	ctx := context.Background()
	if _, err := c.Ban(ctx, client.Ban{As: "clientid", Who: "persistent", Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ban(ctx, client.Ban{As: "peerhost_net", Who: "10.0.0.0/8"}); err != nil {
		t.Fatal(err)
	}
	s2 := s.Restart(t)
	list, err := s2.API(t).Banned(ctx, 0, 0)
	if err != nil || len(list.Data) != 2 || *list.Meta.Count != 2 {
		t.Fatalf("after restart: %+v, %v", list, err)
	}
	if rc := connectRC(t, s2.TCP(), "persistent", ""); rc != byte(packet.Banned) {
		t.Fatalf("after restart: CONNACK 0x%02x", rc)
	}
}
