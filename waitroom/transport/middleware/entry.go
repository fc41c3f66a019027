package middleware

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"
)

// Observation is what Entry knows about a finished request.
type Observation struct {
	Method string
	// Route is the route template ("/serving_num", "/v1/rooms/{id}") set
	// with SetRoute, or "unmatched": never the raw path, so that metric
	// labels stay bounded.
	Route    string
	Status   int
	Bytes    int64
	Duration time.Duration
	// ErrorCode is the stable code of an error answer ("" otherwise).
	ErrorCode string
}

// Info is what the server knows about the request being served: its id,
// the client's address, the route that matched. One Info per request, kept
// in the context, so that the hot path copies the request only once.
type Info struct {
	ID     string
	Client netip.Addr
	Route  string
	// ErrorCode is set by the error writer when the answer is an error.
	ErrorCode string

	base   *slog.Logger
	logger *slog.Logger
}

// Logger returns a logger whose lines carry the request id and client
// address. It is built on first use: most requests never log.
func (i *Info) Logger() *slog.Logger {
	if i.logger == nil {
		i.logger = i.base.With("request_id", i.ID, "client_ip", i.clientIP())
	}
	return i.logger
}

func (i *Info) clientIP() string {
	if !i.Client.IsValid() {
		return ""
	}
	return i.Client.String()
}

type infoKey struct{}

// Entry is the first middleware of a listener. It gives the request an id
// (the caller's X-Request-Id when it is short and plain, so that a load
// balancer's id can be followed through; a fresh one otherwise) and echoes
// it, works out the client's address (see RealIP), and at the end logs one
// line and hands the same facts to observe (the metrics), when not nil.
//
// The query string is never logged: the AWS API carries request ids, which
// are the credential for a token, in it.
func Entry(base *slog.Logger, trusted TrustedProxies, observe func(Observation)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			info := &Info{ID: r.Header.Get(RequestIDHeader), Client: clientAddr(r, trusted), Route: "unmatched", base: base}
			if !plainID(info.ID) {
				info.ID = newRequestID()
			}
			w.Header().Set(RequestIDHeader, info.ID)
			rw, result := Recorded(w)
			next.ServeHTTP(rw, r.WithContext(context.WithValue(r.Context(), infoKey{}, info)))
			status, size := result()
			o := Observation{Method: r.Method, Route: info.Route, Status: status, Bytes: size, Duration: time.Since(start),
				ErrorCode: info.ErrorCode}
			if observe != nil {
				observe(o)
			}
			if level := levelFor(status); base.Enabled(r.Context(), level) {
				info.Logger().LogAttrs(r.Context(), level, "request",
					slog.String("method", o.Method), slog.String("path", r.URL.Path), slog.String("route", o.Route),
					slog.Int("status", o.Status), slog.Int64("bytes", o.Bytes), slog.Duration("duration", o.Duration))
			}
		})
	}
}

// levelFor keeps successful polls, refusals of a flood (429) and the 503s
// of a store outage (whose cause the error writer logs, throttled) at debug
// level: at tens of thousands of requests a second a line each would drown
// everything else.
func levelFor(status int) slog.Level {
	switch {
	case status == http.StatusServiceUnavailable:
		return slog.LevelDebug
	case status >= 500:
		return slog.LevelError
	case status >= 400 && status != http.StatusTooManyRequests:
		return slog.LevelInfo
	default:
		return slog.LevelDebug
	}
}

// InfoFrom returns the request's Info, nil outside of Entry.
func InfoFrom(ctx context.Context) *Info {
	i, _ := ctx.Value(infoKey{}).(*Info)
	return i
}

// LoggerFrom returns the request-scoped logger, or slog.Default() outside
// of Entry.
func LoggerFrom(ctx context.Context) *slog.Logger {
	if i := InfoFrom(ctx); i != nil {
		return i.Logger()
	}
	return slog.Default()
}

// SetRoute records the route template that matched r, for the access log
// and the metrics. Routers call it once they know the route.
func SetRoute(r *http.Request, template string) {
	if i := InfoFrom(r.Context()); i != nil {
		i.Route = template
	}
}

// ClientAddr returns the client address Entry worked out; outside of it,
// the connection's peer address.
func ClientAddr(r *http.Request) netip.Addr {
	if i := InfoFrom(r.Context()); i != nil {
		return i.Client
	}
	return remoteAddr(r)
}
