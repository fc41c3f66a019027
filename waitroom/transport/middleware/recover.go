package middleware

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
)

// Recover turns a panic in a handler into a 500 answer and an error log
// line with the stack, instead of a dropped connection. http.ErrAbortHandler
// is re-raised: it is the documented way to abort an answer.
func Recover(onError ErrorWriter) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				LoggerFrom(r.Context()).Error("handler panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				onError(w, r, fmt.Errorf("panic: %v", v))
			}()
			next.ServeHTTP(w, r)
		})
	}
}
