package verify

import (
	"context"
	"net/http"
	"strings"
)

// CookieName is the name of the gate's admission cookie for a room.
func CookieName(room string) string { return "waitroom_" + room }

// TokenFrom returns the admission a request carries: the room's gate
// cookie, else an "Authorization: Bearer" AWS-style access token.
func TokenFrom(r *http.Request, room string) string {
	if c, err := r.Cookie(CookieName(room)); err == nil && c.Value != "" {
		return c.Value
	}
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return ""
}

type claimsKey struct{}

// FromContext returns the claims Middleware verified for the request.
func FromContext(ctx context.Context) (Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(Claims)
	return c, ok
}

// Middleware serves next to requests with a valid admission (its claims
// in the request's context, see FromContext) and denied to the others
// (the room page, say, or a 503). A nil denied answers 403.
func (v *Verifier) Middleware(next, denied http.Handler) http.Handler {
	if denied == nil {
		denied = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "no admission to the waiting room", http.StatusForbidden)
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := TokenFrom(r, v.Room)
		if token == "" {
			denied.ServeHTTP(w, r)
			return
		}
		c, err := v.Verify(r.Context(), token)
		if err != nil {
			denied.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, c)))
	})
}
