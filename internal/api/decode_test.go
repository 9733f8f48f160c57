package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestParseTimeRange(t *testing.T) {
	for _, c := range []struct {
		in   string
		unit time.Duration
		want string // RFC 3339 in UTC, or "" for an error
	}{
		{"0", time.Second, "1970-01-01T00:00:00Z"},
		{"253402300799", time.Second, "9999-12-31T23:59:59Z"},
		{"253402300800", time.Second, ""},
		{"-1", time.Second, ""},
		{"99999999999999999", time.Second, ""},
		{"253402300799999", time.Millisecond, "9999-12-31T23:59:59.999Z"},
		{"253402300800000", time.Millisecond, ""},
		{"1700000000123", time.Millisecond, "2023-11-14T22:13:20.123Z"},
		{"2024-02-29T12:00:00+01:00", time.Second, "2024-02-29T11:00:00Z"},
		{"1969-12-31T23:59:59Z", time.Second, ""},
		{"1970-01-01T00:30:00+01:00", time.Second, ""},
		{"1700000000", 0, ""}, // RFC 3339 only
		{"tomorrow", time.Second, ""},
	} {
		got, err := ParseTime(c.in, c.unit)
		switch {
		case c.want == "" && err == nil:
			t.Errorf("ParseTime(%q, %v) = %v, want an error", c.in, c.unit, got)
		case c.want != "" && (err != nil || got.UTC().Format(time.RFC3339Nano) != c.want):
			t.Errorf("ParseTime(%q, %v) = %v, %v, want %s", c.in, c.unit, got.UTC().Format(time.RFC3339Nano), err, c.want)
		}
	}
	if MaxEpoch(time.Second) != 253402300799 || MaxEpoch(time.Millisecond) != 253402300799999 {
		t.Fatalf("MaxEpoch = %d, %d", MaxEpoch(time.Second), MaxEpoch(time.Millisecond))
	}
}

func TestCheckStrings(t *testing.T) {
	for _, c := range []struct{ in, path string }{
		{`{"a":"ok","b":["x","y\u00e9\ud83d\ude00"]}`, ""},
		{"{\"a\":\"bad\xff\"}", "a"},
		{"{\"a\":{\"b\":[\"ok\",\"\xc3\"]}}", "a.b[1]"},
		{`{"a":"\ud800"}`, "a"},
		{`{"a":"\udc00x"}`, "a"},
		{`{"a":"\ud800\u0041"}`, "a"},
		{`["ok","\\ud800"]`, ""}, // an escaped backslash, then text
		{"{\"\xff\":1}", "field name"},
		{"[{\"a\":1},{\"b\":\"\xfe\"}]", "[1].b"},
	} {
		err := checkStrings([]byte(c.in))
		var fe *FieldError
		switch {
		case c.path == "" && err != nil:
			t.Errorf("%q: %v", c.in, err)
		case c.path != "" && (!errors.As(err, &fe) || !strings.Contains(fe.Error(), c.path)):
			t.Errorf("%q: %v, want an error naming %s", c.in, err, c.path)
		}
	}
}

type valBody struct {
	Name  string   `json:"name" required:"true" minLength:"1" maxLength:"5" pattern:"^[a-z]+$"`
	N     *int     `json:"n,omitempty" minimum:"0" maximum:"9"`
	Kind  string   `json:"kind,omitempty" enum:"a,b"`
	Items []string `json:"items,omitempty" minItems:"1"`
}

func TestDecodeJSONBytesValidates(t *testing.T) {
	for _, c := range []struct{ in, field string }{
		{`{"name":"abc","n":3,"kind":"a","items":["x"]}`, ""},
		{`null`, "null"},
		{``, "empty"},
		{`{}`, "name"},
		{`{"name":null}`, "name"},
		{`{"name":""}`, "name"},
		{`{"name":"abcdef"}`, "name"},
		{`{"name":"ABC"}`, "name"},
		{`{"name":"a","n":10}`, "n"},
		{`{"name":"a","n":-1}`, "n"},
		{`{"name":"a","n":1.5}`, "n"},
		{`{"name":"a","kind":""}`, "kind"},
		{`{"name":"a","items":[]}`, "items"},
		{`{"name":"a","items":[null]}`, "items[0]"},
		{`{"name":"a"} {}`, "after"},
	} {
		var v valBody
		err := DecodeJSONBytes([]byte(c.in), &v)
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%s: %v", c.in, err)
		case c.field != "" && (err == nil || !strings.Contains(err.Error(), c.field)):
			t.Errorf("%s: %v, want an error naming %s", c.in, err, c.field)
		}
	}
}

func TestDecodeJSONRouteType(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"name":"abc"}`))
	r = WithBodyType(r, &valBody{})
	var other struct{ Name string }
	if err := DecodeJSON(httptest.NewRecorder(), r, &other); err == nil {
		t.Fatal("decoded into a type the route does not document")
	}
	r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"name":"abc"}`))
	r = WithBodyType(r, &valBody{})
	var v valBody
	if err := DecodeJSON(httptest.NewRecorder(), r, &v); err != nil || v.Name != "abc" {
		t.Fatalf("%+v %v", v, err)
	}
}
