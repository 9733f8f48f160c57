package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/herald-mqtt/herald/internal/service"
)

// MaxBodyBytes bounds a JSON request body.
const MaxBodyBytes = 1 << 20

// DecodeJSON reads a JSON body into v. A body that is not JSON by its
// Content-Type, larger than MaxBodyBytes, malformed, of the wrong type for
// a field, or followed by more data is a 400 BAD_REQUEST.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return BadRequest("content type %q is not application/json", ct)
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return BadRequest("request body has data after the JSON value")
	}
	return nil
}

func decodeError(err error) error {
	var tooBig *http.MaxBytesError
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &tooBig):
		return BadRequest("request body larger than %d bytes", tooBig.Limit)
	case errors.As(err, &typ):
		return BadRequest("field %q: expected %s, got JSON %s", typ.Field, typ.Type, typ.Value)
	case errors.As(err, &syn):
		return BadRequest("malformed JSON at byte %d: %v", syn.Offset, err)
	case errors.Is(err, io.EOF):
		return BadRequest("request body is empty")
	}
	return BadRequest("bad JSON body: %v", err)
}

// ParsePage reads page (default 1, >= 1) and limit (default 100, 1..10000).
// A bad value is a 400 with the given code (EMQX uses INVALID_PARAMETER on
// clients and subscriptions, BAD_REQUEST elsewhere).
func ParsePage(r *http.Request, code string) (service.PageQuery, error) {
	page, err := QueryInt(r, "page", 1, 1, 1<<31-1, code)
	if err != nil {
		return service.PageQuery{}, err
	}
	limit, err := QueryInt(r, "limit", service.DefaultLimit, 1, service.MaxLimit, code)
	if err != nil {
		return service.PageQuery{}, err
	}
	return service.PageQuery{Page: page, Limit: limit}, nil
}

// QueryInt reads an integer query parameter in lo..hi, def when absent.
func QueryInt(r *http.Request, name string, def, lo, hi int, code string) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, Errorf(http.StatusBadRequest, code, "%s: %q is not an integer in %d..%d", name, s, lo, hi)
	}
	return n, nil
}

// QueryBool reads a boolean query parameter; nil when absent.
func QueryBool(r *http.Request, name string) (*bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return nil, BadRequest("%s: %q is not true or false", name, s)
	}
	return &b, nil
}

// QueryTime reads a time query parameter given as RFC 3339 or an integer
// epoch in units (time.Millisecond for client filters, time.Second for
// bans); the zero time when absent.
func QueryTime(r *http.Request, name string, unit time.Duration, code string) (time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := ParseTime(s, unit)
	if err != nil {
		return time.Time{}, Errorf(http.StatusBadRequest, code, "%s: %v", name, err)
	}
	return t, nil
}

// ParseTime parses RFC 3339 or an integer epoch in units.
func ParseTime(s string, unit time.Duration) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(0, 0).Add(time.Duration(n) * unit), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor an epoch integer", s)
	}
	return t, nil
}

// TimeLayout is EMQX's response time format: RFC 3339 with milliseconds and
// the UTC offset.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// FormatTime renders t in TimeLayout in the local zone; nil for the zero
// time (EMQX's null).
func FormatTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.Local().Format(TimeLayout)
	return &s
}
