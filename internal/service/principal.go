package service

import "context"

// Roles of dashboard users and API keys, as EMQX's RBAC.
const (
	RoleAdministrator = "administrator"
	RoleViewer        = "viewer"
	RolePublisher     = "publisher" // API keys only
)

// Principal is who an API request is made by.
type Principal struct {
	Name   string // dashboard username, or API key name
	Role   string
	APIKey bool // authenticated with an API key (HTTP Basic), not a bearer token
	Token  string
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal ctx carries.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
