package service

import (
	"errors"
	"fmt"
)

// Sentinel errors callers branch on. Every error a Service method returns
// wraps exactly one of them (or is an unexpected internal error).
var (
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrBadRequest   = errors.New("bad request")
	ErrForbidden    = errors.New("forbidden")
	ErrUnauthorized = errors.New("unauthorized")
	ErrUnavailable  = errors.New("unavailable")
	ErrNotSupported = errors.New("not supported")
)

// Error is a service error with a stable machine code a face may show
// ("CLIENTID_NOT_FOUND", "ALREADY_EXISTS"). Kind is one of the sentinels;
// errors.Is(err, ErrNotFound) works through it.
type Error struct {
	Kind error
	Code string // "" lets the face pick its default for Kind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Kind }

// Errorf builds an *Error of the given kind and code.
func Errorf(kind error, code, format string, a ...any) error {
	return &Error{Kind: kind, Code: code, Msg: fmt.Sprintf(format, a...)}
}

// CodeOf returns the machine code of err, "" when it has none.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
