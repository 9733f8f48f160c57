package api

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/herald-mqtt/herald/internal/service"
)

// Authenticator verifies the credentials of a request.
type Authenticator interface {
	AuthenticateAPIKey(ctx context.Context, key, secret string) (service.Principal, error)
	AuthenticateToken(ctx context.Context, token string) (service.Principal, error)
}

// Authenticate reads the Authorization header: HTTP Basic (API key and
// secret) or Bearer (a token from login). A missing or unsupported header
// is 401 AUTHORIZATION_HEADER_ERROR with WWW-Authenticate, as EMQX.
func Authenticate(r *http.Request, a Authenticator) (service.Principal, error) {
	h := r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(h, " ")
	switch strings.ToLower(scheme) {
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		key, secret, ok := strings.Cut(string(raw), ":")
		if err != nil || !ok {
			return service.Principal{}, headerError("malformed basic credentials")
		}
		return a.AuthenticateAPIKey(r.Context(), key, secret)
	case "bearer":
		return a.AuthenticateToken(r.Context(), strings.TrimSpace(cred))
	}
	return service.Principal{}, headerError("support authorization: basic/bearer")
}

func headerError(msg string) *Error {
	e := Errorf(http.StatusUnauthorized, "AUTHORIZATION_HEADER_ERROR", "%s", msg)
	e.Header = http.Header{"Www-Authenticate": {`Basic Realm="emqx-dashboard"`}}
	return e
}
