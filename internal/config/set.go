package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// kind classifies a key path.
type kind int

const (
	kindUnknown  kind = iota
	kindScalar        // a settable scalar key
	kindList          // authentication.users, authorization.rules
	kindSection       // an inner node: "mqtt", "listeners.tcp", ...
	kindListener      // listeners.<type>.<name>
)

// registry indexes the static keys once.
type registry struct {
	fields   []field[Config]
	byKey    map[string]field[Config]
	sections map[string]bool
}

var reg = sync.OnceValue(func() *registry {
	r := &registry{fields: configFields(), byKey: map[string]field[Config]{}, sections: map[string]bool{}}
	for _, f := range r.fields {
		r.byKey[f.key] = f
		r.addSections(f.key)
	}
	r.addSections(usersKey)
	r.addSections(rulesKey)
	return r
})

// addSections records every proper prefix of key as a section.
func (r *registry) addSections(key string) {
	for i := range len(key) {
		if key[i] == '.' {
			r.sections[key[:i]] = true
		}
	}
}

// listenerKey is a parsed listeners.<typ>.<name>[.<rest>] path.
type listenerKey struct {
	typ, name, rest string
}

// parseListenerKey splits a path under listeners; ok is false for other
// paths.
func parseListenerKey(key string) (lk listenerKey, depth int, ok bool) {
	parts := strings.SplitN(key, ".", 4)
	if parts[0] != "listeners" {
		return lk, 0, false
	}
	lk = listenerKey{}
	fields := []*string{&lk.typ, &lk.name, &lk.rest}
	for i, p := range parts[1:] {
		*fields[i] = p
	}
	return lk, len(parts), true
}

// classify tells what key names.
func classify(key string) kind {
	r := reg()
	if _, ok := r.byKey[key]; ok {
		return kindScalar
	}
	if key == usersKey || key == rulesKey {
		return kindList
	}
	if lk, depth, ok := parseListenerKey(key); ok {
		return classifyListener(lk, depth)
	}
	if r.sections[key] {
		return kindSection
	}
	return kindUnknown
}

// classifyListener classifies a path under listeners.
func classifyListener(lk listenerKey, depth int) kind {
	switch {
	case depth == 1:
		return kindSection
	case !slices.Contains(ListenerTypes, lk.typ):
		return kindUnknown
	case depth == 2:
		return kindSection
	case depth == 3:
		return kindListener
	}
	for _, f := range listenerFields(lk.typ) {
		if f.key == lk.rest {
			return kindScalar
		}
		if strings.HasPrefix(f.key, lk.rest+".") {
			return kindSection
		}
	}
	return kindUnknown
}

// Set sets one key from its string form, as a HERALD_ variable or
// --set key=value would: scalars parse as documented on Config, the list
// keys (authentication.users, authorization.rules) take a JSON array. A key
// under listeners.<type>.<name> creates that listener with defaults when it
// does not exist. The value is checked on its own (ranges, enums); Validate
// does the cross-field checks. On error c is unchanged and the error is a
// *KeyError wrapping ErrUnknownKey or ErrInvalidValue.
func Set(c *Config, key, value string) error {
	return apply(c, key, value, "")
}

// apply is Set with the value's source for error messages.
func apply(c *Config, key, value, src string) error {
	switch classify(key) {
	case kindScalar:
		return setScalar(c, key, value, src)
	case kindList:
		return setListJSON(c, key, value, src)
	case kindSection, kindListener:
		return invalid(key, errors.New("is a section, not a single key"), src)
	}
	return unknown(key, src)
}

// setScalar sets a scalar key known to exist.
func setScalar(c *Config, key, value, src string) error {
	if lk, _, ok := parseListenerKey(key); ok {
		return setListenerField(c, lk, value, src, key)
	}
	f := reg().byKey[key]
	tmp := *c
	if err := runField(f, &tmp, value); err != nil {
		return invalid(key, err, src)
	}
	*c = tmp
	return nil
}

// runField parses value into t and checks the result.
func runField[T any](f field[T], t *T, value string) error {
	if err := f.set(t, value); err != nil {
		return err
	}
	if f.check != nil {
		return f.check(t)
	}
	return nil
}

// setListenerField sets one key of a listener, creating the listener.
func setListenerField(c *Config, lk listenerKey, value, src, key string) error {
	l, err := getListener(c, lk.typ, lk.name)
	if err != nil {
		return invalid(key, err, src)
	}
	for _, f := range listenerFields(lk.typ) {
		if f.key == lk.rest {
			if err := runField(f, &l, value); err != nil {
				return invalid(key, err, src)
			}
		}
	}
	c.Listeners.setByType(lk.typ, lk.name, l)
	return nil
}

// getListener returns a copy of a listener, or a new one with defaults
// when the name is valid and not yet present.
func getListener(c *Config, typ, name string) (Listener, error) {
	if l, ok := c.Listeners.ByType(typ)[name]; ok {
		return l, nil
	}
	if err := checkListenerName(name); err != nil {
		return Listener{}, err
	}
	return newListener(""), nil
}

// ensureListener creates listeners.<typ>.<name> with defaults if missing.
func ensureListener(c *Config, key string, src string) error {
	lk, _, _ := parseListenerKey(key)
	l, err := getListener(c, lk.typ, lk.name)
	if err != nil {
		return invalid(key, err, src)
	}
	c.Listeners.setByType(lk.typ, lk.name, l)
	return nil
}

// checkListenerName accepts letters, digits, '_' and '-'.
func checkListenerName(name string) error {
	ok := name != ""
	for _, r := range name {
		ok = ok && (r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}
	if !ok {
		return fmt.Errorf("invalid listener name %q (letters, digits, _ and - only)", name)
	}
	return nil
}

// setListJSON sets a list key from a JSON array.
func setListJSON(c *Config, key, value, src string) error {
	var v any
	if err := json.Unmarshal([]byte(value), &v); err != nil {
		return invalid(key, fmt.Errorf("not a JSON array: %w", err), src)
	}
	return setList(c, key, v, src)
}

// setList sets a list key from a decoded list ([]any of maps).
func setList(c *Config, key string, v any, src string) error {
	items, ok := asList(v)
	if !ok {
		return invalid(key, fmt.Errorf("want a list, got %s", describe(v)), src)
	}
	if key == usersKey {
		users, err := decodeUsers(items, src)
		if err == nil {
			c.Authentication.Users = users
		}
		return err
	}
	rules, err := decodeRules(items, src)
	if err == nil {
		c.Authorization.Rules = rules
	}
	return err
}

// candidateKeys lists the known keys a typo of key might have meant.
func candidateKeys(key string) []string {
	if len(key) > 200 {
		return nil
	}
	keys := []string{usersKey, rulesKey}
	for _, f := range reg().fields {
		keys = append(keys, f.key)
	}
	lk, depth, ok := parseListenerKey(key)
	if !ok || depth < 4 {
		return keys
	}
	for _, typ := range ListenerTypes {
		prefix := "listeners." + typ + "." + lk.name + "."
		for _, f := range listenerFields(typ) {
			keys = append(keys, prefix+f.key)
		}
	}
	return keys
}
