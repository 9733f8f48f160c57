package config

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
)

// Validate checks every key on its own (ranges, enums, formats) and the
// rules that span keys; every error is a *KeyError naming its key, several
// are joined with errors.Join. Cross-field rules:
//
//   - an enabled listener needs a bind, except the "default" ssl and wss
//     listeners without ssl_options.certfile, which are silently inactive
//     (see ActiveListeners); a user-named ssl/wss listener without a
//     certfile is an error;
//   - certfile and keyfile go together; verify_peer needs cacertfile;
//     fail_if_no_peer_cert needs verify_peer;
//   - two active listeners may not bind the same port on overlapping hosts;
//   - mqtt.max_outbound_bytes must hold at least one mqtt.max_packet_size
//     packet;
//   - an https dashboard listener with a bind needs ssl_options.certfile
//     and keyfile;
//   - user names are unique, bcrypt users carry no separate salt, rules list
//     at least one topic.
//
// Validate does not touch the file system (certificate files are read when
// listeners start).
func (c *Config) Validate() error {
	var errs []error
	for _, f := range reg().fields {
		if f.check == nil {
			continue
		}
		if err := f.check(c); err != nil {
			errs = append(errs, invalid(f.key, err, ""))
		}
	}
	errs = append(errs, c.validateListeners()...)
	errs = append(errs, c.validateMQTT()...)
	errs = append(errs, c.validateDashboard()...)
	errs = append(errs, checkUsers(c.Authentication.Users, "")...)
	errs = append(errs, checkRules(c.Authorization.Rules, "")...)
	return errors.Join(errs...)
}

// checkNodeName requires name@host.
func checkNodeName(c *Config) error {
	name, host, ok := strings.Cut(c.Node.Name, "@")
	if !ok || name == "" || host == "" || strings.Contains(host, "@") {
		return fmt.Errorf("%q must be name@host with exactly one @", c.Node.Name)
	}
	return nil
}

// validateDashboard checks that an https dashboard listener has its
// certificate and key.
func (c *Config) validateDashboard() []error {
	l := c.Dashboard.Listeners.HTTPS
	if l.Bind == "" {
		return nil
	}
	var errs []error
	for key, v := range map[string]string{"certfile": l.SSLOptions.CertFile, "keyfile": l.SSLOptions.KeyFile} {
		if v == "" {
			errs = append(errs, invalid("dashboard.listeners.https.ssl_options."+key,
				errors.New("required when dashboard.listeners.https.bind is set"), ""))
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errs
}

// validateMQTT checks the mqtt.* rules that span keys.
func (c *Config) validateMQTT() []error {
	m := c.MQTT
	if m.MaxOutboundBytes < m.MaxPacketSize {
		err := fmt.Errorf("%s is smaller than mqtt.max_packet_size (%s)",
			FormatByteSize(m.MaxOutboundBytes), FormatByteSize(m.MaxPacketSize))
		return []error{invalid("mqtt.max_outbound_bytes", err, "")}
	}
	return nil
}

// NamedListener is a listener with its type and name; ID is "type:name",
// the form broker.ClientInfo.Listener uses.
type NamedListener struct {
	Type, Name string
	Listener
}

// ID is "type:name", e.g. "tcp:default".
func (n NamedListener) ID() string { return n.Type + ":" + n.Name }

// Key is the listener's key path, e.g. "listeners.tcp.default".
func (n NamedListener) Key() string { return "listeners." + n.Type + "." + n.Name }

// AllListeners returns every listener, ordered by type (tcp, ssl, ws, wss)
// then name.
func (c *Config) AllListeners() []NamedListener {
	var out []NamedListener
	for _, typ := range ListenerTypes {
		m := c.Listeners.ByType(typ)
		for _, name := range sortedNames(m) {
			out = append(out, NamedListener{Type: typ, Name: name, Listener: m[name]})
		}
	}
	return out
}

// ActiveListeners returns the listeners to start: enabled, with a bind,
// and for ssl/wss with a certfile (which is how the default ssl and wss
// listeners stay off until a certificate is configured).
func (c *Config) ActiveListeners() []NamedListener {
	var out []NamedListener
	for _, l := range c.AllListeners() {
		if l.active() {
			out = append(out, l)
		}
	}
	return out
}

// active reports whether the listener is to be started.
func (n NamedListener) active() bool {
	return n.Enable && n.Bind != "" && (!n.isTLS() || n.SSLOptions.CertFile != "")
}

// isTLS reports whether the listener type terminates TLS.
func (n NamedListener) isTLS() bool { return n.Type == ListenerSSL || n.Type == ListenerWSS }

// validateListeners checks every listener's fields and the listener rules.
func (c *Config) validateListeners() []error {
	var errs []error
	all := c.AllListeners()
	for _, l := range all {
		errs = append(errs, l.validate()...)
	}
	return append(errs, bindConflicts(all)...)
}

// validate checks one listener.
func (n NamedListener) validate() []error {
	var errs []error
	if err := checkListenerName(n.Name); err != nil {
		errs = append(errs, invalid(n.Key(), err, ""))
	}
	for _, f := range listenerFields(n.Type) {
		if f.check == nil {
			continue
		}
		if err := f.check(&n.Listener); err != nil {
			errs = append(errs, invalid(n.Key()+"."+f.key, err, ""))
		}
	}
	if !n.Enable {
		return errs
	}
	return append(errs, n.validateEnabled()...)
}

// validateEnabled checks the rules for an enabled listener.
func (n NamedListener) validateEnabled() []error {
	defaultTLSOff := n.isTLS() && n.Name == "default" && n.SSLOptions.CertFile == "" && n.SSLOptions.KeyFile == ""
	if defaultTLSOff {
		return nil
	}
	var errs []error
	if n.Bind == "" {
		errs = append(errs, invalid(n.Key()+".bind", errors.New("required for an enabled listener (or set enable = false)"), ""))
	}
	if n.isTLS() {
		errs = append(errs, n.validateTLS()...)
	}
	return errs
}

// validateTLS checks an enabled ssl/wss listener's ssl_options.
func (n NamedListener) validateTLS() []error {
	o, key := n.SSLOptions, n.Key()+".ssl_options."
	var errs []error
	add := func(k, msg string) { errs = append(errs, invalid(key+k, errors.New(msg), "")) }
	if o.CertFile == "" {
		add("certfile", "required for an enabled "+n.Type+" listener")
	}
	if o.KeyFile == "" {
		add("keyfile", "required for an enabled "+n.Type+" listener")
	}
	if o.Verify == "verify_peer" && o.CACertFile == "" {
		add("cacertfile", "required with verify = verify_peer")
	}
	if o.FailIfNoPeerCert && o.Verify != "verify_peer" {
		add("fail_if_no_peer_cert", "needs verify = verify_peer")
	}
	return errs
}

// bindConflicts reports active listeners sharing a port on overlapping
// hosts (equal, or either a wildcard). Port 0 (any free port) never
// conflicts.
func bindConflicts(all []NamedListener) []error {
	var errs []error
	var seen []NamedListener
	for _, l := range all {
		if !l.active() {
			continue
		}
		for _, s := range seen {
			if bindsOverlap(l.Bind, s.Bind) {
				err := fmt.Errorf("%q conflicts with %s.bind %q", l.Bind, s.Key(), s.Bind)
				errs = append(errs, invalid(l.Key()+".bind", err, ""))
			}
		}
		seen = append(seen, l)
	}
	return errs
}

// bindsOverlap reports whether two listen addresses collide.
func bindsOverlap(a, b string) bool {
	ha, pa, errA := net.SplitHostPort(a)
	hb, pb, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil || pa != pb || pa == "0" {
		return false
	}
	return ha == hb || isWildcard(ha) || isWildcard(hb)
}

// isWildcard reports whether host listens on all interfaces.
func isWildcard(host string) bool {
	return host == "" || host == "0.0.0.0" || host == "::"
}

// sortedNames returns a listener map's names in order.
func sortedNames(m map[string]Listener) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
