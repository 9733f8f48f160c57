package v5

import (
	"fmt"
	"net/http"

	"github.com/herald-mqtt/herald/internal/api"
)

// StatusQuery is GET /status's query.
type StatusQuery struct {
	Format string `query:"format" enum:"text,json" default:"text" description:"text (default) or json"`
}

// StatusResponse is GET /status?format=json's answer.
type StatusResponse struct {
	NodeName     string `json:"node_name"`
	RelVsn       string `json:"rel_vsn"`
	BrokerStatus string `json:"broker_status" enum:"started,stopped"`
	AppStatus    string `json:"app_status" enum:"running,not_running"`
}

func (a *API) statusRoutes() []route { return []route{a.statusRoute()} }

// unprefixedRoutes are served outside /api/v5 (their path is the full
// path): the bare /status, an alias of /api/v5/status, and the docs page.
func (a *API) unprefixedRoutes() []route {
	return append([]route{a.statusRoute()}, a.docsPageRoutes()...)
}

// statusRoute is GET /status.
func (a *API) statusRoute() route {
	return route{method: http.MethodGet, path: "/status", tag: "Status", summary: "Serves as a health check for the node",
		access: public, query: &StatusQuery{}, resp: &StatusResponse{}, contentType: "text/plain", also: map[int]any{http.StatusServiceUnavailable: &StatusResponse{}}, example: example{query: kv("format", "json")}, h: a.status}
}

// status answers 200 when the node is running, 503 otherwise, as text
// ("Node herald@127.0.0.1 is started\nherald is running") or JSON.
func (a *API) status(w http.ResponseWriter, r *http.Request) error {
	format := r.URL.Query().Get("format")
	if format != "" && format != "text" && format != "json" {
		return api.BadRequest("format: %q is not text or json", format)
	}
	st := a.svc.Status(r.Context())
	code := http.StatusOK
	if !st.Running {
		code = http.StatusServiceUnavailable
	}
	if format == "json" {
		return api.WriteJSON(w, code, StatusResponse{NodeName: st.NodeName, RelVsn: st.RelVsn,
			BrokerStatus: st.BrokerStatus, AppStatus: st.AppStatus})
	}
	return writeNonJSON(w, code, "text/plain", fmt.Sprintf("Node %s is %s\nherald is %s", st.NodeName, st.BrokerStatus, st.AppStatus))
}

// writeNonJSON writes a non-JSON body.
func writeNonJSON(w http.ResponseWriter, status int, contentType, body string) error {
	w.Header().Set("Content-Type", contentType+"; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
	return nil
}
