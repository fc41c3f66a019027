package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/mux"
)

// owns answers a table of fixed paths from its map; it must agree with the
// router's own matching for every path, with or without variables in the
// table.
func TestRouteTableOwnsAsTheRouterMatches(t *testing.T) {
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	fixed := (&API{}).newRouteTable()
	for _, p := range []string{"/serving_num", "/queue_num", "/assign_queue_num", "/healthz"} {
		fixed.add(http.MethodGet, p, ok)
	}
	fixed.add(http.MethodPost, "/assign_queue_num", ok)
	withVars := (&API{}).newRouteTable()
	withVars.add(http.MethodGet, "/serving_num", ok)
	withVars.add(http.MethodGet, "/v1/rooms/{id}", ok)
	if fixed.variable || !withVars.variable {
		t.Fatalf("variable: fixed table %v, table with {id} %v", fixed.variable, withVars.variable)
	}
	paths := []string{"/serving_num", "/serving_num/", "/SERVING_NUM", "/serving_num.json", "/queue_num", "/assign_queue_num",
		"/healthz", "/", "/login/abc", "/queue/demo/status", "/v1/rooms/demo", "/v1/rooms/", "/v1/rooms/demo/x", "/serving%5Fnum"}
	for _, table := range []*routeTable{fixed, withVars} {
		for _, p := range paths {
			for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
				req := httptest.NewRequest(method, p, nil)
				var m mux.RouteMatch
				want := table.router.Match(req, &m) && m.MatchErr == nil
				if got := table.owns(req, nil); got != want {
					t.Errorf("variable=%v %s %s: owns %v, router %v", table.variable, method, p, got, want)
				}
			}
		}
	}
}
