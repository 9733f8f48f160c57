package api

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/swaggest/jsonschema-go"
)

// The request shapes of a face are Go types whose struct tags carry their
// constraints in the vocabulary of github.com/swaggest/jsonschema-go
// (required, minLength, maxLength, pattern, minimum, maximum, enum,
// minItems, nullable) or a JSONSchema method. The face's OpenAPI document
// is reflected from the same types, and SchemaOf reflects them again for
// Validate, so what the document promises and what the decoder enforces
// are one set of rules.

var schemas sync.Map // schemaKey -> *jsonschema.Schema

type schemaKey struct {
	t   reflect.Type
	tag string
}

// SchemaOf returns the JSON Schema of v's type with every reference
// inlined, reading property names from the tag ("json" for bodies,
// "query" for query parameters). It is cached per type.
func SchemaOf(v any, tag string) (*jsonschema.Schema, error) {
	k := schemaKey{reflect.TypeOf(v), tag}
	if s, ok := schemas.Load(k); ok {
		return s.(*jsonschema.Schema), nil
	}
	r := jsonschema.Reflector{}
	s, err := r.Reflect(v, jsonschema.InlineRefs, jsonschema.PropertyNameTag(tag))
	if err != nil {
		return nil, fmt.Errorf("api: schema of %T: %w", v, err)
	}
	schemas.Store(k, &s)
	return &s, nil
}

// FieldError is a value that breaks its schema: Path names the field
// ("expired_at", "[2].topic"), Msg says what is wrong.
type FieldError struct {
	Path string
	Msg  string
}

func (e *FieldError) Error() string {
	if e.Path == "" {
		return "request body " + e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Validate checks v, a JSON value decoded with UseNumber (nil, bool,
// json.Number, string, []any, map[string]any), against s. It knows the
// keywords the reflector produces: type (with null), enum, const,
// minLength, maxLength, pattern, format date-time, minimum, maximum,
// items, minItems, maxItems, properties, required, additionalProperties,
// anyOf and oneOf (as anyOf: a value must match one branch).
func Validate(s *jsonschema.Schema, v any) error {
	return validate(s, v, "")
}

func validate(s *jsonschema.Schema, v any, path string) error {
	if s == nil {
		return nil
	}
	if err := validateType(s, v, path); err != nil {
		return err
	}
	if v == nil {
		return nil // null, allowed by its type: no other keyword applies
	}
	if err := validateEnum(s, v, path); err != nil {
		return err
	}
	if err := validateAlternatives(s, v, path); err != nil {
		return err
	}
	switch x := v.(type) {
	case string:
		return validateString(s, x, path)
	case json.Number:
		return validateNumber(s, x, path)
	case []any:
		return validateArray(s, x, path)
	case map[string]any:
		return validateObject(s, x, path)
	}
	return nil
}

// jsonType names the JSON type of v; integer for a number without a
// fraction or exponent that fits in 64 bits.
func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if integerRE.MatchString(string(x)) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func schemaTypes(s *jsonschema.Schema) []string {
	if s.Type == nil {
		return nil
	}
	if s.Type.SimpleTypes != nil {
		return []string{string(*s.Type.SimpleTypes)}
	}
	out := make([]string, len(s.Type.SliceOfSimpleTypeValues))
	for i, t := range s.Type.SliceOfSimpleTypeValues {
		out[i] = string(t)
	}
	return out
}

func validateType(s *jsonschema.Schema, v any, path string) error {
	types := schemaTypes(s)
	if len(types) == 0 {
		return nil
	}
	got := jsonType(v)
	for _, t := range types {
		if t == got || (t == "number" && got == "integer") {
			return nil
		}
	}
	want := strings.Join(types, " or ")
	if got == "null" {
		return &FieldError{path, "must not be null (want " + want + ")"}
	}
	return &FieldError{path, fmt.Sprintf("want %s, got %s", want, got)}
}

func validateEnum(s *jsonschema.Schema, v any, path string) error {
	if len(s.Enum) == 0 {
		return nil
	}
	for _, e := range s.Enum {
		if fmt.Sprint(e) == fmt.Sprint(v) {
			return nil
		}
	}
	names := make([]string, len(s.Enum))
	for i, e := range s.Enum {
		names[i] = fmt.Sprint(e)
	}
	return &FieldError{path, fmt.Sprintf("%q is not one of %s", fmt.Sprint(v), strings.Join(names, ", "))}
}

// validateAlternatives checks anyOf and oneOf: the value must match at
// least one branch; the error is that of the first branch of the value's
// JSON type, or of the first branch.
func validateAlternatives(s *jsonschema.Schema, v any, path string) error {
	branches := s.AnyOf
	if len(branches) == 0 {
		branches = s.OneOf
	}
	if len(branches) == 0 {
		return nil
	}
	var first error
	typed := false
	for _, b := range branches {
		err := validate(b.TypeObject, v, path)
		if err == nil {
			return nil
		}
		if selects(b.TypeObject, v) {
			return err
		}
		sameType := b.TypeObject != nil && validateType(b.TypeObject, v, path) == nil
		if first == nil || (sameType && !typed) {
			first, typed = err, sameType
		}
	}
	return first
}

// integerRE is a JSON number without fraction or exponent, of any size
// (a range check then refuses the ones too large).
var integerRE = regexp.MustCompile(`^-?[0-9]+$`)

// selects reports whether v, an object, matches the enums of a branch's
// properties (its discriminator: "as" of a ban), so that branch's error
// is the one to show.
func selects(b *jsonschema.Schema, v any) bool {
	m, ok := v.(map[string]any)
	if !ok || b == nil {
		return false
	}
	found := false
	for name, p := range b.Properties {
		if p.TypeObject == nil || len(p.TypeObject.Enum) == 0 {
			continue
		}
		if validateEnum(p.TypeObject, m[name], name) != nil {
			return false
		}
		found = true
	}
	return found
}

var patterns sync.Map // string -> *regexp.Regexp

func matchPattern(p, s string) bool {
	re, ok := patterns.Load(p)
	if !ok {
		re = regexp.MustCompile(p) // the patterns are the API's own constants
		patterns.Store(p, re)
	}
	return re.(*regexp.Regexp).MatchString(s)
}

func validateString(s *jsonschema.Schema, x, path string) error {
	n := int64(utf8.RuneCountInString(x))
	if n < s.MinLength {
		if s.MinLength == 1 {
			return &FieldError{path, "must not be empty"}
		}
		return &FieldError{path, fmt.Sprintf("must be at least %d characters", s.MinLength)}
	}
	if s.MaxLength != nil && n > *s.MaxLength {
		return &FieldError{path, fmt.Sprintf("must be at most %d characters", *s.MaxLength)}
	}
	if s.Format != nil {
		if err := checkFormat(*s.Format, x); err != nil {
			return &FieldError{path, err.Error()}
		}
	}
	if s.Pattern != nil && !matchPattern(*s.Pattern, x) {
		return &FieldError{path, fmt.Sprintf("%q does not match %s", x, *s.Pattern)}
	}
	return nil
}

// checkFormat checks the formats the API uses: date-time (RFC 3339 in
// MinTime..MaxTime), ipv4 and ipv6. Other formats are documentation.
func checkFormat(format, x string) error {
	switch format {
	case "date-time":
		_, err := ParseTime(x, 0)
		return err
	case "ipv4", "ipv6":
		a, err := netip.ParseAddr(x)
		if err != nil || (format == "ipv4") != a.Is4() || a.Zone() != "" {
			return fmt.Errorf("%q is not an %s address", x, format)
		}
	}
	return nil
}

func validateNumber(s *jsonschema.Schema, x json.Number, path string) error {
	f, err := x.Float64()
	if err != nil {
		return &FieldError{path, fmt.Sprintf("%s is out of range", x)}
	}
	if s.Minimum != nil && f < *s.Minimum {
		return &FieldError{path, fmt.Sprintf("%s is below the minimum %s", x, num(*s.Minimum))}
	}
	if s.Maximum != nil && f > *s.Maximum {
		return &FieldError{path, fmt.Sprintf("%s is above the maximum %s", x, num(*s.Maximum))}
	}
	return nil
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func validateArray(s *jsonschema.Schema, x []any, path string) error {
	if int64(len(x)) < s.MinItems {
		return &FieldError{path, fmt.Sprintf("must have at least %d items", s.MinItems)}
	}
	if s.MaxItems != nil && int64(len(x)) > *s.MaxItems {
		return &FieldError{path, fmt.Sprintf("must have at most %d items", *s.MaxItems)}
	}
	if s.Items == nil || s.Items.SchemaOrBool == nil {
		return nil
	}
	for i, e := range x {
		if err := validate(s.Items.SchemaOrBool.TypeObject, e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return err
		}
	}
	return nil
}

func validateObject(s *jsonschema.Schema, x map[string]any, path string) error {
	for _, name := range s.Required {
		if v, ok := x[name]; !ok || v == nil {
			return &FieldError{join(path, name), "is required"}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(x)) {
		v := x[name]
		p, ok := s.Properties[name]
		sub := p.TypeObject
		if !ok && s.AdditionalProperties != nil {
			sub = s.AdditionalProperties.TypeObject
			if b := s.AdditionalProperties.TypeBoolean; b != nil && !*b {
				return &FieldError{join(path, name), "is not a known field"}
			}
		}
		if err := validate(sub, v, join(path, name)); err != nil {
			return err
		}
	}
	return nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
