package api

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/swaggest/jsonschema-go"
)

// ValidateQuery checks the query parameters of r against the struct q
// documents them with (`query:"name"` fields and their constraint tags,
// SchemaOf(q, "query")). Each value is read as the parameter's type: a
// boolean must be true or false and an integer an integer, so an empty
// value of an enum, boolean or integer parameter ("aggregate=") is refused
// rather than taken for absent. Unknown parameters are ignored. A bad
// value is a 400 with the given code naming the parameter.
func ValidateQuery(r *http.Request, q any, code string) error {
	return validateValues(r.URL.Query(), q, "query", code)
}

// ValidatePath checks the path wildcards of r against the struct p
// (`path:"name"` fields), as ValidateQuery.
func ValidatePath(r *http.Request, p any, code string) error {
	s, err := SchemaOf(p, "path")
	if err != nil {
		return err
	}
	vals := url.Values{}
	for name := range s.Properties {
		vals.Set(name, r.PathValue(name))
	}
	return validateValues(vals, p, "path", code)
}

func validateValues(vals url.Values, q any, tag, code string) error {
	s, err := SchemaOf(q, tag)
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(vals)) {
		p, ok := s.Properties[name]
		if !ok || p.TypeObject == nil {
			continue
		}
		if err := validateParam(p.TypeObject, name, vals[name]); err != nil {
			return fieldError(http.StatusBadRequest, code, err)
		}
	}
	return nil
}

// validateParam checks the values of one parameter (several only for an
// array).
func validateParam(s *jsonschema.Schema, name string, vals []string) error {
	if slices.Contains(schemaTypes(s), "array") && s.Items != nil && s.Items.SchemaOrBool != nil {
		for _, v := range vals {
			if err := validate(s.Items.SchemaOrBool.TypeObject, paramValue(s.Items.SchemaOrBool.TypeObject, v), name); err != nil {
				return err
			}
		}
		return nil
	}
	if len(vals) > 1 {
		return &FieldError{name, "is given more than once"}
	}
	v := paramValue(s, vals[0])
	if err := validate(s, v, name); err != nil {
		if str, ok := v.(string); ok && validateType(s, v, name) != nil {
			return &FieldError{name, fmt.Sprintf("%q is not %s", str, typeWords(s))}
		}
		return err
	}
	return nil
}

// paramValue reads a parameter's text as the JSON value its schema (or one
// of its branches) wants: a number, a boolean, else the string.
func paramValue(s *jsonschema.Schema, v string) any {
	types := allTypes(s)
	if slices.Contains(types, "integer") || slices.Contains(types, "number") {
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			return json.Number(v)
		}
	}
	if slices.Contains(types, "boolean") {
		if b, err := strconv.ParseBool(v); err == nil {
			return b // true, True, 1... as the handlers' strconv.ParseBool
		}
	}
	return v
}

func allTypes(s *jsonschema.Schema) []string {
	out := schemaTypes(s)
	for _, b := range append(slices.Clone(s.AnyOf), s.OneOf...) {
		if b.TypeObject != nil {
			out = append(out, allTypes(b.TypeObject)...)
		}
	}
	return out
}

func typeWords(s *jsonschema.Schema) string {
	switch t := allTypes(s); {
	case slices.Equal(t, []string{"boolean"}):
		return "true or false"
	case slices.Equal(t, []string{"integer"}):
		return "an integer"
	case slices.Equal(t, []string{"number"}):
		return "a number"
	}
	return "valid"
}
