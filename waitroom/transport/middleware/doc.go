// Package middleware holds the http.Handler wrappers every waitroom listener
// shares: request ids, the access log, client-IP resolution behind trusted
// proxies, size limits, CORS, panic recovery and the per-client rate limit.
//
// Middlewares never format error bodies themselves: they hand an *Error to
// the ErrorWriter they were built with (web.Error), so that one package
// (waitroom/transport/web) decides how every error looks on the wire.
package middleware
