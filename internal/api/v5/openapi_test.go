package v5

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestOpenAPIBuilds checks the document is valid JSON, deterministic, and
// documents every route of the table with its security.
func TestOpenAPIBuilds(t *testing.T) {
	a := New(Options{})
	b1, err := a.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	b2, err := a.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1, b2) {
		t.Fatal("two builds of the document differ")
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Security *[]map[string][]string `json:"security"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(b1, &doc); err != nil {
		t.Fatal(err)
	}
	for _, rt := range a.routes() {
		op, ok := doc.Paths[openapiPath(rt.path)][lower(rt.method)]
		if !ok {
			t.Errorf("%s %s is not documented", rt.method, rt.path)
			continue
		}
		if op.Security == nil {
			t.Errorf("%s %s has no security", rt.method, rt.path)
		} else if (rt.access == public) != (len(*op.Security) == 0) {
			t.Errorf("%s %s: security %v for access %d", rt.method, rt.path, *op.Security, rt.access)
		}
	}
}

func lower(s string) string { return string(bytes.ToLower([]byte(s))) }

// TestOpenAPIRouteKinds builds the document of routes of every kind the
// table may hold.
func TestOpenAPIRouteKinds(t *testing.T) {
	type item struct {
		Topic string `json:"topic"`
	}
	type q struct {
		Like string `query:"like_clientid"`
		Page int    `query:"page" minimum:"1" default:"1"`
	}
	routes := []route{
		{method: "POST", path: "/clients/{clientid}/subscribe/bulk", body: &[]item{}, resp: &[]item{}},
		{method: "DELETE", path: "/topics/{topic...}", status: 204},
		{method: "GET", path: "/clients", query: &q{}, resp: &[]item{}, access: bearerOnly},
		{method: "PUT", path: "/configs", body: new(string), contentType: "text/plain"},
	}
	b, err := buildOpenAPI(routes)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/clients/{clientid}/subscribe/bulk", "/topics/{topic}", "/clients", "/configs"} {
		if doc.Paths[p] == nil {
			t.Errorf("%s missing:\n%s", p, b)
		}
	}
}
