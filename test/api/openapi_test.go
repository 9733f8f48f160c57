package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/herald-mqtt/herald/internal/testutil"
)

// monGet fetches url without credentials and returns status, content type
// and body.
func monGet(t *testing.T, url, accept string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// TestOpenAPIGolden pins the OpenAPI document byte for byte. After a change
// to the API, regenerate it with
//
//	go test ./test/api -run TestOpenAPIGolden -update
func TestOpenAPIGolden(t *testing.T) {
	s := testutil.RunServer(t)
	code, ct, body := monGet(t, s.APIURL()+"/api/v5/openapi.json", "")
	if code != http.StatusOK || !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("GET /api/v5/openapi.json: %d %s", code, ct)
	}
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || len(doc.Paths) == 0 {
		t.Fatalf("openapi %q with %d paths", doc.OpenAPI, len(doc.Paths))
	}
	testutil.Golden(t, "openapi.json", body)
}

// TestAPIDocsPage: /api-docs serves Swagger UI (embedded assets) pointing
// at the document, without credentials.
func TestAPIDocsPage(t *testing.T) {
	s := testutil.RunServer(t)
	code, ct, body := monGet(t, s.APIURL()+"/api-docs", "")
	if code != http.StatusOK || !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("GET /api-docs: %d %s", code, ct)
	}
	if !strings.Contains(string(body), "/api/v5/openapi.json") {
		t.Fatalf("the page does not load the document:\n%s", body)
	}
	code, _, _ = monGet(t, s.APIURL()+"/api-docs/swagger-ui-bundle.js", "")
	if code != http.StatusOK {
		t.Fatalf("GET /api-docs/swagger-ui-bundle.js: %d", code)
	}
}
