package server

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/metastore"
)

// overridesDoc is the metastore document holding the configuration
// changed through the management API.
const overridesDoc = "config_overrides"

// overrides are the keys changed through the management API, relative to
// the configuration the node was started with (defaults < file < env <
// flags): each key in Set holds its value in config.Set's string form, and
// DeletedListeners names the listeners ("tcp:default") removed through the
// API. They are applied over the started-with configuration on every
// start, so API changes win over the file; removing the document (or
// resetting the keys through the API) gives the file back its say.
type overrides struct {
	Set              map[string]string `json:"set"`
	DeletedListeners []string          `json:"deleted_listeners,omitempty"`
}

// diffOverrides returns what turns base into cfg.
func diffOverrides(base, cfg config.Config) overrides {
	ov := overrides{Set: map[string]string{}}
	bf, nf := base.Flatten(), cfg.Flatten()
	for k, v := range nf {
		if bv, ok := bf[k]; ok && reflect.DeepEqual(bv, v) {
			continue
		}
		ov.Set[k] = config.ValueString(k, v)
	}
	for _, l := range base.AllListeners() {
		if _, ok := cfg.Listener(l.Type, l.Name); !ok {
			ov.DeletedListeners = append(ov.DeletedListeners, l.ID())
		}
	}
	return ov
}

// apply returns base with the overrides applied. A key that no longer
// applies (renamed, or out of range under a newer version) is skipped with
// a warning; if the result does not validate, base is returned unchanged
// and the error is logged.
func (ov overrides) apply(base config.Config, log *slog.Logger) config.Config {
	c := base.Clone()
	for _, id := range ov.DeletedListeners {
		typ, name, _ := strings.Cut(id, ":")
		c.DeleteListener(typ, name)
	}
	keys := make([]string, 0, len(ov.Set))
	for k := range ov.Set {
		keys = append(keys, k)
	}
	slices.Sort(keys) // listeners.*.bind before listeners.*.enable
	for _, k := range keys {
		if err := config.Set(&c, k, ov.Set[k]); err != nil {
			log.Warn("config override skipped", "key", k, "err", err)
		}
	}
	if err := c.Validate(); err != nil {
		log.Error("config overrides from the management API ignored: the result is invalid", "err", err)
		return base
	}
	return c
}

// empty reports whether there is nothing to override.
func (ov overrides) empty() bool { return len(ov.Set) == 0 && len(ov.DeletedListeners) == 0 }

// openMeta opens the management metadata store of the data dir.
func openMeta(dataDir string) (*metastore.Store, error) {
	st, err := metastore.Open(filepath.Join(dataDir, "mgmt"))
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	return st, nil
}

// loadOverrides applies the persisted API overrides to s.cfg. Called by
// Start before anything is built.
func (s *Server) loadOverrides() error {
	st, err := openMeta(s.cfg.Node.DataDir)
	if err != nil {
		return err
	}
	s.meta = st
	var ov overrides
	found, err := st.Load(overridesDoc, &ov)
	if err != nil {
		return fmt.Errorf("server: config overrides: %w", err)
	}
	if found && !ov.empty() {
		s.cfg = ov.apply(s.base, s.log)
		s.log.Info("config overrides from the management API applied", "keys", len(ov.Set), "deleted_listeners", len(ov.DeletedListeners))
	}
	return nil
}

// saveOverrides persists what turns the started-with configuration into
// cfg.
func (s *Server) saveOverrides(cfg config.Config) error {
	if err := s.meta.Save(overridesDoc, diffOverrides(s.base, cfg)); err != nil {
		return fmt.Errorf("persist config: %w", err)
	}
	return nil
}
