package config

import "slices"

// Flatten returns every key path with its value, as Set reads it back:
// strings for durations ("15s"), byte sizes ("1MB"), rates ("1000/s") and
// the words "infinity"/"disabled"; bool, int and float64 for plain values;
// []User and []Rule (copies) for the list keys, which Set takes as JSON.
// Listener keys are listed for every listener that exists. Secrets
// (password hashes, the dashboard password) are included; see Secret.
func (c Config) Flatten() map[string]any {
	r := reg()
	out := make(map[string]any, len(r.fields)+64)
	for _, f := range r.fields {
		out[f.key] = f.get(&c)
	}
	out[usersKey] = append([]User{}, c.Authentication.Users...)
	out[rulesKey] = copyRules(c.Authorization.Rules)
	for _, l := range c.AllListeners() {
		for _, f := range listenerFields(l.Type) {
			out[l.Key()+"."+f.key] = f.get(&l.Listener)
		}
	}
	return out
}

// copyRules deep-copies rules, never returning nil.
func copyRules(rules []Rule) []Rule {
	out := make([]Rule, len(rules))
	for i, r := range rules {
		r.Topics = slices.Clone(r.Topics)
		out[i] = r
	}
	return out
}

// Secret reports whether a Flatten key holds a secret to redact before
// showing it (the user list with its password hashes, the dashboard
// password).
func Secret(key string) bool {
	return key == usersKey || key == "dashboard.default_password"
}

// Keys returns the key paths in documentation order: the static keys, the
// list keys, then each listener's keys (AllListeners order).
func (c Config) Keys() []string {
	var keys []string
	for _, f := range reg().fields {
		keys = append(keys, f.key)
	}
	keys = append(keys, usersKey, rulesKey)
	for _, l := range c.AllListeners() {
		for _, f := range listenerFields(l.Type) {
			keys = append(keys, l.Key()+"."+f.key)
		}
	}
	return keys
}
