package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/waitroom-idp/waitroom/waitroom/transport/web"

	"github.com/gorilla/mux"

	"github.com/waitroom-idp/waitroom/waitroom/transport/middleware"
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
	router *mux.Router
	paths  map[string]map[string]http.Handler
	// variable: some path has a {variable}; owns then asks the router.
	variable bool
}

func (a *API) newRouteTable() *routeTable {
	r := mux.NewRouter()
	t := &routeTable{router: r, paths: map[string]map[string]http.Handler{}}
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		web.Error(w, r, notFound("no such path"))
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

// owns reports whether the request's path is one of the table's. Every
// request of a mounted handler (the OpenID provider, the room page's
// status poll) asks first, so a table of fixed paths answers from its map
// instead of trying one regular expression per path ("^/serving_num$" and
// the like). The path is already clean (mux redirects
// unclean paths before matching) and a fixed template matches exactly its
// own path, so both give the same answer.
func (t *routeTable) owns(req *http.Request, _ *mux.RouteMatch) bool {
	if !t.variable {
		_, ok := t.paths[req.URL.Path]
		return ok
	}
	var m mux.RouteMatch
	return t.router.Match(req, &m) && m.MatchErr == nil
}

func (t *routeTable) add(method, path string, h http.Handler) {
	methods, ok := t.paths[path]
	if !ok {
		t.variable = t.variable || strings.ContainsAny(path, "{}")
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
		web.Error(w, r, &web.Problem{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
			Message: r.Method + " is not allowed here; allowed: " + allowed(methods),
			Header:  http.Header{"Allow": {allowed(methods)}}})
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

// Routes lists every route of a listener's API (PublicListener or
// AdminListener), mounts aside.
func (a *API) Routes(listener string) []web.Route {
	t := a.public
	if listener == AdminListener {
		t = a.admin
	}
	var out []web.Route
	for path, methods := range t.paths {
		for m := range methods {
			out = append(out, web.Route{Method: m, Path: path})
		}
	}
	return out
}
