package demo

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// onBaseHost sends a browser that opened the demo on another loopback
// name of this machine (127.0.0.1 or [::1] for localhost, or the reverse)
// to the BaseURL's host first: the login-state cookie is set on the host
// the browser used, and the provider sends the browser back to BaseURL's,
// so a login started on the other name could never finish. Only loopback
// names are redirected: behind a proxy that rewrites Host, redirecting
// could loop.
func (d *RP) onBaseHost(next http.Handler) http.Handler {
	base, err := url.Parse(d.cfg.BaseURL)
	if err != nil || !loopback(base.Hostname()) {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Host, base.Host) || !loopback(hostname(r.Host)) {
			next.ServeHTTP(w, r)
			return
		}
		to := d.cfg.BaseURL + r.URL.Path
		if r.URL.RawQuery != "" {
			to += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, to, http.StatusFound)
	})
}

func hostname(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
