// Package v5 is Herald's native management API, compatible with EMQX 5's
// /api/v5: the same paths, query parameters, pagination, JSON field names,
// error envelope and status codes, so that EMQX users' scripts and
// dashboards work unchanged. It is a thin face over internal/service:
// handlers decode, call one service method and encode.
//
// Every route is declared once, in a table (route.go) that carries its
// method, path, tag, access rule and the Go types of its parameters, body
// and response; the mux, the role checks and the OpenAPI document are all
// built from that table.
package v5
