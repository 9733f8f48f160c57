package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/herald-mqtt/herald/internal/config"
)

// ConfigRootNames lists the roots GET /configs shows, in order.
func ConfigRootNames() []string {
	names := make([]string, 0, len(configRoots))
	for _, r := range configRoots {
		names = append(names, r.name)
	}
	return names
}

// rootOrNotFound finds a root by name.
func rootOrNotFound(name string) (*rootSpec, error) {
	r := findRoot(name)
	if r == nil {
		return nil, Errorf(ErrNotFound, "NOT_FOUND", "config root %q not found", name)
	}
	return r, nil
}

// ConfigRoot returns one root ("mqtt", "global_zone", "sysmon"...) as a
// JSON object in EMQX's value formats.
func (s *Service) ConfigRoot(ctx context.Context, name string) (map[string]any, error) {
	r, err := rootOrNotFound(name)
	if err != nil {
		return nil, err
	}
	return r.render(s.opts.Controller.Config().Flatten()), nil
}

// Configs returns every root keyed by name, or only the root key when it
// is not "". node, when set, must name a node of the cluster.
func (s *Service) Configs(ctx context.Context, key, node string) (map[string]any, error) {
	if _, err := s.nodesIn(node); err != nil {
		return nil, err
	}
	flat := s.opts.Controller.Config().Flatten()
	out := map[string]any{}
	for _, r := range configRoots {
		if key == "" || key == r.name {
			out[r.name] = r.render(flat)
		}
	}
	if key != "" && len(out) == 0 {
		return nil, Errorf(ErrNotFound, "NOT_FOUND", "config key %q not found (known: %s)", key, strings.Join(ConfigRootNames(), ", "))
	}
	return out, nil
}

// UpdateConfigRoot merges body into a root and applies it at once: every
// leaf maps to a Herald key set as config.Set would; an unknown key, a bad
// value, a change of a read-only (EMQX-only) value or of a key that needs a
// restart is ErrBadRequest UPDATE_FAILED, and nothing changes. It returns
// the root as it now is.
func (s *Service) UpdateConfigRoot(ctx context.Context, name string, body map[string]any) (map[string]any, error) {
	r, err := rootOrNotFound(name)
	if err != nil {
		return nil, err
	}
	cfg, err := s.opts.Controller.UpdateConfig(ctx, func(c *config.Config) error {
		return r.apply(c, body, name)
	})
	if err != nil {
		return nil, updateFailed(err)
	}
	s.log.Info("config root updated", "root", name)
	return r.render(cfg.Flatten()), nil
}

// UpdateConfigs applies several roots in one change (PUT /configs). With
// replace, each root given is first reset to its defaults.
func (s *Service) UpdateConfigs(ctx context.Context, tree map[string]any, replace bool) (map[string]any, error) {
	names := sortedKeys(tree)
	for _, n := range names {
		if findRoot(n) == nil {
			return nil, Errorf(ErrBadRequest, "UPDATE_FAILED", "unknown config root %q (known: %s, global_zone)",
				n, strings.Join(ConfigRootNames(), ", "))
		}
	}
	cfg, err := s.opts.Controller.UpdateConfig(ctx, func(c *config.Config) error {
		for _, n := range names {
			r := findRoot(n)
			if replace {
				if err := r.reset(c, ""); err != nil {
					return err
				}
			}
			if err := r.apply(c, tree[n], n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, updateFailed(err)
	}
	flat := cfg.Flatten()
	out := map[string]any{}
	for _, n := range names {
		out[n] = findRoot(n).render(flat)
	}
	s.log.Info("configs updated", "roots", names, "replace", replace)
	return out, nil
}

// ResetConfigRoot puts a root (or the part under confPath, a dotted path
// inside it) back to its defaults; keys that need a restart keep their
// value.
func (s *Service) ResetConfigRoot(ctx context.Context, name, confPath string) error {
	r, err := rootOrNotFound(name)
	if err != nil {
		return err
	}
	if name == "listeners" {
		return Errorf(ErrBadRequest, "REST_FAILED", "listeners cannot be reset; use the /listeners endpoints")
	}
	_, err = s.opts.Controller.UpdateConfig(ctx, func(c *config.Config) error { return r.reset(c, confPath) })
	if err != nil {
		if errors.Is(err, ErrBadRequest) && CodeOf(err) == "" {
			return Errorf(ErrBadRequest, "REST_FAILED", "%s", msgOf(err))
		}
		return err
	}
	s.log.Info("config root reset", "root", name, "conf_path", confPath)
	return nil
}

func msgOf(err error) string {
	var se *Error
	if errors.As(err, &se) {
		return se.Msg
	}
	return err.Error()
}

// apply sets the keys a root's body names. where names the root in
// errors.
func (r *rootSpec) apply(c *config.Config, body any, where string) error {
	obj, ok := body.(map[string]any)
	if !ok {
		return Errorf(ErrBadRequest, "UPDATE_FAILED", "%s: want an object", where)
	}
	if r.sub != nil {
		for _, k := range sortedKeys(obj) {
			if !slices.Contains(r.sub, k) {
				return Errorf(ErrBadRequest, "UPDATE_FAILED", "%s.%s: unknown key (want one of %s)", where, k, strings.Join(r.sub, ", "))
			}
			if err := findRoot(k).apply(c, obj[k], where+"."+k); err != nil {
				return err
			}
		}
		return nil
	}
	flat := c.Flatten()
	lv := map[string]any{}
	leaves("", obj, lv)
	for _, p := range sortedKeys(lv) {
		if err := r.applyLeaf(c, flat, p, lv[p], where); err != nil {
			return err
		}
	}
	return nil
}

// applyLeaf sets one leaf: a Herald key, an unchanged read-only value, or
// a key config.Set knows (a new listener's); anything else is refused.
func (r *rootSpec) applyLeaf(c *config.Config, flat map[string]any, p string, v any, where string) error {
	key, mapped := r.keyOf(p)
	if _, known := flat[key]; mapped && known {
		return setLeaf(c, key, v, where+"."+p)
	}
	if fv, ok := getPath(r.render(flat), p); ok { // read-only: fixed or derived
		if sameJSON(fv, v) {
			return nil
		}
		return Errorf(ErrBadRequest, "UPDATE_FAILED",
			"%s.%s is not configurable in Herald (read-only, value %s)", where, p, jsonText(fv))
	}
	if mapped {
		return setLeaf(c, key, v, where+"."+p)
	}
	return Errorf(ErrBadRequest, "UPDATE_FAILED", "%s.%s: unknown key", where, p)
}

// setLeaf sets key from a JSON value.
func setLeaf(c *config.Config, key string, v any, shown string) error {
	s, err := leafString(v)
	if err != nil {
		return Errorf(ErrBadRequest, "UPDATE_FAILED", "%s: %v", shown, err)
	}
	if err := config.Set(c, key, s); err != nil {
		return Errorf(ErrBadRequest, "UPDATE_FAILED", "%s: %v", shown, err)
	}
	return nil
}

// leafString is a JSON leaf in config.Set's string form.
func leafString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case json.Number:
		return x.String(), nil
	case []any:
		return jsonText(x), nil
	case nil:
		return "", errors.New("null is not a value")
	}
	return "", fmt.Errorf("want a string, number, bool or list, got %s", jsonText(v))
}

// reset sets the root's keys (under confPath) to their defaults, leaving
// the keys that need a restart alone.
func (r *rootSpec) reset(c *config.Config, confPath string) error {
	if r.sub != nil {
		for _, n := range r.sub {
			sub := confPath
			if confPath != "" {
				rest, ok := strings.CutPrefix(confPath+".", n+".")
				if !ok {
					continue
				}
				sub = strings.TrimSuffix(rest, ".")
			}
			if err := findRoot(n).reset(c, sub); err != nil && confPath == "" {
				return err
			}
		}
		return nil
	}
	def := config.Default().Flatten()
	matched := false
	for _, k := range sortedKeys(def) {
		p, ok := r.jsonPath(k)
		if !ok || confPath != "" && p != confPath && !strings.HasPrefix(p, confPath+".") {
			continue
		}
		matched = true
		if config.ColdKey(k) {
			continue
		}
		if err := config.Set(c, k, config.ValueString(k, def[k])); err != nil {
			return Errorf(ErrBadRequest, "REST_FAILED", "%s: %v", k, err)
		}
	}
	if _, fixed := getPath(r.fixed, confPath); confPath != "" && !matched && !fixed {
		return Errorf(ErrBadRequest, "NO_DEFAULT_VALUE", "%s.%s has no default value", r.name, confPath)
	}
	return nil
}

// sameJSON compares two JSON values as JSON.
func sameJSON(a, b any) bool {
	var x, y any
	_ = json.Unmarshal([]byte(jsonText(a)), &x)
	_ = json.Unmarshal([]byte(jsonText(b)), &y)
	return reflect.DeepEqual(x, y)
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
