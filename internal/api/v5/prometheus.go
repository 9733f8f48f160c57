package v5

import (
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/herald-mqtt/herald/internal/api"
	"github.com/herald-mqtt/herald/internal/service"
)

// PrometheusQuery is the query of the /prometheus/* scrape endpoints.
type PrometheusQuery struct {
	Mode string `query:"mode" enum:"node,all_nodes_aggregated,all_nodes_unaggregated" default:"node" description:"node: this node; all_nodes_aggregated: summed over the cluster; all_nodes_unaggregated: every node, labelled node=\"...\""`
}

// PrometheusJSON is a scrape as JSON (Accept: application/json): metric
// name -> value, or with mode=all_nodes_unaggregated metric name -> a list
// of {node, value}.
type PrometheusJSON map[string]any

// PrometheusConfigResponse is GET/PUT /prometheus's answer (EMQX's
// recommend_setting).
type PrometheusConfigResponse struct {
	EnableBasicAuth bool                  `json:"enable_basic_auth"`
	PushGateway     PrometheusPushGateway `json:"push_gateway"`
	Collectors      map[string]string     `json:"collectors"`
}

// PrometheusPushGateway is prometheus.push_gateway. Herald has no push
// gateway client: enable=true is refused with 400.
type PrometheusPushGateway struct {
	Enable   bool              `json:"enable"`
	URL      string            `json:"url"`
	Interval string            `json:"interval"`
	Headers  map[string]string `json:"headers"`
	JobName  string            `json:"job_name"`
}

// PrometheusConfigRequest is PUT /prometheus's body: EMQX's
// recommend_setting, or its legacy flat form (enable, push_gateway_server,
// ...), whose enable=true asks for the push gateway.
type PrometheusConfigRequest struct {
	EnableBasicAuth *bool                        `json:"enable_basic_auth,omitempty"`
	PushGateway     *PrometheusPushGatewayUpdate `json:"push_gateway,omitempty"`
	Collectors      map[string]DisabledOnly      `json:"collectors,omitempty" description:"only \"disabled\" is accepted"`
	// Legacy: enable is the push gateway switch.
	Enable            *FalseOnly `json:"enable,omitempty" description:"legacy form: enable the push gateway (only false: Herald has no push gateway client)"`
	PushGatewayServer string     `json:"push_gateway_server,omitempty" description:"legacy form; ignored"`
}

// PrometheusPushGatewayUpdate is push_gateway in a PUT; only enable is
// looked at (false), the other fields are accepted and ignored.
type PrometheusPushGatewayUpdate struct {
	Enable   *FalseOnly        `json:"enable,omitempty" description:"only false: Herald has no push gateway client"`
	URL      string            `json:"url,omitempty"`
	Interval string            `json:"interval,omitempty"`
	Headers  map[string]string `json:"headers,omitempty"`
	JobName  string            `json:"job_name,omitempty"`
}

func (a *API) prometheusRoutes() []route {
	const tag = "Monitor"
	scrape := func(path, summary string, h func(w http.ResponseWriter, r *http.Request) error) route {
		return route{method: http.MethodGet, path: path, tag: tag, summary: summary, access: public,
			query: &PrometheusQuery{}, resp: &PrometheusJSON{}, contentType: "text/plain", errs: map[int][]string{401: codes401}, example: example{query: kv("mode", "node")}, h: a.promAuth(h)}
	}
	return []route{
		{method: http.MethodGet, path: "/prometheus", tag: tag, summary: "Get Prometheus config info",
			resp: &PrometheusConfigResponse{}, h: a.getPrometheusConfig},
		{method: http.MethodPut, path: "/prometheus", tag: tag, summary: "Update Prometheus config",
			body: &PrometheusConfigRequest{}, resp: &PrometheusConfigResponse{}, example: example{body: obj{"enable_basic_auth": false, "collectors": obj{"vm_dist": "disabled"}}}, h: a.putPrometheusConfig},
		scrape("/prometheus/stats", "Get Prometheus Metrics", a.prometheusStats),
		scrape("/prometheus/auth", "Get Prometheus Metrics for AuthN, AuthZ and Banned (none in Herald yet)", a.prometheusEmpty),
		scrape("/prometheus/data_integration", "Get Prometheus Metrics for Data Integration (none in Herald)", a.prometheusEmpty),
	}
}

// promAuth asks for credentials when prometheus.enable_basic_auth is set.
func (a *API) promAuth(h api.HandlerFunc) api.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if a.svc.PrometheusAuthRequired() {
			if _, err := api.Authenticate(r, a.svc); err != nil {
				return err
			}
		}
		return h(w, r)
	}
}

func (a *API) getPrometheusConfig(w http.ResponseWriter, r *http.Request) error {
	return api.WriteJSON(w, http.StatusOK, prometheusConfig(a.svc.PrometheusConfig(r.Context())))
}

func (a *API) putPrometheusConfig(w http.ResponseWriter, r *http.Request) error {
	var req PrometheusConfigRequest
	if err := api.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	u := service.PrometheusUpdate{EnableBasicAuth: req.EnableBasicAuth, PushGatewayEnable: (*bool)(req.Enable)}
	if req.Collectors != nil {
		u.Collectors = make(map[string]string, len(req.Collectors))
		for k, v := range req.Collectors {
			u.Collectors[k] = string(v)
		}
	}
	if req.PushGateway != nil && req.PushGateway.Enable != nil {
		u.PushGatewayEnable = (*bool)(req.PushGateway.Enable)
	}
	c, err := a.svc.UpdatePrometheusConfig(r.Context(), u)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, prometheusConfig(c))
}

func prometheusConfig(c service.PrometheusConfig) PrometheusConfigResponse {
	pg := c.PushGateway
	return PrometheusConfigResponse{EnableBasicAuth: c.EnableBasicAuth, Collectors: c.Collectors,
		PushGateway: PrometheusPushGateway{Enable: pg.Enable, URL: pg.URL, Interval: pg.Interval, Headers: pg.Headers, JobName: pg.JobName}}
}

func (a *API) prometheusStats(w http.ResponseWriter, r *http.Request) error {
	mode := r.URL.Query().Get("mode")
	sets, err := a.svc.PrometheusStats(r.Context(), mode)
	if err != nil {
		return err
	}
	if promWantsJSON(r) {
		return api.WriteJSON(w, http.StatusOK, promJSON(sets, mode == service.PromModeUnaggregated))
	}
	return writeNonJSON(w, http.StatusOK, "text/plain; version=0.0.4", promText(sets, mode == service.PromModeUnaggregated))
}

// prometheusEmpty serves the scrapes Herald has no metrics for yet: an
// empty exposition (or {}).
func (a *API) prometheusEmpty(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.svc.PrometheusStats(r.Context(), r.URL.Query().Get("mode")); err != nil {
		return err // the mode check
	}
	if promWantsJSON(r) {
		return api.WriteJSON(w, http.StatusOK, PrometheusJSON{})
	}
	return writeNonJSON(w, http.StatusOK, "text/plain; version=0.0.4", "")
}

// promWantsJSON: EMQX answers JSON when the Accept header asks for
// application/json, the text exposition otherwise.
func promWantsJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "application/json" {
			return true
		}
	}
	return false
}

// promName is EMQX's exporter name of a metric: emqx_ and the dotted name
// with underscores ("messages.received" -> emqx_messages_received).
func promName(name string) string {
	return "emqx_" + strings.NewReplacer(".", "_", "-", "_").Replace(name)
}

// promFamily is one metric name with its type and one value per set.
type promFamily struct {
	name, typ string
	values    []string // parallel to the sets
}

// promFamilies lists the counters then the gauges of sets, sorted by name.
func promFamilies(sets []service.PromSet) []promFamily {
	var out []promFamily
	if len(sets) == 0 {
		return out
	}
	for _, k := range promSortedKeys(sets[0].Counters) {
		f := promFamily{name: promName(k), typ: "counter"}
		for _, s := range sets {
			f.values = append(f.values, strconv.FormatUint(s.Counters[k], 10))
		}
		out = append(out, f)
	}
	for _, k := range promSortedKeys(sets[0].Gauges) {
		f := promFamily{name: promName(k), typ: "gauge"}
		for _, s := range sets {
			f.values = append(f.values, strconv.FormatInt(s.Gauges[k], 10))
		}
		out = append(out, f)
	}
	return out
}

// promText renders the text exposition format 0.0.4; labelled adds
// node="..." to every sample (all_nodes_unaggregated).
func promText(sets []service.PromSet, labelled bool) string {
	var b strings.Builder
	for _, f := range promFamilies(sets) {
		b.WriteString("# TYPE " + f.name + " " + f.typ + "\n")
		for i, v := range f.values {
			b.WriteString(f.name)
			if labelled {
				b.WriteString(`{node="` + promEscape(sets[i].Node) + `"}`)
			}
			b.WriteString(" " + v + "\n")
		}
	}
	return b.String()
}

// promEscape escapes a label value.
func promEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// promJSON is the JSON form of a scrape.
func promJSON(sets []service.PromSet, labelled bool) PrometheusJSON {
	out := PrometheusJSON{}
	for _, f := range promFamilies(sets) {
		if !labelled {
			n, _ := strconv.ParseInt(f.values[0], 10, 64)
			out[f.name] = n
			continue
		}
		per := make([]map[string]any, 0, len(f.values))
		for i, v := range f.values {
			n, _ := strconv.ParseInt(v, 10, 64)
			per = append(per, map[string]any{"node": sets[i].Node, "value": n})
		}
		out[f.name] = per
	}
	return out
}

func promSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
