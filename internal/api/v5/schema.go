package v5

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/herald-mqtt/herald/internal/api"
	"github.com/herald-mqtt/herald/internal/service"
	"github.com/swaggest/jsonschema-go"
)

// The request types of the API carry their constraints in struct tags
// (required, minLength, pattern, minimum, maximum, enum) or, where the rule
// lives in the service or is more than a tag can say, in a JSONSchema
// method built from the service's constants. The OpenAPI document and the
// request decoder (api.DecodeJSON, api.ValidateQuery) read the same types.

// Patterns shared by several fields. They are written in the syntax Go's
// regexp and ECMA-262 (the OpenAPI dialect) agree on.
const (
	// topicNamePattern: an MQTT topic name, no wildcards, no U+0000.
	topicNamePattern = `^[^+#\x00]+$`
	// filterPattern: a non-empty MQTT topic filter, + and # only as whole
	// levels and # only last.
	filterPattern = `((\+|[^/+#\x00]*)/)+(\+|#|[^/+#\x00]*)|\+|#|[^/+#\x00]+`
	// sharePrefix: the prefix of a shared subscription.
	sharePrefix = `\$share/[^/+#\x00]+/|\$queue/`
	// topicFilterPattern: a topic filter, optionally shared.
	topicFilterPattern = `^(` + sharePrefix + `)?(` + filterPattern + `)$`
	// noNULPattern: a non-empty string without U+0000.
	noNULPattern = `^[^\x00]+$`
	// maxTopicLen is MQTT's limit on a topic, in bytes (and so characters).
	maxTopicLen = 65535
	// maxInt32 bounds page numbers and other counts.
	maxInt32 = 1<<31 - 1
)

// TopicName is an MQTT topic name.
type TopicName string

// JSONSchema is topicNamePattern.
func (TopicName) JSONSchema() (jsonschema.Schema, error) {
	s := schemaString().WithPattern(topicNamePattern).WithMinLength(1).WithMaxLength(maxTopicLen)
	return *s.WithDescription("a topic name: no wildcards, no U+0000"), nil
}

// TopicFilter is an MQTT topic filter, possibly shared.
type TopicFilter string

// JSONSchema is topicFilterPattern.
func (TopicFilter) JSONSchema() (jsonschema.Schema, error) {
	s := schemaString().WithPattern(topicFilterPattern).WithMinLength(1).WithMaxLength(maxTopicLen)
	return *s.WithDescription("a topic filter; shared as $share/<group>/<filter>"), nil
}

// TopicFilterNoShare is an MQTT topic filter that is not shared.
type TopicFilterNoShare string

// JSONSchema is topicFilterPattern without the shared prefix.
func (TopicFilterNoShare) JSONSchema() (jsonschema.Schema, error) {
	s := schemaString().WithPattern(`^(` + filterPattern + `)$`).WithMinLength(1).WithMaxLength(maxTopicLen)
	return *s.WithDescription("a topic filter, not shared"), nil
}

func schemaString() *jsonschema.Schema {
	var s jsonschema.Schema
	s.AddType(jsonschema.String)
	return &s
}

func schemaInteger(lo, hi int64) *jsonschema.Schema {
	var s jsonschema.Schema
	s.AddType(jsonschema.Integer)
	s.WithMinimum(float64(lo)).WithMaximum(float64(hi))
	return &s
}

// dateTime is an RFC 3339 string in api.MinTime..api.MaxTime.
func dateTime() *jsonschema.Schema {
	return schemaString().WithFormat("date-time").WithPattern(api.RFC3339Pattern)
}

// epochDigits is an epoch integer written as a string ("1700000000"),
// which EMQX accepts too; eleven digits at most keep it below year 9999.
func epochDigits() *jsonschema.Schema {
	return schemaString().WithPattern(`^[0-9]{1,11}$`)
}

// epochOrDateTime is a time as an epoch integer in unit or RFC 3339.
func epochOrDateTime(unit time.Duration, desc string) jsonschema.Schema {
	var out jsonschema.Schema
	out.WithAnyOf(schemaInteger(0, api.MaxEpoch(unit)).ToSchemaOrBool(), dateTime().ToSchemaOrBool(),
		epochDigits().ToSchemaOrBool())
	out.WithDescription(desc)
	return out
}

func stringEnum(desc string, values ...string) jsonschema.Schema {
	s := schemaString()
	for _, v := range values {
		s.Enum = append(s.Enum, v)
	}
	if desc != "" {
		s.WithDescription(desc)
	}
	return *s
}

// TimeOrEpoch is a time given as an RFC 3339 string or an integer of
// epoch seconds; empty when absent.
type TimeOrEpoch string

// UnmarshalJSON accepts a JSON string or number (the schema has checked
// which).
func (t *TimeOrEpoch) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*t = TimeOrEpoch(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*t = TimeOrEpoch(n.String())
	return nil
}

// JSONSchema documents the two forms and the range.
func (TimeOrEpoch) JSONSchema() (jsonschema.Schema, error) {
	return epochOrDateTime(time.Second, "RFC 3339 (from 1970 to 9999) or epoch seconds"), nil
}

// parse returns the time, zero when absent.
func (t TimeOrEpoch) parse(name string) (time.Time, error) {
	if t == "" {
		return time.Time{}, nil
	}
	v, err := api.ParseTime(string(t), time.Second)
	if err != nil {
		return time.Time{}, api.BadRequest("%s: %v", name, err)
	}
	return v, nil
}

// ExpiredAt is an API key's expiry: epoch seconds, RFC 3339 or "infinity".
type ExpiredAt json.RawMessage

// UnmarshalJSON keeps the raw value.
func (e *ExpiredAt) UnmarshalJSON(b []byte) error {
	*e = append((*e)[:0], b...)
	return nil
}

// JSONSchema documents the three forms.
func (ExpiredAt) JSONSchema() (jsonschema.Schema, error) {
	inf := stringEnum("", "infinity")
	var out jsonschema.Schema
	out.WithAnyOf(schemaInteger(0, api.MaxEpoch(time.Second)).ToSchemaOrBool(), dateTime().ToSchemaOrBool(),
		epochDigits().ToSchemaOrBool(), inf.ToSchemaOrBool())
	out.WithDescription("epoch seconds, RFC 3339 (from 1970 to 9999), or infinity")
	return out, nil
}

// TimeParam is a time query parameter: epoch milliseconds or RFC 3339.
type TimeParam string

// JSONSchema documents the two forms and the range.
func (TimeParam) JSONSchema() (jsonschema.Schema, error) {
	return epochOrDateTime(time.Millisecond, "epoch milliseconds or RFC 3339 (from 1970 to 9999)"), nil
}

// IPAddress is an IPv4 or IPv6 address.
type IPAddress string

// JSONSchema is the two formats.
func (IPAddress) JSONSchema() (jsonschema.Schema, error) {
	var out jsonschema.Schema
	out.WithAnyOf(schemaString().WithFormat("ipv4").ToSchemaOrBool(), schemaString().WithFormat("ipv6").ToSchemaOrBool())
	return out, nil
}

// Position is a message listing's cursor.
type Position string

// JSONSchema is service.PositionPattern.
func (Position) JSONSchema() (jsonschema.Schema, error) {
	return *schemaString().WithPattern(service.PositionPattern), nil
}

// APIKeyName is an API key's name (the service's rule).
type APIKeyName string

// JSONSchema is service.APIKeyNamePattern.
func (APIKeyName) JSONSchema() (jsonschema.Schema, error) {
	s := schemaString().WithPattern(service.APIKeyNamePattern).WithMaxLength(service.MaxAPIKeyNameLen).WithMinLength(1)
	return *s, nil
}

// Username is a dashboard user's name (the service's rule).
type Username string

// JSONSchema is service.UsernamePattern.
func (Username) JSONSchema() (jsonschema.Schema, error) {
	return *schemaString().WithPattern(service.UsernamePattern).WithMinLength(1).WithMaxLength(100), nil
}

// Password is a new dashboard password (the service's rule).
type Password string

// JSONSchema is service.PasswordPattern and its lengths.
func (Password) JSONSchema() (jsonschema.Schema, error) {
	s := schemaString().WithPattern(service.PasswordPattern).
		WithMinLength(service.MinPasswordLen).WithMaxLength(service.MaxPasswordLen)
	s.WithDescription("8 to 64 printable ASCII characters from at least two of: letters, digits, specials")
	return *s, nil
}

// ListenerID is a listener id path parameter, {type}:{name}.
type ListenerID string

// JSONSchema is service.ListenerIDPattern.
func (ListenerID) JSONSchema() (jsonschema.Schema, error) {
	return *schemaString().WithPattern(service.ListenerIDPattern()), nil
}

// ListenerName is a listener's name.
type ListenerName string

// JSONSchema is service.ListenerNamePattern.
func (ListenerName) JSONSchema() (jsonschema.Schema, error) {
	return *schemaString().WithPattern(service.ListenerNamePattern), nil
}

// ListenerType is a listener's type.
type ListenerType string

// JSONSchema is the service's listener types.
func (ListenerType) JSONSchema() (jsonschema.Schema, error) {
	return stringEnum("", service.ListenerTypes()...), nil
}

// ClientFields is the fields= parameter of GET /clients: all, or a
// comma-separated list of client fields.
type ClientFields string

// JSONSchema lists the client fields.
func (ClientFields) JSONSchema() (jsonschema.Schema, error) {
	names := make([]string, 0, len(clientFields))
	for k := range clientFields {
		names = append(names, strings.ReplaceAll(k, ".", `\.`))
	}
	slices.Sort(names)
	alt := "(" + strings.Join(names, "|") + ")"
	item := ` *` + alt + ` *`
	s := schemaString().WithPattern("^(all|" + item + "(," + item + ")*)$")
	s.WithDescription("all, or client fields separated by commas")
	return *s, nil
}

// schemaFor reflects the schema of v for documents built by hand.
func schemaFor(v any) jsonschema.Schema {
	s, err := api.SchemaOf(v, "json")
	if err != nil {
		panic(err) // the API's own types
	}
	return *s
}

// FalseOnly is a switch Herald accepts only off (a feature it lacks).
type FalseOnly bool

// JSONSchema is the boolean false.
func (FalseOnly) JSONSchema() (jsonschema.Schema, error) {
	var s jsonschema.Schema
	s.AddType(jsonschema.Boolean)
	s.WithEnum(false)
	return s, nil
}

// DisabledOnly is a setting Herald accepts only as "disabled".
type DisabledOnly string

// JSONSchema is the string "disabled".
func (DisabledOnly) JSONSchema() (jsonschema.Schema, error) { return stringEnum("", "disabled"), nil }
