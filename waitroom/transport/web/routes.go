package web

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

// Route is one method on one path template ("/v1/rooms/{id}") that a
// transport serves. Each router lists its routes, so that a test can
// reach every one of them, and a route added later with it.
type Route struct {
	Method string
	Path   string
}

// MuxRoutes lists the routes of a gorilla/mux router: each route's methods
// (GET for a route that names none, such as a PathPrefix mount) on its
// path template, or on its prefix.
func MuxRoutes(r *mux.Router) []Route {
	var out []Route
	_ = r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		path, err := route.GetPathTemplate()
		if err != nil {
			return nil // a route matched by something other than its path
		}
		methods, err := route.GetMethods()
		if err != nil || len(methods) == 0 {
			methods = []string{http.MethodGet}
		}
		for _, m := range methods {
			out = append(out, Route{Method: m, Path: path})
		}
		return nil
	})
	return out
}

// PatternRoute reads a net/http ServeMux pattern ("GET /panel/{$}") as a
// Route; the {$} anchor is dropped.
func PatternRoute(pattern string) Route {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = http.MethodGet, pattern
	}
	return Route{Method: method, Path: strings.TrimSuffix(path, "{$}")}
}
