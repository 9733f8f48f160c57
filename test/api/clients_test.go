package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	mqtt3 "github.com/eclipse/paho.mqtt.golang"
	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/herald-mqtt/herald/pkg/client"
)

// Helpers of the clients area start with "cl".

// clV5 connects a paho v5 client.
func clV5(t *testing.T, addr, id, username string, clean bool, expiry uint32) *testutil.V5 {
	t.Helper()
	cp := &paho.Connect{ClientID: id, CleanStart: clean, KeepAlive: 30}
	if username != "" {
		cp.Username, cp.UsernameFlag = username, true
	}
	if expiry > 0 {
		cp.Properties = &paho.ConnectProperties{SessionExpiryInterval: &expiry}
	}
	c, _ := testutil.ConnectV5(t, addr, cp)
	return c
}

// clV3 connects a paho 3.1.1 client.
func clV3(t *testing.T, addr, id, username string, clean bool) *testutil.V3 {
	t.Helper()
	return testutil.ConnectV3(t, addr, id, func(o *mqtt3.ClientOptions) {
		o.SetCleanSession(clean)
		if username != "" {
			o.SetUsername(username)
		}
	})
}

// clIDs returns the client ids of a page.
func clIDs(p client.Page[client.ClientInfo]) []string {
	out := []string{}
	for _, c := range p.Data {
		out = append(out, c.ClientID)
	}
	return out
}

// clAPIError asserts err is an API error with status and code.
func clAPIError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) || e.Status != status || e.Code != code {
		t.Fatalf("error %v, want %d %s", err, status, code)
	}
}

// clRaw sends a request with the bootstrap admin's token and returns the
// status and body, whatever the status.
func clRaw(t *testing.T, s *testutil.Server, method, path string, q url.Values, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	u := s.APIURL() + "/api/v5" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+clToken(t, s))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// clToken logs the bootstrap admin in.
func clToken(t *testing.T, s *testutil.Server) string {
	t.Helper()
	res, err := client.New(s.APIURL()).Login(context.Background(), s.Config.Dashboard.DefaultUsername, s.Config.Dashboard.DefaultPassword)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	return res.Token
}

// clPassClock waits until the wall clock is past t by d, so timestamps on
// both sides of t differ in their milliseconds.
func clPassClock(t *testing.T, since time.Time, d time.Duration) {
	t.Helper()
	testutil.Eventually(t, testutil.Timeout, func() error {
		if time.Since(since) < d {
			return fmt.Errorf("clock at %v", time.Since(since))
		}
		return nil
	})
}

func TestClientsListFilters(t *testing.T) {
	s := testutil.RunServer(t)
	c, ctx := s.API(t), context.Background()
	clV5(t, s.TCP(), "cl-a", "alice", true, 0)
	b := clV5(t, s.TCP(), "cl-b", "bob", false, 300)
	start := time.Now()
	clPassClock(t, start, 3*time.Millisecond)
	mid := time.Now()
	clPassClock(t, mid, 3*time.Millisecond)
	clV3(t, s.TCP(), "cl-c", "alice", true)
	clV3(t, s.TCP(), "other-d", "", false)

	list := func(q client.ClientsQuery) client.Page[client.ClientInfo] {
		t.Helper()
		p, err := c.ListClients(ctx, q)
		if err != nil {
			t.Fatalf("list %+v: %v", q, err)
		}
		return p
	}
	expect := func(name string, q client.ClientsQuery, counted bool, want ...string) {
		t.Helper()
		p := list(q)
		if got := clIDs(p); !slices.Equal(got, want) {
			t.Errorf("%s: clients %v, want %v", name, got, want)
		}
		switch {
		case counted && (p.Meta.Count == nil || *p.Meta.Count != len(want)):
			t.Errorf("%s: meta.count %v, want %d", name, p.Meta.Count, len(want))
		case !counted && p.Meta.Count != nil:
			t.Errorf("%s: meta.count %d with a fuzzy filter", name, *p.Meta.Count)
		}
	}
	yes, no := true, false
	all := []string{"cl-a", "cl-b", "cl-c", "other-d"}
	expect("all", client.ClientsQuery{}, true, all...)
	expect("clientid", client.ClientsQuery{ClientID: []string{"cl-c", "cl-a", "nope"}}, true, "cl-a", "cl-c")
	expect("username", client.ClientsQuery{Username: []string{"alice"}}, true, "cl-a", "cl-c")
	expect("usernames", client.ClientsQuery{Username: []string{"alice", "bob"}}, true, "cl-a", "cl-b", "cl-c")
	expect("ip_address", client.ClientsQuery{IPAddress: "127.0.0.1"}, true, all...)
	expect("ip_address other", client.ClientsQuery{IPAddress: "10.1.2.3"}, true)
	expect("clean_start true", client.ClientsQuery{CleanStart: &yes}, true, "cl-a", "cl-c")
	expect("clean_start false", client.ClientsQuery{CleanStart: &no}, true, "cl-b", "other-d")
	expect("proto_ver 5", client.ClientsQuery{ProtoVer: 5}, true, "cl-a", "cl-b")
	expect("proto_ver 4", client.ClientsQuery{ProtoVer: 4}, true, "cl-c", "other-d")
	expect("like_clientid", client.ClientsQuery{LikeClientID: "cl-"}, false, "cl-a", "cl-b", "cl-c")
	expect("like_username", client.ClientsQuery{LikeUsername: "lic"}, false, "cl-a", "cl-c")
	expect("like and exact", client.ClientsQuery{LikeClientID: "-", ProtoVer: 4}, false, "cl-c", "other-d")
	expect("node", client.ClientsQuery{Node: s.Config.Node.Name}, true, all...)
	// Time ranges: epoch milliseconds and RFC 3339 with nanoseconds.
	expect("lte_created_at", client.ClientsQuery{LteCreatedAt: mid}, true, "cl-a", "cl-b")
	expect("lte_connected_at", client.ClientsQuery{LteConnectedAt: mid}, true, "cl-a", "cl-b")
	for _, name := range []string{"gte_created_at", "gte_connected_at"} {
		q := url.Values{name: {mid.Format(time.RFC3339Nano)}}
		var p client.Page[client.ClientInfo]
		if _, err := c.Do(ctx, http.MethodGet, "/clients", q, nil, &p); err != nil {
			t.Fatal(err)
		}
		if got := clIDs(p); !slices.Equal(got, []string{"cl-c", "other-d"}) {
			t.Errorf("%s=%s: %v", name, q.Get(name), got)
		}
	}
	expect("created range", client.ClientsQuery{GteCreatedAt: start.Add(-time.Hour), LteCreatedAt: mid}, true, "cl-a", "cl-b")

	// conn_state: cl-b leaves and keeps its session.
	if err := b.Disconnect(&paho.Disconnect{ReasonCode: 0}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, testutil.Timeout, func() error {
		if got := clIDs(list(client.ClientsQuery{ConnState: "disconnected"})); !slices.Equal(got, []string{"cl-b"}) {
			return fmt.Errorf("disconnected: %v", got)
		}
		return nil
	})
	expect("connected", client.ClientsQuery{ConnState: "connected"}, true, "cl-a", "cl-c", "other-d")
	expect("idle", client.ClientsQuery{ConnState: "idle"}, true)
	ci, err := c.GetClient(ctx, "cl-b")
	if err != nil {
		t.Fatal(err)
	}
	if ci.Connected || ci.DisconnectedAt == nil || !ci.IsPersistent || ci.ExpiryInterval != 300 {
		t.Errorf("offline cl-b: connected %v disconnected_at %v is_persistent %v expiry %d", ci.Connected, ci.DisconnectedAt, ci.IsPersistent, ci.ExpiryInterval)
	}
}

func TestClientsListProjectionAndErrors(t *testing.T) {
	s := testutil.RunServer(t)
	clV5(t, s.TCP(), "cl-p", "", true, 0)

	status, body := clRaw(t, s, http.MethodGet, "/clients", url.Values{"fields": {"clientid,username,connected_at"}}, nil)
	var p struct {
		Data []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &p); status != http.StatusOK || err != nil || len(p.Data) != 1 {
		t.Fatalf("fields: %d %s", status, body)
	}
	if keys := testutil.SortedKeys(p.Data[0]); !slices.Equal(keys, []string{"clientid", "connected_at", "username"}) {
		t.Errorf("fields=clientid,username,connected_at gave %v", keys)
	}
	if p.Data[0]["username"] != nil || p.Data[0]["clientid"] != "cl-p" {
		t.Errorf("projected client %v", p.Data[0])
	}

	for _, q := range []url.Values{
		{"fields": {"clientid,bogus"}}, {"page": {"0"}}, {"page": {"x"}}, {"limit": {"0"}}, {"limit": {"10001"}},
		{"ip_address": {"not-an-ip"}}, {"proto_ver": {"five"}}, {"conn_state": {"sleeping"}},
		{"gte_created_at": {"yesterday"}}, {"clean_start": {"maybe"}},
	} {
		status, body := clRaw(t, s, http.MethodGet, "/clients", q, nil)
		var e client.Error
		if err := json.Unmarshal(body, &e); status != http.StatusBadRequest || err != nil || e.Code != "INVALID_PARAMETER" {
			t.Errorf("%v: %d %s", q, status, body)
		}
		if q.Get("fields") != "" {
			testutil.GoldenShape(t, "clients_error_invalid_parameter.json", body)
		}
	}
	status, body = clRaw(t, s, http.MethodGet, "/clients/nope", nil, nil)
	if status != http.StatusNotFound {
		t.Fatalf("unknown client: %d %s", status, body)
	}
	testutil.GoldenShape(t, "clients_error_clientid_not_found.json", body)
}

func TestClientsGetShape(t *testing.T) {
	s := testutil.RunServer(t)
	c, ctx := s.API(t), context.Background()
	cl := clV5(t, s.TCP(), "cl-shape", "carol", true, 0)
	cl.SubscribeOK(t, "shape/#", 1)

	status, body := clRaw(t, s, http.MethodGet, "/clients/cl-shape", nil, nil)
	if status != http.StatusOK {
		t.Fatalf("get: %d %s", status, body)
	}
	testutil.GoldenShape(t, "clients_get.json", body)
	status, body = clRaw(t, s, http.MethodGet, "/clients", nil, nil)
	if status != http.StatusOK {
		t.Fatalf("list: %d %s", status, body)
	}
	testutil.GoldenShape(t, "clients_list.json", body)

	ci, err := c.GetClient(ctx, "cl-shape")
	if err != nil {
		t.Fatal(err)
	}
	local := cl.Conn.LocalAddr().String()
	switch {
	case ci.ClientID != "cl-shape" || ci.Username == nil || *ci.Username != "carol" || ci.Mountpoint != nil:
		t.Errorf("identity: %+v", ci)
	case !ci.Connected || ci.ConnectedAt == nil || ci.CreatedAt == nil || ci.DisconnectedAt != nil:
		t.Errorf("times: connected %v at %v created %v disconnected %v", ci.Connected, ci.ConnectedAt, ci.CreatedAt, ci.DisconnectedAt)
	case ci.IPAddress == nil || ci.Port == nil || fmt.Sprintf("%s:%d", *ci.IPAddress, *ci.Port) != local:
		t.Errorf("peer %v:%v, connection from %s", ci.IPAddress, ci.Port, local)
	case ci.ProtoName != "MQTT" || ci.ProtoVer != 5 || ci.Keepalive != 30 || !ci.CleanStart || ci.IsPersistent:
		t.Errorf("protocol: %+v", ci)
	case ci.Listener != "tcp:default" || ci.Node != s.Config.Node.Name || ci.SubscriptionsCnt != 1:
		t.Errorf("listener %q node %q subscriptions %d", ci.Listener, ci.Node, ci.SubscriptionsCnt)
	case ci.RecvPkt < 2 || ci.SendPkt < 2 || ci.RecvOct == 0 || ci.SendOct == 0:
		t.Errorf("counters recv_pkt %d send_pkt %d recv_oct %d send_oct %d", ci.RecvPkt, ci.SendPkt, ci.RecvOct, ci.SendOct)
	}
	if _, err := time.Parse(time.RFC3339, *ci.CreatedAt); err != nil {
		t.Errorf("created_at %q: %v", *ci.CreatedAt, err)
	}
}

func TestClientsKick(t *testing.T) {
	s := testutil.RunServer(t)
	c, ctx := s.API(t), context.Background()
	v5 := clV5(t, s.TCP(), "cl-kick", "", false, 600)
	if err := c.KickClient(ctx, "cl-kick"); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-v5.Disc:
		if d.ReasonCode != byte(packet.AdministrativeAction) {
			t.Errorf("DISCONNECT reason %#x, want 0x98", d.ReasonCode)
		}
	case <-time.After(testutil.Timeout):
		t.Fatal("kicked client saw no DISCONNECT")
	}
	// The session is discarded, not just disconnected (EMQX's kick_session).
	_, err := c.GetClient(ctx, "cl-kick")
	clAPIError(t, err, http.StatusNotFound, "CLIENTID_NOT_FOUND")
	clAPIError(t, c.KickClient(ctx, "cl-kick"), http.StatusNotFound, "CLIENTID_NOT_FOUND")

	x, y := clV3(t, s.TCP(), "cl-bulk-1", "", true), clV3(t, s.TCP(), "cl-bulk-2", "", true)
	clV3(t, s.TCP(), "cl-stays", "", true)
	if err := c.KickClients(ctx, []string{"cl-bulk-1", "cl-bulk-2", "unknown"}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, testutil.Timeout, func() error {
		if x.IsConnectionOpen() || y.IsConnectionOpen() {
			return errors.New("bulk-kicked clients still connected")
		}
		return nil
	})
	p, err := c.ListClients(ctx, client.ClientsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if got := clIDs(p); !slices.Equal(got, []string{"cl-stays"}) {
		t.Errorf("after bulk kick: %v", got)
	}
}

func TestClientsPagination(t *testing.T) {
	s := testutil.RunServer(t)
	c, ctx := s.API(t), context.Background()
	var want []string
	for i := range 25 {
		id := fmt.Sprintf("cl-page-%02d", i)
		clV3(t, s.TCP(), id, "", true)
		want = append(want, id)
	}
	var got []string
	for page := 1; page <= 4; page++ {
		p, err := c.ListClients(ctx, client.ClientsQuery{Page: page, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if p.Meta.Count == nil || *p.Meta.Count != 25 || p.Meta.Page != page || p.Meta.Limit != 10 {
			t.Errorf("page %d meta %+v", page, p.Meta)
		}
		wantLen, wantNext := []int{10, 10, 5, 0}[page-1], page < 3
		if len(p.Data) != wantLen || p.Meta.HasNext != wantNext {
			t.Errorf("page %d: %d clients hasnext %v, want %d %v", page, len(p.Data), p.Meta.HasNext, wantLen, wantNext)
		}
		got = append(got, clIDs(p)...)
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages gave %v", got)
	}
	n, err := c.SessionsCount(ctx)
	if err != nil || n != 25 {
		t.Errorf("sessions_count %d %v", n, err)
	}
	status, body := clRaw(t, s, http.MethodGet, "/sessions_count", url.Values{"since": {"-1"}}, nil)
	if status != http.StatusBadRequest {
		t.Errorf("since=-1: %d %s", status, body)
	}
}

func TestClientsAuthzCache(t *testing.T) {
	s := testutil.RunServer(t, func(c *config.Config) {
		c.Authorization.Rules = []config.Rule{{Permission: "allow", Who: "all", Action: "publish", Topics: []string{"authz/#"}}}
	})
	c, ctx := s.API(t), context.Background()
	v := clV5(t, s.TCP(), "cl-authz", "", true, 0)
	es, err := c.AuthzCache(ctx, "cl-authz")
	if err != nil || es == nil || len(es) != 0 {
		t.Fatalf("authz cache before any check: %v %v", es, err)
	}
	if rc := v.PublishRC(t, "authz/x", "p"); rc >= 0x80 {
		t.Fatalf("PUBACK %#x", rc)
	}
	es, err = c.AuthzCache(ctx, "cl-authz")
	if err != nil || len(es) != 1 || es[0].Access != "publish" || es[0].Result != "allow" || es[0].Topic != "authz/x" || es[0].UpdatedTime == 0 {
		t.Fatalf("authz cache after a publish: %+v %v", es, err)
	}
	status, body := clRaw(t, s, http.MethodGet, "/clients/cl-authz/authorization/cache", nil, nil)
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	testutil.GoldenShape(t, "clients_authz_cache.json", body)
	if err := c.ClearAuthzCache(ctx, "cl-authz"); err != nil {
		t.Fatal(err)
	}
	if es, err = c.AuthzCache(ctx, "cl-authz"); err != nil || len(es) != 0 {
		t.Fatalf("authz cache after DELETE: %+v %v", es, err)
	}
	_, err = c.AuthzCache(ctx, "nope")
	clAPIError(t, err, http.StatusNotFound, "CLIENTID_NOT_FOUND")
	clAPIError(t, c.ClearAuthzCache(ctx, "nope"), http.StatusNotFound, "CLIENTID_NOT_FOUND")
}

// TestClientsMessages lists the queue of an offline persistent session and
// the in-flight window of a client that does not acknowledge.
func TestClientsMessages(t *testing.T) {
	s := testutil.RunServer(t)
	c, ctx := s.API(t), context.Background()
	q := clV5(t, s.TCP(), "cl-queue", "", false, 600)
	q.SubscribeOK(t, "mq/#", 1)
	if err := q.Disconnect(&paho.Disconnect{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, testutil.Timeout, func() error {
		ci, err := c.GetClient(ctx, "cl-queue")
		if err != nil || ci.Connected {
			return fmt.Errorf("still connected (%v)", err)
		}
		return nil
	})
	for i := range 5 {
		res, status, err := c.Publish(ctx, client.PublishMessage{Topic: "mq/" + strconv.Itoa(i), Payload: "m" + strconv.Itoa(i), QoS: 1})
		if err != nil || status != http.StatusOK || len(res.ID) != 32 {
			t.Fatalf("publish to offline session: %+v %d %v", res, status, err)
		}
	}
	var got []string
	pos := ""
	for range 4 {
		chunk, err := c.MqueueMessages(ctx, "cl-queue", client.MessagesQuery{Position: pos, Limit: 2, Payload: "plain"})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range chunk.Data {
			if m.Payload == nil || m.QoS != 1 || len(m.MsgID) != 32 || m.InsertedAt == "" || m.PublishAt == 0 {
				t.Errorf("queued message %+v", m)
			}
			got = append(got, m.Topic+"="+*m.Payload)
		}
		if chunk.Meta.Start == "none" {
			t.Errorf("meta.start none with a non-empty queue")
		}
		pos = chunk.Meta.Position
	}
	if want := []string{"mq/0=m0", "mq/1=m1", "mq/2=m2", "mq/3=m3", "mq/4=m4"}; !slices.Equal(got, want) {
		t.Errorf("mqueue chunks gave %v", got)
	}
	if pos != "end_of_data" {
		t.Errorf("last position %q", pos)
	}
	status, body := clRaw(t, s, http.MethodGet, "/clients/cl-queue/mqueue_messages", url.Values{"limit": {"3"}}, nil)
	if status != http.StatusOK {
		t.Fatalf("mqueue: %d %s", status, body)
	}
	testutil.GoldenShape(t, "clients_mqueue_messages.json", body)
	one, err := c.MqueueMessages(ctx, "cl-queue", client.MessagesQuery{MaxPayloadBytes: "1", Payload: "none"})
	if err != nil || len(one.Data) != 5 || one.Data[0].Payload != nil {
		t.Errorf("payload=none: %+v %v", one, err)
	}
	one, err = c.MqueueMessages(ctx, "cl-queue", client.MessagesQuery{MaxPayloadBytes: "3B"})
	if err != nil || len(one.Data) != 1 || *one.Data[0].Payload != "bTA=" {
		t.Errorf("max_payload_bytes=3B: %+v %v", one, err)
	}
	for _, bad := range []url.Values{{"position": {"garbage"}}, {"limit": {"0"}}, {"payload": {"hex"}}, {"max_payload_bytes": {"0"}}} {
		status, body := clRaw(t, s, http.MethodGet, "/clients/cl-queue/mqueue_messages", bad, nil)
		if status != http.StatusBadRequest || !json.Valid(body) {
			t.Errorf("%v: %d %s", bad, status, body)
		}
	}
	_, err = c.InflightMessages(ctx, "nope", client.MessagesQuery{})
	clAPIError(t, err, http.StatusNotFound, "CLIENTID_NOT_FOUND")

	// In flight: a raw client that never acknowledges.
	raw, _ := testutil.ConnectRawV5(t, s.TCP(), "cl-inflight")
	raw.Subscribe(1, "inf/#", 1)
	for i := range 3 {
		if _, _, err := c.Publish(ctx, client.PublishMessage{Topic: "inf/x", Payload: strconv.Itoa(i), QoS: 1}); err != nil {
			t.Fatal(err)
		}
		raw.ExpectPublish()
	}
	inf, err := c.InflightMessages(ctx, "cl-inflight", client.MessagesQuery{Payload: "plain"})
	if err != nil || len(inf.Data) != 3 || *inf.Data[2].Payload != "2" || inf.Data[0].MqueuePriority != nil {
		t.Fatalf("inflight: %+v %v", inf, err)
	}
	status, body = clRaw(t, s, http.MethodGet, "/clients/cl-inflight/inflight_messages", nil, nil)
	if status != http.StatusOK {
		t.Fatalf("inflight: %d %s", status, body)
	}
	testutil.GoldenShape(t, "clients_inflight_messages.json", body)
}
