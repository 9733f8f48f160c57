package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
)

// Clone returns a deep copy of c: the listener maps, the user list and the
// rules are copied, so changing the copy never changes c.
func (c Config) Clone() Config {
	out := c
	out.Listeners = Listeners{
		TCP: maps.Clone(c.Listeners.TCP),
		SSL: maps.Clone(c.Listeners.SSL),
		WS:  maps.Clone(c.Listeners.WS),
		WSS: maps.Clone(c.Listeners.WSS),
	}
	if c.Authentication.Users != nil {
		out.Authentication.Users = append([]User(nil), c.Authentication.Users...)
	}
	if c.Authorization.Rules != nil {
		out.Authorization.Rules = copyRules(c.Authorization.Rules)
	}
	return out
}

// DeleteListener removes listeners.<typ>.<name>; it reports whether it
// existed.
func (c *Config) DeleteListener(typ, name string) bool {
	m := c.Listeners.ByType(typ)
	if _, ok := m[name]; !ok {
		return false
	}
	delete(m, name)
	return true
}

// Listener returns listeners.<typ>.<name>.
func (c *Config) Listener(typ, name string) (NamedListener, bool) {
	l, ok := c.Listeners.ByType(typ)[name]
	return NamedListener{Type: typ, Name: name, Listener: l}, ok
}

// IsActive reports whether the listener is to be started: enabled, with a
// bind, and for ssl/wss with a certfile (see ActiveListeners).
func (n NamedListener) IsActive() bool { return n.active() }

// coldPrefixes are the key prefixes read once at start: the node's
// identity and storage, the log format, the authentication and
// authorization databases, the HTTP API's own listener and bootstrap user.
var coldPrefixes = []string{"node.", "durability", "log.format", "authentication.",
	"authorization.no_match", "authorization.rules", "dashboard."}

// ColdKey reports whether key can only change with a restart (the
// management API refuses to change it; the file or the environment sets
// it). Every other key can change while the node runs.
func ColdKey(key string) bool {
	for _, p := range coldPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// ValueString is a Flatten value of key in the string form Set reads
// back: strings as they are (an empty bind as "off"), numbers and bools
// in Go syntax, lists as JSON.
func ValueString(key string, v any) string {
	switch x := v.(type) {
	case string:
		if x == "" && strings.HasSuffix(key, ".bind") {
			return "off"
		}
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
