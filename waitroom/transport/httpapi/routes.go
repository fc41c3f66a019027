package httpapi

import (
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/gorilla/mux"

	"github.com/waitroom-idp/waitroom/waitroom/transport/httpapi/middleware"
)

// Endpoint is one method on one route template.
type Endpoint struct {
	Method string
	Path   string
}

// routeTable registers each path once on the router and dispatches on the
// method itself. (Registering one mux route per method would let a later
// catch-all mount, such as the OpenID provider at "/", swallow what should
// be a 405.)
type routeTable struct {
	router  *mux.Router
	onError middleware.ErrorWriter
	paths   map[string]map[string]http.Handler
}

func (a *API) newRouteTable() *routeTable {
	r := mux.NewRouter()
	t := &routeTable{router: r, onError: a.writeError, paths: map[string]map[string]http.Handler{}}
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.writeError(w, r, &apiError{status: http.StatusNotFound, text: "not_found", code: "not_found", message: "no such path"})
	})
	r.Use(labelRoute)
	return t
}

// labelRoute names the route of handlers mounted on the router by others
// (a PathPrefix mount is labelled with its prefix), so that their metrics
// are not all "unmatched".
func labelRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if route := mux.CurrentRoute(r); route != nil {
			if tmpl, err := route.GetPathTemplate(); err == nil {
				middleware.SetRoute(r, tmpl)
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (t *routeTable) add(method, path string, h http.Handler) {
	methods, ok := t.paths[path]
	if !ok {
		methods = map[string]http.Handler{}
		t.paths[path] = methods
		t.router.Handle(path, t.dispatch(path, methods))
	}
	methods[method] = h
}

// dispatch picks the handler of the request's method; HEAD is served by
// GET (net/http drops the body).
func (t *routeTable) dispatch(path string, methods map[string]http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		middleware.SetRoute(r, path)
		method := r.Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		if h, ok := methods[method]; ok {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Allow", allowed(methods))
		t.onError(w, r, &apiError{status: http.StatusMethodNotAllowed, text: "method_not_allowed", code: "method_not_allowed",
			message: r.Method + " is not allowed here; allowed: " + allowed(methods)})
	})
}

func allowed(methods map[string]http.Handler) string {
	var names []string
	for m := range methods {
		names = append(names, m)
		if m == http.MethodGet {
			names = append(names, http.MethodHead)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func (t *routeTable) endpoints() []Endpoint {
	var out []Endpoint
	for path, methods := range t.paths {
		for m := range methods {
			out = append(out, Endpoint{Method: m, Path: path})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}
