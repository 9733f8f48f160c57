package service

import (
	"encoding/json"
	"sort"
	"strings"
)

// A config root is one top-level object of EMQX's configuration as the
// /configs endpoints show it ("mqtt", "sysmon", "global_zone"). Each is
// drawn from Herald's key paths through mappings; what Herald does not
// have is shown with EMQX's default value and is read-only: a PUT may send
// it back unchanged, and any other value is refused.

// mapping ties a JSON path inside a root to a Herald key path. With
// prefix, every key under key maps to the same relative path under json
// (json "" is the root itself).
type mapping struct {
	json   string
	key    string
	prefix bool
}

// rootSpec describes one root.
type rootSpec struct {
	name   string
	maps   []mapping
	fixed  map[string]any // EMQX's defaults for what Herald lacks (read-only)
	hidden []string       // Herald keys not shown (secrets)
	sub    []string       // for global_zone: roots nested under it
	// adjust, if set, finishes the rendered root: values derived from
	// Herald keys in EMQX's form (read-only unless mapped).
	adjust func(out map[string]any)
}

// dashboardListenersShown shows each dashboard listener as EMQX does: bind
// 0 when off, and enable (derived from the bind).
func dashboardListenersShown(out map[string]any) {
	for _, name := range []string{"http", "https"} {
		l, ok := getPath(out, "listeners."+name)
		m, isObj := l.(map[string]any)
		if !ok || !isObj {
			continue
		}
		on := m["bind"] != nil && m["bind"] != ""
		if !on {
			m["bind"] = 0
		}
		m["enable"] = on
	}
}

// mustJSON decodes a literal.
func mustJSON(s string) map[string]any {
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		panic("service: bad root defaults: " + err.Error())
	}
	return m
}

// mqttFixed are EMQX's mqtt keys Herald has no equivalent of.
const mqttFixed = `{"use_username_as_clientid": false, "exclusive_subscription": false,
	"message_expiry_interval": "infinity", "mqueue_priorities": "disabled",
	"mqueue_default_priority": "lowest", "keepalive_check_interval": "30s"}`

// configRoots lists the roots GET /configs shows, in order.
var configRoots = []*rootSpec{
	{name: "mqtt", maps: []mapping{{json: "", key: "mqtt", prefix: true},
		{json: "shared_subscription_strategy", key: "broker.shared_subscription_strategy"}},
		fixed: mustJSON(mqttFixed)},
	{name: "broker", maps: []mapping{{json: "shared_subscription_strategy", key: "broker.shared_subscription_strategy"}},
		fixed: mustJSON(`{"enable_session_registry": true, "session_history_retain": "0s",
			"session_locking_strategy": "quorum", "shared_dispatch_ack_enabled": false, "route_batch_clean": false}`)},
	{name: "retainer", maps: []mapping{{json: "backend.max_retained_messages", key: "retainer.max_retained_messages"},
		{json: "", key: "retainer", prefix: true}},
		fixed: mustJSON(`{"stop_publish_clear_msg": false,
			"backend": {"type": "built_in_database", "storage_type": "ram"}}`)},
	{name: "sys_topics", maps: []mapping{{json: "", key: "sys_topics", prefix: true}},
		fixed: mustJSON(`{"sys_event_messages": {"client_connected": true, "client_disconnected": true,
			"client_subscribed": false, "client_unsubscribed": false}}`)},
	{name: "sysmon", maps: []mapping{{json: "", key: "sysmon", prefix: true}},
		fixed: mustJSON(`{"vm": {"process_check_interval": "30s", "process_high_watermark": "80%",
			"process_low_watermark": "60%", "long_gc": "disabled", "long_schedule": "240ms", "large_heap": "32MB",
			"busy_dist_port": true, "busy_port": true},
			"os": {"cpu_check_interval": "60s", "cpu_high_watermark": "80%", "cpu_low_watermark": "60%",
			"mem_check_interval": "60s", "sysmem_high_watermark": "70%", "procmem_high_watermark": "5%"}}`)},
	{name: "alarm", maps: []mapping{{json: "", key: "alarm", prefix: true}},
		fixed: mustJSON(`{"actions": ["log", "publish"], "size_limit": 1000, "validity_period": "24h"}`)},
	{name: "log", maps: []mapping{{json: "console.level", key: "log.level"}, {json: "console.formatter", key: "log.format"}},
		fixed: mustJSON(`{"console": {"enable": true, "time_offset": "system", "chars_limit": "unlimited",
			"max_depth": 100, "single_line": true, "timestamp_format": "auto"},
			"file": {"default": {"enable": false, "level": "warning", "path": "log/emqx.log", "rotation_count": 10,
			"rotation_size": "50MB", "formatter": "text", "time_offset": "system"}},
			"throttling": {"time_window": "1m"},
			"audit": {"enable": false, "level": "info", "path": "log/audit.log", "max_filter_size": 5000}}`)},
	{name: "dashboard", maps: []mapping{{json: "listeners.http", key: "dashboard.listeners.http", prefix: true},
		{json: "listeners.https", key: "dashboard.listeners.https", prefix: true},
		{json: "default_username", key: "dashboard.default_username"}},
		fixed: mustJSON(`{"listeners": {"http": {"num_acceptors": 4, "backlog": 1024, "inet6": false,
			"ipv6_v6only": false, "proxy_header": false},
			"https": {"num_acceptors": 4, "backlog": 1024, "inet6": false, "ipv6_v6only": false, "proxy_header": false}},
			"token_expired_time": "60m", "cors": false, "swagger_support": true, "sso": {}}`),
		adjust: dashboardListenersShown},
	{name: "file_transfer", fixed: mustJSON(`{"enable": false, "init_timeout": "10s",
		"store_segment_timeout": "5m", "assemble_timeout": "5m",
		"storage": {"local": {"enable": true, "segments": {"root": "data/file_transfer/segments",
		"gc": {"interval": "1h", "maximum_segments_ttl": "24h", "minimum_segments_ttl": "5m"}},
		"exporter": {"local": {"enable": true, "root": "data/file_transfer/exports"}}}}}`)},
	{name: "flapping_detect", fixed: mustJSON(`{"enable": false, "window_time": "1m", "max_count": 15, "ban_time": "5m"}`)},
	{name: "force_shutdown", fixed: mustJSON(`{"enable": true, "max_mailbox_size": 1000, "max_heap_size": "32MB"}`)},
	{name: "force_gc", fixed: mustJSON(`{"enable": true, "count": 16000, "bytes": "16MB"}`)},
	{name: "listeners", maps: []mapping{{json: "", key: "listeners", prefix: true}}, fixed: map[string]any{}},
}

// globalZone is EMQX's zone view: {mqtt, flapping_detect, force_shutdown, force_gc}.
var globalZone = &rootSpec{name: "global_zone", sub: []string{"mqtt", "flapping_detect", "force_shutdown", "force_gc"}}

// findRoot returns a root by name (global_zone included).
func findRoot(name string) *rootSpec {
	if name == globalZone.name {
		return globalZone
	}
	for _, r := range configRoots {
		if r.name == name {
			return r
		}
	}
	return nil
}

// render builds the root's JSON object from the flattened configuration.
func (r *rootSpec) render(flat map[string]any) map[string]any {
	if r.sub != nil {
		out := map[string]any{}
		for _, name := range r.sub {
			out[name] = findRoot(name).render(flat)
		}
		return out
	}
	out := deepCopy(r.fixed).(map[string]any)
	for _, k := range sortedKeys(flat) {
		if p, ok := r.jsonPath(k); ok {
			setPath(out, p, flat[k])
		}
	}
	if r.adjust != nil {
		r.adjust(out)
	}
	return out
}

// jsonPath maps a Herald key to its path in the root.
func (r *rootSpec) jsonPath(key string) (string, bool) {
	for _, h := range r.hidden {
		if key == h {
			return "", false
		}
	}
	for _, m := range r.maps {
		if !m.prefix && key == m.key {
			return m.json, true
		}
		if rest, ok := strings.CutPrefix(key, m.key+"."); m.prefix && ok {
			return joinPath(m.json, rest), true
		}
	}
	return "", false
}

// keyOf maps a path in the root to a Herald key: exact mappings first,
// then prefix ones.
func (r *rootSpec) keyOf(path string) (string, bool) {
	for _, m := range r.maps {
		if !m.prefix && path == m.json {
			return m.key, true
		}
	}
	for _, m := range r.maps {
		if !m.prefix {
			continue
		}
		if m.json == "" {
			return m.key + "." + path, true
		}
		if rest, ok := strings.CutPrefix(path, m.json+"."); ok {
			return m.key + "." + rest, true
		}
	}
	return "", false
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// setPath stores v at a dotted path, creating objects.
func setPath(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}

// getPath returns the value at a dotted path.
func getPath(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, p := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// leaves flattens a JSON object to its leaf paths (arrays and scalars
// are leaves; an empty object is a leaf).
func leaves(prefix string, v any, out map[string]any) {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 && prefix != "" {
		out[prefix] = v
		return
	}
	for k, e := range m {
		leaves(joinPath(prefix, k), e, out)
	}
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
