package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/herald-mqtt/herald/pkg/client"
)

// valBearer is the Authorization header of a logged-in administrator.
func valBearer(t *testing.T, s *testutil.Server) http.Header {
	t.Helper()
	res, err := client.New(s.APIURL()).Login(secCtx(t), s.Config.Dashboard.DefaultUsername, s.Config.Dashboard.DefaultPassword)
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{"Authorization": {"Bearer " + res.Token}, "Content-Type": {"application/json"}}
}

// valWant sends a raw request and wants a 400 with EMQX's envelope, the
// code and a message naming field.
func valWant(t *testing.T, s *testutil.Server, h http.Header, method, path, body, code, field string) {
	t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	resp, got := secRaw(t, s, method, path, h, b)
	var env struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(got, &env) != nil || env.Code != code ||
		!strings.Contains(env.Message, field) {
		t.Errorf("%s %s %q: %d %s, want 400 %s naming %q", method, path, body, resp.StatusCode, got, code, field)
	}
}

// valOK sends a raw request and wants the status.
func valOK(t *testing.T, s *testutil.Server, h http.Header, method, path, body string, status int) []byte {
	t.Helper()
	resp, got := secRaw(t, s, method, path, h, []byte(body))
	if resp.StatusCode != status {
		t.Errorf("%s %s %q: %d %s, want %d", method, path, body, resp.StatusCode, got, status)
	}
	return got
}

// TestTimesOutOfRange: an epoch or RFC 3339 time outside 1970..9999 is a
// 400 naming the field wherever times are parsed, instead of wrapping
// into another century (issue 8, finding 3).
func TestTimesOutOfRange(t *testing.T) {
	s := testutil.RunServer(t)
	h := valBearer(t, s)
	for _, exp := range []string{`99999999999999999`, `-1`, `253402300800`, `"1969-12-31T23:59:59Z"`,
		`"10000-01-01T00:00:00Z"`, `"9999-12-31T23:59:59-01:00"`, `1.5`} {
		valWant(t, s, h, http.MethodPost, "/api_key", `{"name":"k","expired_at":`+exp+`}`, "BAD_REQUEST", "expired_at")
	}
	valOK(t, s, h, http.MethodPost, "/api_key", `{"name":"edge","expired_at":253402300799}`, http.StatusOK)
	got := valOK(t, s, h, http.MethodGet, "/api_key/edge", "", http.StatusOK)
	if !strings.Contains(string(got), `"expired_at":"9999-12-3`) {
		t.Errorf("expired_at 253402300799 -> %s, want the end of 9999", got)
	}
	valWant(t, s, h, http.MethodPut, "/api_key/edge", `{"expired_at":-1}`, "BAD_REQUEST", "expired_at")

	for _, f := range []string{"at", "until"} {
		for _, v := range []string{`99999999999999999`, `-1`, `"1960-01-01T00:00:00Z"`} {
			valWant(t, s, h, http.MethodPost, "/banned", `{"as":"clientid","who":"x","`+f+`":`+v+`}`, "BAD_REQUEST", f)
		}
	}
	for _, q := range []string{"gte_created_at=99999999999999999", "lte_connected_at=-1", "gte_connected_at=1969-01-01T00:00:00Z"} {
		valWant(t, s, h, http.MethodGet, "/clients?"+q, "", "INVALID_PARAMETER", strings.Split(q, "=")[0])
	}
	valWant(t, s, h, http.MethodGet, "/sessions_count?since=253402300800", "", "INVALID_PARAMETER", "since")
	valOK(t, s, h, http.MethodGet, "/clients?gte_created_at=253402300799999", "", http.StatusOK)
}

// TestInputRefused: invalid UTF-8, U+0000 in a ban, null bodies and
// elements, and empty enum or boolean parameters are 400s naming the
// field, as EMQX answers (issue 8, finding 4).
func TestInputRefused(t *testing.T) {
	s := testutil.RunServer(t)
	h := valBearer(t, s)
	valWant(t, s, h, http.MethodPost, "/banned", "{\"as\":\"clientid\",\"who\":\"bad\xff\xfe\"}", "BAD_REQUEST", "who")
	valWant(t, s, h, http.MethodPost, "/banned", `{"as":"clientid","who":"bad\ud800"}`, "BAD_REQUEST", "who")
	valWant(t, s, h, http.MethodPost, "/banned", `{"as":"clientid","who":"a\u0000b"}`, "BAD_REQUEST", "who")
	valWant(t, s, h, http.MethodPost, "/banned", "{\"as\":\"clientid\",\"who\":\"ok\",\"reason\":\"\xc3\"}", "BAD_REQUEST", "reason")
	valWant(t, s, h, http.MethodPost, "/banned", "{\"as\":\"clientid\",\"who\":\"ok\",\"\xff\":1}", "BAD_REQUEST", "field name")
	if got := valOK(t, s, h, http.MethodGet, "/banned", "", http.StatusOK); strings.Contains(string(got), `"who":"bad`) ||
		strings.Contains(string(got), `"who":"a`) {
		t.Errorf("a refused ban is stored: %s", got)
	}
	valOK(t, s, h, http.MethodPost, "/banned", `{"as":"clientid","who":"ok \ud83d\ude00"}`, http.StatusOK)

	valWant(t, s, h, http.MethodPost, "/publish", "{\"topic\":\"t/\xff\xfe\",\"payload\":\"x\"}", "BAD_TOPIC", "topic")
	valWant(t, s, h, http.MethodPost, "/publish", `{"topic":"t/\u0000","payload":"x"}`, "BAD_TOPIC", "topic")
	valWant(t, s, h, http.MethodPost, "/publish/bulk", "[{\"topic\":\"t\",\"payload\":\"\xff\"}]", "BAD_REQUEST", "[0].payload")

	valWant(t, s, h, http.MethodPut, "/prometheus", `null`, "BAD_REQUEST", "null")
	valWant(t, s, h, http.MethodPut, "/mqtt/retainer", `null`, "BAD_REQUEST", "null")
	valWant(t, s, h, http.MethodPost, "/clients/kickout/bulk", `[null,null]`, "BAD_REQUEST", "[0]")
	valWant(t, s, h, http.MethodPost, "/clients/kickout/bulk", `null`, "BAD_REQUEST", "null")
	valWant(t, s, h, http.MethodPost, "/clients/kickout/bulk", ``, "BAD_REQUEST", "empty")

	valWant(t, s, h, http.MethodGet, "/stats?aggregate=", "", "BAD_REQUEST", "aggregate")
	valWant(t, s, h, http.MethodGet, "/metrics?aggregate=", "", "BAD_REQUEST", "aggregate")
	valWant(t, s, h, http.MethodGet, "/listeners?type=", "", "BAD_REQUEST", "type")
	valWant(t, s, h, http.MethodGet, "/alarms?activated=", "", "BAD_REQUEST", "activated")
	valWant(t, s, h, http.MethodGet, "/clients?conn_state=", "", "INVALID_PARAMETER", "conn_state")
	valWant(t, s, h, http.MethodGet, "/clients?clean_start=", "", "INVALID_PARAMETER", "clean_start")
	valWant(t, s, h, http.MethodGet, "/subscriptions?qos=", "", "INVALID_PARAMETER", "qos")
	valOK(t, s, h, http.MethodGet, "/stats?aggregate=true", "", http.StatusOK)
}
