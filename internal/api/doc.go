// Package api is the HTTP plumbing every management face shares: handlers
// that return errors and one writer that renders them, JSON bodies with a
// size limit, a content-type check, a UTF-8 check and validation against
// the JSON Schema of their Go type (the one the face's OpenAPI document
// shows), query and path parameters validated the same way, time parsing
// bounded to 1970..9999, RFC 3339 time formatting, and the authentication
// of API keys and bearer tokens. It holds no business logic: it reaches
// the node only through internal/service.
package api
