// Package api is the HTTP plumbing every management face shares: handlers
// that return errors and one writer that renders them, JSON bodies with a
// size limit and a content-type check, query parsing (pages, booleans,
// times), RFC 3339 time formatting, and the authentication of API keys and
// bearer tokens. It holds no business logic: it reaches the node only
// through internal/service.
package api
