package middleware

import (
	"net/http"
	"slices"
	"strings"
)

// CORS lets browser pages on the listed origins call the API. "*" allows
// any origin. No credentials are ever allowed: the public API needs none, so
// a cross-site page can never act with a visitor's cookies through it.
//
// A preflight from an allowed origin is answered here with 204; anything
// else goes through unchanged (a request from an origin not listed simply
// gets no CORS headers, and the browser keeps the answer from the page).
func CORS(origins []string) func(http.Handler) http.Handler {
	anyOrigin := slices.Contains(origins, "*")
	allowed := func(o string) bool { return o != "" && (anyOrigin || slices.Contains(origins, o)) }
	return func(next http.Handler) http.Handler {
		if len(origins) == 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			w.Header().Add("Vary", "Origin")
			if !allowed(origin) {
				next.ServeHTTP(w, r)
				return
			}
			h := w.Header()
			if anyOrigin {
				h.Set("Access-Control-Allow-Origin", "*")
			} else {
				h.Set("Access-Control-Allow-Origin", origin)
			}
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", "GET, POST")
				// Authorization: the token endpoint (client_secret_basic)
				// and userinfo (a bearer token) are called from pages too.
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id, Idempotency-Key")
				h.Set("Access-Control-Max-Age", "600")
				h.Set("Cache-Control", "no-store")
				w.WriteHeader(http.StatusNoContent)
				return
			}
			h.Set("Access-Control-Expose-Headers", strings.Join([]string{"Retry-After", RequestIDHeader}, ", "))
			next.ServeHTTP(w, r)
		})
	}
}
