package v5

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/herald-mqtt/herald/internal/api"
	"github.com/swaggest/jsonschema-go"
	openapi "github.com/swaggest/openapi-go"
	"github.com/swaggest/openapi-go/openapi3"
)

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
	for _, rt := range routes {
		if err := addOperation(r, rt); err != nil {
			return nil, fmt.Errorf("openapi: %s %s: %w", rt.method, rt.path, err)
		}
	}
	raw, err := json.Marshal(r.Spec)
	if err != nil {
		return nil, fmt.Errorf("openapi: marshal: %w", err)
	}
	return finishOpenAPI(raw, routes)
}

// finishOpenAPI adds what the reflector does not write: `security: []` on
// the public operations (the library drops an empty list), the error
// responses with the codes each may carry, requestBody.required, the
// examples and the text body of PUT /configs; then it indents the
// document.
func finishOpenAPI(raw []byte, routes []route) ([]byte, error) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("openapi: reread: %w", err)
	}
	paths, _ := doc["paths"].(map[string]any)
	for _, rt := range routes {
		item, _ := paths[openapiPath(rt.path)].(map[string]any)
		op, ok := item[strings.ToLower(rt.method)].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("openapi: %s %s missing", rt.method, rt.path)
		}
		finishOperation(doc, op, rt)
		notNullBody(doc, op)
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("openapi: marshal: %w", err)
	}
	return append(out, '\n'), nil
}

// notNullBody drops nullable from a JSON request body's schema (the
// reflector marks slices nullable; the decoder refuses a null body).
func notNullBody(doc, op map[string]any) {
	body, _ := op["requestBody"].(map[string]any)
	content, _ := body["content"].(map[string]any)
	mt, _ := content["application/json"].(map[string]any)
	schema, _ := mt["schema"].(map[string]any)
	if ref, ok := schema["$ref"].(string); ok {
		comps, _ := doc["components"].(map[string]any)
		schemas, _ := comps["schemas"].(map[string]any)
		schema, _ = schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
	}
	delete(schema, "nullable")
}

func finishOperation(doc, op map[string]any, rt route) {
	if rt.access == public {
		op["security"] = []any{}
	}
	responses, _ := op["responses"].(map[string]any)
	for status, codes := range errorCodes(rt) {
		responses[strconv.Itoa(status)] = errorResponse(doc, status, codes)
	}
	if isTextBody(rt.body) {
		op["requestBody"] = map[string]any{"content": map[string]any{
			"text/plain":       map[string]any{"schema": map[string]any{"type": "string", "description": "HOCON"}},
			"application/json": map[string]any{"schema": schemaMap(&ConfigsBody{})},
		}}
	}
	if body, ok := op["requestBody"].(map[string]any); ok {
		body["required"] = !rt.bodyOptional
		if content, ok := body["content"].(map[string]any); ok {
			addBodyExample(content, rt.example.body)
		}
	}
	params, _ := op["parameters"].([]any)
	for _, p := range params {
		pm, _ := p.(map[string]any)
		name, _ := pm["name"].(string)
		src := rt.example.query
		if pm["in"] == "path" {
			src = rt.example.path
		}
		if v, ok := src[name]; ok {
			pm["example"] = typedExample(pm["schema"], v)
		}
	}
}

// typedExample is a parameter example as the JSON type of its schema
// (limit=10 is the integer 10).
func typedExample(schema any, v string) any {
	sm, _ := schema.(map[string]any)
	switch sm["type"] {
	case "integer":
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	case "boolean":
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
	}
	return v
}

// addBodyExample sets the example of the body's media types: a string
// example goes to text/plain, any other value to application/json.
func addBodyExample(content map[string]any, ex any) {
	if ex == nil {
		return
	}
	mt := "application/json"
	if _, ok := ex.(string); ok {
		mt = "text/plain"
	}
	if m, ok := content[mt].(map[string]any); ok {
		m["example"] = ex
	}
}

// schemaMap is the JSON Schema of v as a document node (for the few
// schemas written by hand: plain keywords OpenAPI 3.0 shares).
func schemaMap(v any) map[string]any {
	s := schemaFor(v)
	b, err := json.Marshal(&s)
	if err != nil {
		panic(err) // the API's own types
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	return m
}

func isTextBody(body any) bool {
	_, ok := body.(*string)
	return ok
}

// errorResponse documents an error status: EMQX's envelope with the codes
// the route may answer it with, a schema shared by the routes with the
// same codes (Error_BAD_REQUEST_UPDATE_FAILED).
func errorResponse(doc map[string]any, status int, codes []string) map[string]any {
	enum := make([]any, len(codes))
	for i, c := range codes {
		enum[i] = c
	}
	schema := map[string]any{
		"type":     "object",
		"required": []any{"code", "message"},
		"properties": map[string]any{
			"code":    map[string]any{"type": "string", "enum": enum},
			"message": map[string]any{"type": "string"},
		},
	}
	name := "Error_" + strings.Join(codes, "_")
	comps, _ := doc["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	schemas[name] = schema
	ref := map[string]any{"$ref": "#/components/schemas/" + name}
	return map[string]any{"description": http.StatusText(status),
		"content": map[string]any{"application/json": map[string]any{"schema": ref}}}
}

// Codes every authenticated route may answer 401 with.
var (
	codes401       = []string{"AUTHORIZATION_HEADER_ERROR", "BAD_API_KEY_OR_SECRET", "BAD_TOKEN", "TOKEN_TIME_OUT"}
	codes401Bearer = append(slices.Clone(codes401), "API_KEY_NOT_ALLOW")
)

// errorCodes are the error statuses of a route and the codes of each: 400
// with the parameter code when it takes parameters and BAD_REQUEST when it
// takes a body, 401 and 403 when it needs credentials, 404 NOT_FOUND when
// it names a resource in its path, and the route's own errs.
func errorCodes(rt route) map[int][]string {
	out := map[int][]string{}
	add := func(status int, codes ...string) {
		for _, c := range codes {
			if !slices.Contains(out[status], c) {
				out[status] = append(out[status], c)
			}
		}
	}
	if rt.query != nil || rt.pathParams != nil {
		add(http.StatusBadRequest, rt.paramCode())
	}
	if rt.body != nil {
		add(http.StatusBadRequest, "BAD_REQUEST")
	}
	switch rt.access {
	case authed:
		add(http.StatusUnauthorized, codes401...)
		add(http.StatusForbidden, "UNAUTHORIZED_ROLE")
	case bearerOnly:
		add(http.StatusUnauthorized, codes401Bearer...)
		add(http.StatusForbidden, "UNAUTHORIZED_ROLE")
	}
	for status, codes := range rt.errs {
		add(status, codes...)
	}
	for _, code := range rt.fieldCodes {
		add(http.StatusBadRequest, code)
	}
	if strings.Contains(rt.path, "{") && rt.errs[http.StatusNotFound] == nil {
		add(http.StatusNotFound, "NOT_FOUND")
	}
	for _, codes := range out {
		slices.Sort(codes)
	}
	return out
}

// addOperation documents one route: parameters, body and success
// responses (finishOpenAPI adds the rest).
func addOperation(r *openapi3.Reflector, rt route) error {
	path := openapiPath(rt.path)
	oc, err := r.NewOperationContext(rt.method, path)
	if err != nil {
		return err
	}
	oc.SetTags(rt.tag)
	oc.SetSummary(rt.summary)
	for _, req := range []any{rt.query, rt.pathParams} {
		if req != nil {
			oc.AddReqStructure(req)
		}
	}
	if rt.body != nil && !isTextBody(rt.body) {
		oc.AddReqStructure(rt.body)
	}
	op := oc.(openapi3.OperationExposer).Operation()
	for _, m := range pathParamRE.FindAllStringSubmatch(path, -1) {
		if hasPathParam(rt, m[1]) {
			continue
		}
		p := openapi3.Parameter{Name: m[1], In: openapi3.ParameterInPath}
		p.WithRequired(true).WithSchema(openapi3.SchemaOrRef{Schema: (&openapi3.Schema{}).WithType(openapi3.SchemaTypeString)})
		op.Parameters = append(op.Parameters, openapi3.ParameterOrRef{Parameter: &p})
	}
	addResponses(oc, rt)
	switch rt.access {
	case authed:
		oc.AddSecurity(secBasic)
		oc.AddSecurity(secBearer)
	case bearerOnly:
		oc.AddSecurity(secBearer)
	}
	return r.AddOperation(oc)
}

// hasPathParam reports whether the route's pathParams type documents the
// wildcard name.
func hasPathParam(rt route, name string) bool {
	if rt.pathParams == nil {
		return false
	}
	s, err := api.SchemaOf(rt.pathParams, "path")
	if err != nil {
		return false
	}
	_, ok := s.Properties[name]
	return ok
}

// addResponses documents the success statuses: the route's, with its body
// (and its text form), and its also statuses.
func addResponses(oc openapi.OperationContext, rt route) {
	status := rt.status
	if status == 0 {
		status = http.StatusOK
	}
	if rt.contentType != "" {
		oc.AddRespStructure(nil, openapi.WithHTTPStatus(status), openapi.WithContentType(rt.contentType))
	}
	if rt.resp != nil || rt.contentType == "" {
		oc.AddRespStructure(rt.resp, openapi.WithHTTPStatus(status))
	}
	for _, st := range slices.Sorted(maps.Keys(rt.also)) {
		if rt.contentType != "" {
			oc.AddRespStructure(nil, openapi.WithHTTPStatus(st), openapi.WithContentType(rt.contentType))
		}
		oc.AddRespStructure(rt.also[st], openapi.WithHTTPStatus(st))
	}
}
