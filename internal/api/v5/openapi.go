package v5

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/swaggest/jsonschema-go"
	openapi "github.com/swaggest/openapi-go"
	"github.com/swaggest/openapi-go/openapi3"
)

// ErrorResponse is EMQX's error envelope.
type ErrorResponse struct {
	Code    string `json:"code" description:"machine code in UPPER_SNAKE_CASE (BAD_REQUEST, NOT_FOUND, ...)"`
	Message string `json:"message"`
}

// Security scheme names, as EMQX's document.
const (
	secBasic  = "basicAuth"
	secBearer = "bearerAuth"
)

// pathParamRE matches a path wildcard: {name} or Go's {name...}.
var pathParamRE = regexp.MustCompile(`\{([^}.]+)(\.\.\.)?\}`)

// openapiPath is a route path in OpenAPI form ({name...} -> {name}).
func openapiPath(p string) string { return pathParamRE.ReplaceAllString(p, "{$1}") }

// Routes lists the operations the API serves as "METHOD /api/v5/path",
// with path parameters in OpenAPI form, sorted.
func (a *API) Routes() []string {
	var out []string
	for _, rt := range a.routes() {
		out = append(out, rt.method+" "+Prefix+openapiPath(rt.path))
	}
	slices.Sort(out)
	return out
}

// OpenAPI builds the OpenAPI 3.0 document of the route table. The output
// is deterministic (sorted keys, routes in table order), so a golden file
// can pin it.
func (a *API) OpenAPI() ([]byte, error) {
	return buildOpenAPI(a.routes())
}

func buildOpenAPI(routes []route) ([]byte, error) {
	r := openapi3.NewReflector()
	r.DefaultOptions = append(r.DefaultOptions, jsonschema.InterceptDefName(
		func(_ reflect.Type, name string) string { return strings.TrimPrefix(name, "V5") }))
	r.Spec.Info.WithTitle("Herald management API (EMQX 5 compatible)").WithVersion("5").
		WithDescription("The EMQX 5 compatible REST API of the Herald MQTT broker. Authenticate with an API key " +
			"(HTTP Basic key:secret) or a bearer token from POST /login.")
	r.Spec.Servers = []openapi3.Server{{URL: Prefix}}
	r.Spec.SetHTTPBasicSecurity(secBasic, "API key and secret (POST /api_key)")
	r.Spec.SetHTTPBearerTokenSecurity(secBearer, "", "token from POST /login")
	publicOps := map[string]bool{}
	for _, rt := range routes {
		if err := addOperation(r, rt); err != nil {
			return nil, fmt.Errorf("openapi: %s %s: %w", rt.method, rt.path, err)
		}
		if rt.access == public {
			publicOps[strings.ToLower(rt.method)+" "+openapiPath(rt.path)] = true
		}
	}
	raw, err := json.Marshal(r.Spec)
	if err != nil {
		return nil, fmt.Errorf("openapi: marshal: %w", err)
	}
	return finishOpenAPI(raw, publicOps)
}

// finishOpenAPI marks the public operations `security: []` (the library
// drops an empty list) and indents the document.
func finishOpenAPI(raw []byte, public map[string]bool) ([]byte, error) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("openapi: reread: %w", err)
	}
	paths, _ := doc["paths"].(map[string]any)
	for p, item := range paths {
		ops, _ := item.(map[string]any)
		for m, op := range ops {
			if o, ok := op.(map[string]any); ok && public[m+" "+p] {
				o["security"] = []any{}
			}
		}
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("openapi: marshal: %w", err)
	}
	return append(out, '\n'), nil
}

// addOperation documents one route: parameters, body, success response,
// error responses and security.
func addOperation(r *openapi3.Reflector, rt route) error {
	path := openapiPath(rt.path)
	oc, err := r.NewOperationContext(rt.method, path)
	if err != nil {
		return err
	}
	oc.SetTags(rt.tag)
	oc.SetSummary(rt.summary)
	if rt.query != nil {
		oc.AddReqStructure(rt.query)
	}
	if rt.body != nil {
		oc.AddReqStructure(rt.body)
	}
	op := oc.(openapi3.OperationExposer).Operation()
	for _, m := range pathParamRE.FindAllStringSubmatch(path, -1) {
		p := openapi3.Parameter{Name: m[1], In: openapi3.ParameterInPath}
		p.WithRequired(true).WithSchema(openapi3.SchemaOrRef{Schema: (&openapi3.Schema{}).WithType(openapi3.SchemaTypeString)})
		op.Parameters = append(op.Parameters, openapi3.ParameterOrRef{Parameter: &p})
	}
	status := rt.status
	if status == 0 {
		status = http.StatusOK
	}
	statuses := []int{status}
	if rt.method == http.MethodGet && rt.path == "/status" {
		statuses = append(statuses, http.StatusServiceUnavailable) // the same body, while the node is not running
	}
	for _, st := range statuses {
		if rt.contentType != "" {
			oc.AddRespStructure(nil, openapi.WithHTTPStatus(st), openapi.WithContentType(rt.contentType))
		}
		if rt.resp != nil || rt.contentType == "" {
			oc.AddRespStructure(rt.resp, openapi.WithHTTPStatus(st))
		}
	}
	for _, code := range errorStatuses(rt, path) {
		oc.AddRespStructure(&ErrorResponse{}, openapi.WithHTTPStatus(code))
	}
	switch rt.access {
	case authed:
		oc.AddSecurity(secBasic)
		oc.AddSecurity(secBearer)
	case bearerOnly:
		oc.AddSecurity(secBearer)
	}
	return r.AddOperation(oc)
}

// errorStatuses are the error responses a route documents: 400 when it
// takes input, 401 and 403 when it needs credentials, 404 when it names a
// resource in its path.
func errorStatuses(rt route, path string) []int {
	var out []int
	if rt.query != nil || rt.body != nil {
		out = append(out, http.StatusBadRequest)
	}
	if rt.access != public {
		out = append(out, http.StatusUnauthorized, http.StatusForbidden)
	}
	if strings.Contains(path, "{") {
		out = append(out, http.StatusNotFound)
	}
	return out
}
