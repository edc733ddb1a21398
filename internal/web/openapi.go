package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/perk-platform/perk/docs"
	"github.com/perk-platform/perk/internal/auth"
)

// openAPIRoute serves docs/openapi.yaml. It needs no key: the document is
// what an integrator reads before they have one.
const openAPIRoute = "GET /v1/openapi.yaml"

// Route is an API route as Handler registers it: the ServeMux pattern and
// the permission a key needs (empty for a route that needs no key).
type Route struct {
	Pattern    string
	Permission auth.Permission
}

// APIRoutes lists the routes under /v1 that the last call of Handler
// registered, in registration order, so a test can hold the OpenAPI
// document to them: a route cannot land undocumented, nor an operation
// outlive its route.
func (s *Server) APIRoutes() []Route {
	var out []Route
	for _, r := range s.routes {
		if _, path, _ := strings.Cut(r.Pattern, " "); strings.HasPrefix(path, "/v1/") {
			out = append(out, r)
		}
	}
	return out
}

// handleV1 registers a /v1 route that authenticates in its own way (not
// through api and authorize), listing it for APIRoutes all the same; perm
// is the permission its handler checks, empty if it needs no key.
func (s *Server) handleV1(mux *http.ServeMux, pattern string, perm auth.Permission, h http.Handler) {
	s.routes = append(s.routes, Route{Pattern: pattern, Permission: perm})
	mux.Handle(pattern, h)
}

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Content-Length", strconv.Itoa(len(docs.OpenAPI)))
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(docs.OpenAPI)
}
