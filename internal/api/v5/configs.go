package v5

import (
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/herald-mqtt/herald/internal/api"
	"github.com/herald-mqtt/herald/internal/service"
	"github.com/swaggest/jsonschema-go"
)

// ConfigRoot is a configuration root as JSON (EMQX's keys and value
// formats: durations "30s", sizes "1MB", "infinity", "disabled").
type ConfigRoot map[string]any

// ConfigsQuery is GET /configs' query.
type ConfigsQuery struct {
	Key  string `query:"key" description:"Config root to return (mqtt, broker, retainer, sys_topics, sysmon, alarm, log, dashboard, file_transfer, flapping_detect, force_shutdown, force_gc, listeners); all when absent"`
	Node string `query:"node" description:"Node name"`
}

// ConfigsPutQuery is PUT /configs' query.
type ConfigsPutQuery struct {
	Mode string `query:"mode" enum:"replace,merge" default:"merge" description:"merge: change the keys given; replace: reset each root given to its defaults first"`
}

// ConfigResetQuery is POST /configs_reset/{rootname}'s query.
type ConfigResetQuery struct {
	ConfPath string `query:"conf_path" description:"Dotted path inside the root to reset (all of it when absent)"`
}

// configRootPaths are the roots with their own GET/PUT /configs/{root},
// with the summary of the GET.
var configRootPaths = []struct {
	name, get, put string
	example        obj // a PUT body
}{
	{"sys_topics", "Get the sub-configurations under *sys_topics*", "Update the sub-configurations under *sys_topics*",
		obj{"sys_msg_interval": "1m"}},
	{"sysmon", "Get the sub-configurations under *sysmon*", "Update the sub-configurations under *sysmon*", obj{}},
	{"global_zone", "Get the MQTT-related configuration", "Update MQTT-related configuration",
		obj{"mqtt": obj{"max_packet_size": "1MB"}}},
	{"alarm", "Get the sub-configurations under *alarm*", "Update the sub-configurations under *alarm*", obj{}},
	{"file_transfer", "Get the sub-configurations under *file_transfer*", "Update the sub-configurations under *file_transfer*", obj{}},
	{"dashboard", "Get the sub-configurations under *dashboard*", "Update the sub-configurations under *dashboard*", obj{}},
	{"broker", "Get the sub-configurations under *broker*", "Update the sub-configurations under *broker*",
		obj{"shared_subscription_strategy": "round_robin"}},
	{"log", "Get the sub-configurations under *log*", "Update the sub-configurations under *log*",
		obj{"console": obj{"level": "info"}}},
}

func (a *API) configRoutes() []route {
	const tag = "Configs"
	var rs []route
	for _, r := range configRootPaths {
		rs = append(rs,
			route{method: http.MethodGet, path: "/configs/" + r.name, tag: tag, summary: r.get,
				resp: &ConfigRoot{}, h: a.getConfigRoot(r.name)},
			route{method: http.MethodPut, path: "/configs/" + r.name, tag: tag, summary: r.put,
				body: &ConfigRoot{}, resp: &ConfigRoot{}, errs: map[int][]string{400: {"UPDATE_FAILED"}}, example: example{body: r.example}, h: a.putConfigRoot(r.name)})
	}
	return append(rs,
		route{method: http.MethodPost, path: "/configs_reset/{rootname}", tag: tag,
			summary: "Reset the config entry specified by the query string parameter `conf_path`.",
			query:   &ConfigResetQuery{}, errs: map[int][]string{400: {"NO_DEFAULT_VALUE", "REST_FAILED"}},
			example: example{path: kv("rootname", "sys_topics"), query: kv("conf_path", "sys_msg_interval")}, h: a.resetConfigRoot},
		route{method: http.MethodGet, path: "/configs", tag: tag,
			summary: "Get all the configurations of the specified keys, including hot and non-hot updatable items.",
			query:   &ConfigsQuery{}, resp: &ConfigRoot{}, errs: map[int][]string{400: {"INVALID_ACCEPT"}, 404: {"NOT_FOUND"}},
			example: example{query: kv("key", "sys_topics", "node", exampleNode)}, h: a.getConfigs},
		route{method: http.MethodPut, path: "/configs", tag: tag,
			summary: "Update the configurations of the specified keys.",
			query:   &ConfigsPutQuery{}, body: new(string), resp: &ConfigRoot{}, errs: map[int][]string{400: {"UPDATE_FAILED"}},
			example: example{query: kv("mode", "merge"), body: "sys_topics {\n  sys_msg_interval = 1m\n}\n"}, h: a.putConfigs},
	)
}

func (a *API) getConfigRoot(name string) api.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		root, err := a.svc.ConfigRoot(r.Context(), name)
		if err != nil {
			return err
		}
		return api.WriteJSON(w, http.StatusOK, root)
	}
}

func (a *API) putConfigRoot(name string) api.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var body ConfigRoot
		if err := api.DecodeJSON(w, r, &body); err != nil {
			return err
		}
		if body == nil {
			return api.BadRequest("the body must be a JSON object")
		}
		root, err := a.svc.UpdateConfigRoot(r.Context(), name, body)
		if err != nil {
			return err
		}
		return api.WriteJSON(w, http.StatusOK, root)
	}
}

func (a *API) resetConfigRoot(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.ResetConfigRoot(r.Context(), pathParam(r, "rootname"), r.URL.Query().Get("conf_path")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (a *API) getConfigs(w http.ResponseWriter, r *http.Request) error {
	text, err := wantsText(r.Header.Get("Accept"))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	tree, err := a.svc.Configs(r.Context(), q.Get("key"), q.Get("node"))
	if err != nil {
		return err
	}
	if !text {
		return api.WriteJSON(w, http.StatusOK, tree)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, service.RenderHOCON(tree))
	return nil
}

// wantsText reads Accept: JSON unless text/plain comes first; neither is
// 400 INVALID_ACCEPT.
func wantsText(accept string) (bool, error) {
	if strings.TrimSpace(accept) == "" {
		return false, nil
	}
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "application/json", "*/*", "application/*":
			return false, nil
		case "text/plain", "text/*":
			return true, nil
		}
	}
	return false, api.Errorf(http.StatusBadRequest, "INVALID_ACCEPT", "Accept must be application/json or text/plain, got %q", accept)
}

func (a *API) putConfigs(w http.ResponseWriter, r *http.Request) error {
	mode := r.URL.Query().Get("mode")
	if mode != "" && mode != "merge" && mode != "replace" {
		return api.BadRequest("mode: %q is not merge or replace", mode)
	}
	tree, err := readConfigBody(w, r)
	if err != nil {
		return err
	}
	out, err := a.svc.UpdateConfigs(r.Context(), tree, mode == "replace")
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, out)
}

// ConfigsBody is PUT /configs' JSON body: config roots by name.
type ConfigsBody map[string]any

// JSONSchema lists the roots (global_zone holds mqtt and the other zone
// roots, as EMQX).
func (ConfigsBody) JSONSchema() (jsonschema.Schema, error) {
	props := map[string]jsonschema.SchemaOrBool{}
	for _, name := range append(service.ConfigRootNames(), "global_zone") {
		var root jsonschema.Schema
		root.AddType(jsonschema.Object)
		props[name] = root.ToSchemaOrBool()
	}
	var s jsonschema.Schema
	s.AddType(jsonschema.Object)
	s.WithProperties(props)
	s.WithAdditionalProperties(jsonschema.SchemaOrBool{TypeBoolean: new(bool)})
	s.WithDescription("config roots by name")
	return s, nil
}

// readConfigBody reads a HOCON (text/plain) or JSON body into a tree.
func readConfigBody(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" {
		var tree ConfigsBody
		if err := api.DecodeJSON(w, r, &tree); err != nil {
			return nil, err
		}
		return tree, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, api.MaxBodyBytes))
	if err != nil {
		return nil, api.BadRequest("read body: %v", err)
	}
	tree, err := service.ParseHOCON(string(b))
	if err != nil {
		return nil, api.Errorf(http.StatusBadRequest, "UPDATE_FAILED", "%v", err)
	}
	return tree, nil
}
