package service

import "context"

// AuthenticateAPIKey checks an API key and secret (HTTP Basic). An unknown,
// disabled or expired key, or a wrong secret, is ErrUnauthorized with code
// BAD_API_KEY_OR_SECRET.
func (s *Service) AuthenticateAPIKey(ctx context.Context, key, secret string) (Principal, error) {
	return Principal{}, Errorf(ErrUnauthorized, "BAD_API_KEY_OR_SECRET", "not implemented")
}

// AuthenticateToken checks a bearer token from Login. An expired token is
// ErrUnauthorized with code TOKEN_TIME_OUT, an unknown one BAD_TOKEN.
func (s *Service) AuthenticateToken(ctx context.Context, token string) (Principal, error) {
	return Principal{}, Errorf(ErrUnauthorized, "BAD_TOKEN", "not implemented")
}
