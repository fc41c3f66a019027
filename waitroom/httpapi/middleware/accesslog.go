package middleware

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// Observation is what AccessLog knows about a finished request.
type Observation struct {
	Method string
	// Route is the route template ("/serving_num", "/v1/rooms/{id}") set
	// with SetRoute, or "unmatched": never the raw path, so that metric
	// labels stay bounded.
	Route    string
	Status   int
	Bytes    int64
	Duration time.Duration
}

type loggerKey struct{}

type routeKey struct{}

type routeHolder struct{ name string }

// AccessLog logs one line per request at the end of it and hands the same
// facts to observe (the metrics), when not nil. It also puts a logger that
// carries the request id and client IP into the request context (see
// LoggerFrom), so that every line logged while serving the request has them.
//
// The query string is never logged: the AWS API carries request ids, which
// are the credential for a token, in it.
func AccessLog(base *slog.Logger, observe func(Observation)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			logger := base.With("request_id", RequestIDFrom(r.Context()), "client_ip", ClientIP(r))
			route := &routeHolder{name: "unmatched"}
			ctx := context.WithValue(r.Context(), loggerKey{}, logger)
			ctx = context.WithValue(ctx, routeKey{}, route)
			rw, result := Recorded(w)
			next.ServeHTTP(rw, r.WithContext(ctx))
			status, size := result()
			o := Observation{Method: r.Method, Route: route.name, Status: status, Bytes: size, Duration: time.Since(start)}
			if observe != nil {
				observe(o)
			}
			logger.LogAttrs(r.Context(), levelFor(status), "request",
				slog.String("method", o.Method), slog.String("path", r.URL.Path), slog.String("route", o.Route),
				slog.Int("status", o.Status), slog.Int64("bytes", o.Bytes), slog.Duration("duration", o.Duration))
		})
	}
}

// levelFor keeps successful polls at debug level: at tens of thousands of
// polls a second an info line per request would drown everything else.
func levelFor(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelInfo
	default:
		return slog.LevelDebug
	}
}

// LoggerFrom returns the request-scoped logger AccessLog stored, or
// slog.Default() outside of it.
func LoggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// SetRoute records the route template that matched r, for the access log
// and the metrics. Routers call it once they know the route.
func SetRoute(r *http.Request, template string) {
	if h, ok := r.Context().Value(routeKey{}).(*routeHolder); ok {
		h.name = template
	}
}
