package middleware

import (
	"fmt"
	"net/http"
)

// Limits bounds what a request may make the server read: the body is cut
// off after maxBody bytes (the JSON decoder then reports it), and a query
// string longer than maxQuery bytes is refused with 414 before any handler
// runs. Header size is bounded by http.Server.MaxHeaderBytes, which Go
// answers with 431 itself.
func Limits(maxBody int64, maxQuery int, onError ErrorWriter) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if len(r.URL.RawQuery) > maxQuery || len(r.URL.Path) > maxQuery {
				onError(w, r, &Error{Status: http.StatusRequestURITooLong, Code: "uri_too_long",
					Message: fmt.Sprintf("path and query string are limited to %d bytes each", maxQuery)})
				return
			}
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(w, r.Body, maxBody)
			}
			next.ServeHTTP(w, r)
		})
	}
}
