package config

import "maps"

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
