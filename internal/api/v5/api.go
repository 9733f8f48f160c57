package v5

import (
	"log/slog"
	"net/http"
	"slices"

	"github.com/herald-mqtt/herald/internal/api"
	"github.com/herald-mqtt/herald/internal/service"
)

// Prefix is where the API is served.
const Prefix = "/api/v5"

// Options configure the API.
type Options struct {
	Service *service.Service
	Logger  *slog.Logger
}

// API is the /api/v5 face.
type API struct {
	svc *service.Service
	log *slog.Logger
	wr  *api.Writer
	mux *http.ServeMux
}

// New builds the API and its routes.
func New(opts Options) *API {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &API{svc: opts.Service, log: log.With("component", "api")}
	a.wr = &api.Writer{Log: a.log, Map: mapError}
	a.mux = http.NewServeMux()
	for _, rt := range a.routes() {
		a.mux.Handle(rt.method+" "+Prefix+rt.path, a.guard(rt))
	}
	a.extraRoutes(a.mux)
	return a
}

// Handler serves the API (and /status, /api-docs).
func (a *API) Handler() http.Handler { return a.mux }

// routes is the whole route table, one slice per tag.
func (a *API) routes() []route {
	return slices.Concat(
		a.statusRoutes(),
		a.nodeRoutes(),
		a.metricsRoutes(),
		a.prometheusRoutes(),
		a.clientRoutes(),
		a.subscriptionRoutes(),
		a.topicRoutes(),
		a.publishRoutes(),
		a.retainerRoutes(),
		a.bannedRoutes(),
		a.alarmRoutes(),
		a.listenerRoutes(),
		a.configRoutes(),
		a.apiKeyRoutes(),
		a.dashboardRoutes(),
		a.docsRoutes(),
	)
}

// extraRoutes registers what lives outside /api/v5: the unprefixed
// /status and the API docs page.
func (a *API) extraRoutes(mux *http.ServeMux) {
	for _, rt := range a.unprefixedRoutes() {
		mux.Handle(rt.method+" "+rt.path, a.guard(rt))
	}
}
