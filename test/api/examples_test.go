package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/eclipse/paho.golang/paho"

	"github.com/herald-mqtt/herald/internal/testutil"
	"github.com/herald-mqtt/herald/pkg/client"
)

// The fixture the examples of the document name (internal/api/v5/examples.go).
const (
	exClient   = "example-client"
	exKey      = "example-key"
	exUser     = "example_user"
	exPassword = "example-pass1"
	exListener = "tcp:example"
	exRetained = "example/retained"
	exBanned   = "example-banned"
)

// exOp is one operation of the document with its example request.
type exOp struct {
	method, path string
	params       []struct {
		Name    string `json:"name"`
		In      string `json:"in"`
		Example any    `json:"example"`
	}
	body        []byte
	contentType string
	status      int // the documented success status
}

// TestOpenAPIExamples sends every operation's documented example to a
// node holding the fixture the examples name, and wants the documented
// success status: the document's examples work, and every operation has
// one. DELETEs run last; the fixture is restored before each request.
func TestOpenAPIExamples(t *testing.T) {
	s := testutil.RunServer(t)
	_, _, raw := monGet(t, s.APIURL()+"/api/v5/openapi.json", "")
	ops := exOps(t, raw)
	if len(ops) < 80 {
		t.Fatalf("%d operations in the document", len(ops))
	}
	fx := &exFixture{s: s}
	for _, op := range ops {
		fx.ensure(t)
		req, err := http.NewRequestWithContext(secCtx(t), op.method, exURL(t, s, op), bytes.NewReader(op.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+fx.token)
		if op.contentType != "" {
			req.Header.Set("Content-Type", op.contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", op.method, op.path, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != op.status {
			t.Errorf("%s %s (%s): %d %s, want %d", op.method, op.path, req.URL.RequestURI(), resp.StatusCode, got, op.status)
		}
		if op.path == "/logout" {
			fx.token = ""
		}
	}
	t.Logf("%d operations sent", len(ops))
}

// exOps reads the operations of the document, DELETEs last.
func exOps(t *testing.T, raw []byte) []exOp {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var ops []exOp
	for path, item := range doc.Paths {
		for method, rawOp := range item {
			ops = append(ops, exOperation(t, strings.ToUpper(method), path, rawOp))
		}
	}
	rank := func(o exOp) int {
		if o.method == http.MethodDelete {
			return 1
		}
		return 0
	}
	slices.SortFunc(ops, func(a, b exOp) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return strings.Compare(a.path+" "+a.method, b.path+" "+b.method)
	})
	return ops
}

func exOperation(t *testing.T, method, path string, raw json.RawMessage) exOp {
	t.Helper()
	var op struct {
		Parameters  json.RawMessage `json:"parameters"`
		RequestBody *struct {
			Required bool `json:"required"`
			Content  map[string]struct {
				Example json.RawMessage `json:"example"`
			} `json:"content"`
		} `json:"requestBody"`
		Responses map[string]json.RawMessage `json:"responses"`
	}
	if err := json.Unmarshal(raw, &op); err != nil {
		t.Fatal(err)
	}
	o := exOp{method: method, path: path, status: 999}
	if len(op.Parameters) > 0 {
		if err := json.Unmarshal(op.Parameters, &o.params); err != nil {
			t.Fatal(err)
		}
	}
	for code := range op.Responses {
		if n, err := strconv.Atoi(code); err == nil && n >= 200 && n < 300 && n < o.status {
			o.status = n
		}
	}
	if b := op.RequestBody; b != nil {
		if ex := b.Content["application/json"].Example; len(ex) > 0 {
			o.body, o.contentType = ex, "application/json"
		} else if ex := b.Content["text/plain"].Example; len(ex) > 0 {
			var s string
			_ = json.Unmarshal(ex, &s)
			o.body, o.contentType = []byte(s), "text/plain"
		} else if b.Required {
			t.Errorf("%s %s: a required body without an example", method, path)
		}
	}
	return o
}

// exURL builds the example's URL; a path wildcard without an example fails.
func exURL(t *testing.T, s *testutil.Server, op exOp) string {
	t.Helper()
	path, q := op.path, url.Values{}
	for _, p := range op.params {
		if p.Example == nil {
			if p.In == "path" {
				t.Errorf("%s %s: path parameter %s has no example", op.method, op.path, p.Name)
			}
			continue
		}
		v := strings.Trim(string(must(json.Marshal(p.Example))), `"`)
		if p.In == "path" {
			path = strings.ReplaceAll(path, "{"+p.Name+"}", url.PathEscape(v))
		} else {
			q.Set(p.Name, v)
		}
	}
	u := s.APIURL() + "/api/v5" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// exFixture keeps what the examples name in place.
type exFixture struct {
	s     *testutil.Server
	token string
	mqtt  *testutil.V5
	c     *client.Client
}

// ensure logs in when needed and restores the fixture: each step is a
// no-op when its object exists.
func (f *exFixture) ensure(t *testing.T) {
	t.Helper()
	ctx := secCtx(t)
	if f.token == "" {
		f.c = client.New(f.s.APIURL())
		res, err := f.c.Login(ctx, f.s.Config.Dashboard.DefaultUsername, f.s.Config.Dashboard.DefaultPassword)
		if err != nil {
			t.Fatal(err)
		}
		f.token = res.Token
	}
	if _, err := f.c.Do(ctx, http.MethodGet, "/clients/"+exClient, nil, nil, nil); err != nil {
		f.mqtt, _ = testutil.ConnectV5(t, f.s.TCP(), &paho.Connect{ClientID: exClient, KeepAlive: 60})
		f.mqtt.SubscribeOK(t, "example/#", 1)
	}
	exCreate(t, f.c, "/api_key/"+exKey, "/api_key", map[string]any{"name": exKey})
	exCreate(t, f.c, "/listeners/"+url.PathEscape(exListener), "/listeners",
		map[string]any{"id": exListener, "bind": "127.0.0.1:0"})
	if users, err := f.c.Users(ctx); err == nil && !slices.ContainsFunc(users, func(u client.User) bool { return u.Username == exUser }) {
		exCreate(t, f.c, "", "/users", map[string]any{"username": exUser, "password": exPassword, "role": "viewer"})
	}
	_, _ = f.c.Do(ctx, http.MethodPost, "/banned", nil, map[string]any{"as": "clientid", "who": exBanned}, nil)
	_, _ = f.c.Do(ctx, http.MethodPost, "/publish", nil,
		map[string]any{"topic": exRetained, "payload": "retained", "retain": true}, nil)
}

// exCreate POSTs body to create unless GET get finds the object.
func exCreate(t *testing.T, c *client.Client, get, create string, body any) {
	t.Helper()
	ctx := secCtx(t)
	if get != "" {
		if _, err := c.Do(ctx, http.MethodGet, get, nil, nil, nil); err == nil {
			return
		}
	}
	if _, err := c.Do(ctx, http.MethodPost, create, nil, body, nil); err != nil {
		t.Fatalf("fixture %s: %v", create, err)
	}
}
