package v5

import (
	"net/http"
	"sync"

	"github.com/swaggest/swgui/v5emb"
)

// DocsPath is where the Swagger UI page is served (outside /api/v5).
const DocsPath = "/api-docs"

func (a *API) docsRoutes() []route {
	doc := sync.OnceValues(a.OpenAPI)
	return []route{{method: http.MethodGet, path: "/openapi.json", tag: "Docs", summary: "The OpenAPI 3 document of this API",
		access: public, resp: &map[string]any{}, h: func(w http.ResponseWriter, r *http.Request) error {
			b, err := doc()
			if err != nil {
				return err
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(b)
			return nil
		}}}
}

// docsPageRoutes serve Swagger UI (embedded: works offline) at /api-docs/,
// reading /api/v5/openapi.json; /api-docs redirects there.
func (a *API) docsPageRoutes() []route {
	ui := v5emb.New("Herald API", Prefix+"/openapi.json", DocsPath+"/")
	serve := func(w http.ResponseWriter, r *http.Request) error { ui.ServeHTTP(w, r); return nil }
	redirect := func(w http.ResponseWriter, r *http.Request) error {
		http.Redirect(w, r, DocsPath+"/", http.StatusMovedPermanently)
		return nil
	}
	return []route{
		{method: http.MethodGet, path: DocsPath, access: public, h: redirect},
		{method: http.MethodGet, path: DocsPath + "/", access: public, h: serve},
	}
}
