package service

import (
	"context"

	"github.com/herald-mqtt/herald/internal/config"
)

// SchemaNames are the names GET /schemas/{name} knows (EMQX's enum).
var SchemaNames = []string{"hotconf", "bridges", "actions", "connectors"}

// Schema returns the small JSON Schema document Herald serves for
// GET /schemas/{name}. EMQX serves its dashboard's full HOCON schema
// there; Herald serves, for "hotconf", an object whose properties are its
// configuration keys, each with its JSON type and built-in default
// (secrets have no default shown), and for "bridges", "actions" and
// "connectors" an empty object schema (Herald has no data integration).
// Another name is ErrBadRequest.
func (s *Service) Schema(ctx context.Context, name string) (map[string]any, error) {
	switch name {
	case "hotconf":
		return hotconfSchema(), nil
	case "bridges", "actions", "connectors":
		return map[string]any{"type": "object", "title": name, "properties": map[string]any{},
			"description": "Herald has no data integration"}, nil
	}
	return nil, Errorf(ErrBadRequest, "BAD_REQUEST", "unknown schema %q (one of hotconf, bridges, actions, connectors)", name)
}

func hotconfSchema() map[string]any {
	def := config.Default()
	flat := def.Flatten()
	props := make(map[string]any, len(flat))
	for _, k := range def.Keys() {
		v := flat[k]
		p := map[string]any{"type": jsonType(v)}
		if !config.Secret(k) && p["type"] != "array" {
			p["default"] = v
		}
		props[k] = p
	}
	return map[string]any{"type": "object", "title": "hotconf",
		"description": "Herald's configuration keys (dotted paths), their JSON types and built-in defaults",
		"properties":  props}
}

// jsonType names the JSON Schema type of a flattened config value.
func jsonType(v any) string {
	switch v.(type) {
	case bool:
		return "boolean"
	case int:
		return "integer"
	case float64:
		return "number"
	case string:
		return "string"
	}
	return "array"
}
