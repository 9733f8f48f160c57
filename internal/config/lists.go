package config

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// userFields lists the keys of one authentication.users entry.
func userFields() []field[User] {
	return []field[User]{
		nonEmptyF("username", func(u *User) *string { return &u.Username }),
		nonEmptyF("password_hash", func(u *User) *string { return &u.PasswordHash }),
		enumF("algorithm", func(u *User) *string { return &u.Algorithm }, "bcrypt", "pbkdf2", "sha256", "sha512", "plain"),
		strF("salt", func(u *User) *string { return &u.Salt }),
		enumF("salt_position", func(u *User) *string { return &u.SaltPosition }, "prefix", "suffix"),
		boolF("is_superuser", func(u *User) *bool { return &u.IsSuperuser }),
	}
}

// ruleFields lists the scalar keys of one authorization.rules entry; topics
// is a list and handled apart.
func ruleFields() []field[Rule] {
	who := strF("who", func(r *Rule) *string { return &r.Who })
	who.check = func(r *Rule) error { return checkWho(r.Who) }
	return []field[Rule]{
		enumF("permission", func(r *Rule) *string { return &r.Permission }, "allow", "deny"),
		who,
		enumF("action", func(r *Rule) *string { return &r.Action }, "publish", "subscribe", "all"),
	}
}

// checkWho checks a rule's subject: all, username:<u>, clientid:<c> or
// ipaddr:<ip or cidr>.
func checkWho(w string) error {
	if w == "all" {
		return nil
	}
	kind, v, _ := strings.Cut(w, ":")
	switch {
	case kind == "ipaddr":
		if _, err := netip.ParsePrefix(v); err == nil {
			return nil
		}
		if _, err := netip.ParseAddr(v); err == nil {
			return nil
		}
		return fmt.Errorf("%q is not an IP address or CIDR", v)
	case (kind == "username" || kind == "clientid") && v != "":
		return nil
	}
	return fmt.Errorf("%q is not all, username:<name>, clientid:<id> or ipaddr:<cidr>", w)
}

// decodeUsers decodes authentication.users entries.
func decodeUsers(items []any, src string) ([]User, error) {
	newUser := func() User { return User{Algorithm: "sha256", SaltPosition: "prefix"} }
	users, errs := decodeItems(usersKey, items, userFields(), newUser, nil, src)
	errs = append(errs, checkUsers(users, src)...)
	return users, errors.Join(errs...)
}

// decodeRules decodes authorization.rules entries.
func decodeRules(items []any, src string) ([]Rule, error) {
	newRule := func() Rule { return Rule{Who: "all", Action: "all"} }
	rules, errs := decodeItems(rulesKey, items, ruleFields(), newRule, setTopics, src)
	errs = append(errs, checkRules(rules, src)...)
	return rules, errors.Join(errs...)
}

// setTopics handles a rule's "topics" list; other names are not lists.
func setTopics(r *Rule, name string, v any) (bool, error) {
	if name != "topics" {
		return false, nil
	}
	items, ok := asList(v)
	if !ok {
		return true, fmt.Errorf("want a list of topic filters, got %s", describe(v))
	}
	r.Topics = make([]string, 0, len(items))
	for _, it := range items {
		s, ok := scalarString(it)
		if !ok {
			return true, fmt.Errorf("want a topic filter, got %s", describe(it))
		}
		r.Topics = append(r.Topics, s)
	}
	return true, nil
}

// decodeItems decodes a list of tables into Ts. special handles
// non-scalar fields (nil: none).
func decodeItems[T any](key string, items []any, fields []field[T], newT func() T,
	special func(*T, string, any) (bool, error), src string) ([]T, []error) {
	var out []T
	var errs []error
	for i, it := range items {
		ik := key + "[" + strconv.Itoa(i) + "]"
		m, ok := asMap(it)
		if !ok {
			errs = append(errs, invalid(ik, fmt.Errorf("want a table, got %s", describe(it)), src))
			continue
		}
		t := newT()
		errs = append(errs, decodeItem(ik, m, fields, &t, special, src)...)
		out = append(out, t)
	}
	return out, errs
}

// decodeItem sets one table's keys on t.
func decodeItem[T any](ik string, m map[string]any, fields []field[T], t *T,
	special func(*T, string, any) (bool, error), src string) []error {
	var errs []error
	for _, name := range sortedKeys(m) {
		if err := decodeItemKey(ik+"."+name, name, m[name], fields, t, special, src); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// decodeItemKey sets one key of a table entry.
func decodeItemKey[T any](key, name string, v any, fields []field[T], t *T,
	special func(*T, string, any) (bool, error), src string) error {
	if special != nil {
		if done, err := special(t, name, v); done {
			if err != nil {
				return invalid(key, err, src)
			}
			return nil
		}
	}
	i := slices.IndexFunc(fields, func(f field[T]) bool { return f.key == name })
	if i < 0 {
		return &KeyError{Key: key, Kind: ErrUnknownKey, Source: src}
	}
	s, ok := scalarString(v)
	if !ok {
		return invalid(key, fmt.Errorf("want a single value, got %s", describe(v)), src)
	}
	if err := fields[i].set(t, s); err != nil {
		return invalid(key, err, src)
	}
	return nil
}

// checkItems runs the single-field checks of every entry.
func checkItems[T any](key string, items []T, fields []field[T], src string) []error {
	var errs []error
	for i := range items {
		for _, f := range fields {
			if f.check == nil {
				continue
			}
			if err := f.check(&items[i]); err != nil {
				errs = append(errs, invalid(fmt.Sprintf("%s[%d].%s", key, i, f.key), err, src))
			}
		}
	}
	return errs
}

// checkUsers checks user entries: fields, unique usernames, no salt with
// bcrypt (its hash carries its own).
func checkUsers(users []User, src string) []error {
	errs := checkItems(usersKey, users, userFields(), src)
	seen := map[string]bool{}
	for i, u := range users {
		key := fmt.Sprintf("%s[%d]", usersKey, i)
		if u.Username != "" && seen[u.Username] {
			errs = append(errs, invalid(key+".username", fmt.Errorf("duplicate username %q", u.Username), src))
		}
		seen[u.Username] = true
		if u.Algorithm == "bcrypt" && u.Salt != "" {
			errs = append(errs, invalid(key+".salt", errors.New("must be empty for bcrypt (the hash holds its salt)"), src))
		}
	}
	return errs
}

// checkRules checks rule entries: fields and a non-empty topic list.
func checkRules(rules []Rule, src string) []error {
	errs := checkItems(rulesKey, rules, ruleFields(), src)
	for i, r := range rules {
		key := fmt.Sprintf("%s[%d].topics", rulesKey, i)
		if len(r.Topics) == 0 {
			errs = append(errs, invalid(key, errors.New("must list at least one topic filter"), src))
		}
		if slices.Contains(r.Topics, "") {
			errs = append(errs, invalid(key, errors.New("has an empty topic filter"), src))
		}
	}
	return errs
}

// asList converts a decoded list ([]any, or TOML's []map[string]any).
func asList(v any) ([]any, bool) {
	switch l := v.(type) {
	case []any:
		return l, true
	case []map[string]any:
		out := make([]any, len(l))
		for i, m := range l {
			out[i] = m
		}
		return out, true
	}
	return nil, false
}

// asMap converts a decoded table (YAML may give map[any]any).
func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, x := range m {
			out[fmt.Sprint(k)] = x
		}
		return out, true
	}
	return nil, false
}

// scalarString renders a decoded scalar as the string Set parses; ok is
// false for tables, lists and dates.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}

// describe names a decoded value's shape for error messages.
func describe(v any) string {
	if _, ok := asList(v); ok {
		return "a list"
	}
	if _, ok := asMap(v); ok {
		return "a table"
	}
	if s, ok := scalarString(v); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("a %T", v)
}

// sortedKeys returns m's keys in order, for deterministic errors.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
