package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/herald-mqtt/herald/internal/service"
)

// MaxBodyBytes bounds a JSON request body.
const MaxBodyBytes = 1 << 20

// DecodeJSON reads a JSON body into v after checking it against the JSON
// Schema of v's type (SchemaOf, the rules the OpenAPI document shows). A
// body that is not JSON by its Content-Type, larger than MaxBodyBytes,
// empty, malformed, followed by more data, with a string that is not valid
// UTF-8 (encoding/json would replace it silently), or breaking its schema
// (null where an object or array is due, a missing required field, a value
// out of range...) is a 400 BAD_REQUEST naming the field.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if want, ok := r.Context().Value(bodyTypeKey{}).(reflect.Type); ok && want != reflect.TypeOf(v) {
		return fmt.Errorf("api: the handler decodes %T, its route documents %v", v, want)
	}
	raw, err := ReadJSON(w, r)
	if err != nil {
		return err
	}
	return DecodeJSONBytes(raw, v)
}

type bodyTypeKey struct{}

// WithBodyType records the body type a route documents; DecodeJSON then
// refuses (with a 500) to decode into another type, so a handler cannot
// accept a body its document does not describe.
func WithBodyType(r *http.Request, body any) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), bodyTypeKey{}, reflect.TypeOf(body)))
}

// ReadJSON reads a JSON body: the Content-Type and size checks of
// DecodeJSON.
func ReadJSON(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, BadRequest("content type %q is not application/json", ct)
		}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		return nil, decodeError(err)
	}
	return raw, nil
}

// DecodeJSONBytes is DecodeJSON for a body already read.
func DecodeJSONBytes(raw []byte, v any) error {
	doc, err := parseJSON(raw)
	if err != nil {
		return err
	}
	s, err := SchemaOf(v, "json")
	if err != nil {
		return err
	}
	if err := Validate(s, doc); err != nil {
		return fieldError(http.StatusBadRequest, "BAD_REQUEST", err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return decodeError(err)
	}
	return nil
}

// parseJSON decodes one JSON value with numbers kept as json.Number, after
// checking its strings are valid UTF-8.
func parseJSON(raw []byte) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, BadRequest("request body is empty")
	}
	if err := checkStrings(raw); err != nil {
		return nil, fieldError(http.StatusBadRequest, "BAD_REQUEST", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, decodeError(err)
	}
	if doc == nil {
		return nil, BadRequest("request body must not be null")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, BadRequest("request body has data after the JSON value")
	}
	return doc, nil
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

// The times the API accepts: from the Unix epoch to the end of year 9999,
// UTC. A value outside (a negative epoch, an epoch that would overflow)
// is refused rather than wrapped into another century.
var (
	MinTime = time.Unix(0, 0).UTC()
	MaxTime = time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC)
)

// MaxEpoch is the largest epoch integer ParseTime accepts in unit
// (time.Second: 253402300799; time.Millisecond: 253402300799999).
func MaxEpoch(unit time.Duration) int64 {
	perSec := int64(time.Second / unit)
	return MaxTime.Unix()*perSec + perSec - 1
}

// RFC3339Pattern is the pattern a date-time string of the API matches: RFC
// 3339 from year 1970 on (the offset may still move 1970-01-01T00:00:00
// before the epoch; ParseTime has the last word).
const RFC3339Pattern = `^(19[7-9][0-9]|[2-9][0-9]{3})-`

// ParseTime parses RFC 3339, or an integer epoch in units (unit 0: RFC
// 3339 only), in MinTime..MaxTime.
func ParseTime(s string, unit time.Duration) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && unit > 0 {
		return epochTime(n, unit)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		if unit == 0 {
			return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", s)
		}
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor an epoch integer", s)
	}
	if t.Before(MinTime) || t.After(MaxTime) {
		return time.Time{}, fmt.Errorf("%q is out of range: times go from %s to %s", s,
			MinTime.Format(time.RFC3339), MaxTime.Format(time.RFC3339))
	}
	return t, nil
}

func epochTime(n int64, unit time.Duration) (time.Time, error) {
	if max := MaxEpoch(unit); n < 0 || n > max {
		return time.Time{}, fmt.Errorf("%d is out of range: epoch %s go from 0 to %d (%s)", n, unitName(unit), max,
			MaxTime.Format(time.RFC3339))
	}
	perSec := int64(time.Second / unit)
	return time.Unix(n/perSec, n%perSec*int64(unit)), nil
}

func unitName(unit time.Duration) string {
	switch unit {
	case time.Second:
		return "seconds"
	case time.Millisecond:
		return "milliseconds"
	}
	return unit.String() + "s"
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

// fieldError is a validation error as an *Error naming its field.
func fieldError(status int, code string, err error) *Error {
	e := Errorf(status, code, "%v", err)
	var fe *FieldError
	if errors.As(err, &fe) {
		e.Field = fe.Path
	}
	return e
}
