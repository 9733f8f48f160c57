package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// HandlerFunc is an HTTP handler that returns its error instead of writing
// it; Wrap renders the error.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Error is an HTTP error as a face renders it: a status and, for EMQX-style
// faces, a machine code and a message.
type Error struct {
	Status  int
	Code    string
	Message string
	Header  http.Header // extra response headers (WWW-Authenticate)
	// Field is the parameter or body field a validation error is about
	// ("topic", "[2].topic"); "" for other errors.
	Field string
}

// Leaf is the last name of Field ("topic" for "[2].topic").
func (e *Error) Leaf() string {
	f := e.Field
	if i := strings.LastIndexAny(f, ".]"); i >= 0 {
		f = f[i+1:]
	}
	return f
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// Errorf builds an *Error.
func Errorf(status int, code, format string, a ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, a...)}
}

// BadRequest is a 400 BAD_REQUEST error.
func BadRequest(format string, a ...any) *Error {
	return Errorf(http.StatusBadRequest, "BAD_REQUEST", format, a...)
}

// ErrorMapper turns any error into the face's *Error.
type ErrorMapper func(error) *Error

// Renderer writes a face's error body.
type Renderer func(w http.ResponseWriter, e *Error)

// Writer wraps HandlerFuncs with one error path: map, log (4xx at debug,
// 5xx at error), render.
type Writer struct {
	Log    *slog.Logger
	Map    ErrorMapper
	Render Renderer // nil: EMQX's {"code","message"}
}

// Wrap adapts h to an http.Handler.
func (wr *Writer) Wrap(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			wr.WriteError(w, r, err)
		}
	})
}

// WriteError renders err.
func (wr *Writer) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = wr.Map(err)
	}
	if e.Status >= 500 {
		wr.Log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "status", e.Status, "err", err)
	} else {
		wr.Log.Debug("api request refused", "method", r.Method, "path", r.URL.Path, "status", e.Status, "code", e.Code, "message", e.Message)
	}
	for k, v := range e.Header {
		w.Header()[k] = v
	}
	if wr.Render != nil {
		wr.Render(w, e)
		return
	}
	_ = WriteJSON(w, e.Status, map[string]string{"code": e.Code, "message": e.Message})
}

// WriteJSON writes v as a JSON body with the status.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("api: encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return nil
}

// NoContent writes 204.
func NoContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}
