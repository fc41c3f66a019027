package middleware

import "net/http"

// Content-Security-Policy of each listener. Neither allows an inline
// script, eval, a plugin, a <base> or being framed (clickjacking of the
// room's buttons and the control panel's levers).
//
//   - PublicCSP, for the room page, error pages, the demo and the
//     form_post answer: a room's logo may be on any https host; the
//     room's brand colours are an inline style attribute (validated hex
//     colours only), hence style-src-attr. It has no form-action: a form
//     post (form_post, rejoin) may end in a redirect to the client's
//     redirect URI on another origin, which form-action would block.
//   - AdminCSP, for the control panel: its own assets only, and forms
//     that post to itself.
const (
	PublicCSP = "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; " +
		"img-src 'self' https: data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
	AdminCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
		"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)

// ReferrerPolicy keeps every URL of waitroom out of the Referer header sent
// to another origin: room pages carry auth-request ids, callbacks carry
// codes, the AWS API carries request ids in the query. same-origin rather
// than no-referrer, because under no-referrer browsers send "Origin: null"
// with a page's own form posts, which the control panel's cross-site check
// must then refuse.
const ReferrerPolicy = "same-origin"

// HSTS is sent by a listener whose public URL is https. Two years, as
// browsers' preload lists expect of a settled https site. Without
// includeSubDomains: waitroom speaks for its own host only, and an issuer
// such as https://example.com/queue must not decide for every other name
// under example.com. Without preload, for the same reason: preloading is
// the domain owner's choice.
const HSTS = "max-age=63072000"

// Security sets the security headers of a listener on every answer, JSON,
// redirects and errors included, before any handler runs (a handler may
// not drop them, and a panic's 500 carries them too). The values are
// shared slices: this runs on every poll.
func Security(csp string, hsts bool) func(http.Handler) http.Handler {
	values := map[string][]string{
		"Content-Security-Policy": {csp},
		"X-Content-Type-Options":  {"nosniff"},
		// For browsers older than frame-ancestors.
		"X-Frame-Options": {"DENY"},
		"Referrer-Policy": {ReferrerPolicy},
	}
	if hsts {
		values["Strict-Transport-Security"] = []string{HSTS}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			for k, v := range values {
				h[k] = v
			}
			next.ServeHTTP(w, r)
		})
	}
}
