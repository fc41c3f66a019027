package gate

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/transport/gate/verify"
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// flavor is how a proxy wants to hear "not admitted".
type flavor int

const (
	// redirectFlavor (Traefik, Caddy): the proxy passes a non-2xx answer
	// to the client as it is: 302 to the room page, or 503.
	redirectFlavor flavor = iota
	// envoyFlavor: Envoy's HTTP ext_authz passes a denial (302) to the
	// client, but takes a 5xx for a failure of the authorization service
	// (403, headers dropped), so "busy" is 429 Too Many Requests with
	// Retry-After. Envoy appends the original path to the check path.
	envoyFlavor
	// nginxFlavor: auth_request only understands 2xx, 401 and 403, so the
	// room page is 401 with X-Waitroom-Location and "busy" is 403 with
	// X-Waitroom-Retry-After; the nginx configuration turns them into the
	// 302 and the 503 (error_page).
	nginxFlavor
)

// Headers of the gate's answers.
const (
	HeaderRoom       = "X-Waitroom-Room"
	HeaderPosition   = "X-Waitroom-Position"
	HeaderAdmittedAt = "X-Waitroom-Admitted-At"
	HeaderVisitor    = "X-Waitroom-Visitor"
	HeaderLocation   = "X-Waitroom-Location"
	HeaderRetryAfter = "X-Waitroom-Retry-After"
)

// original is the request the proxy asks about.
type original struct {
	method, scheme, host string
	uri                  string // path and query, as the client sent them
	path                 string // decoded path, for the rules
}

// URL is the address the visitor asked for.
func (o original) URL() string { return o.scheme + "://" + o.host + o.uri }

// originalRequest reads the protected request from what the proxy sent:
// X-Forwarded-Method/Proto/Host/Uri (Traefik, Caddy, and the nginx guide's
// configuration), else X-Original-URI (nginx's usual name), else the path
// Envoy appends to the check path, with the request's own Host. (The
// callback and logout need only the scheme and host: a proxy that rewrites
// /.waitroom/... to the gate sends X-Forwarded-Host and -Proto.)
func originalRequest(r *http.Request) (original, bool) {
	return forwardedRequest(r, "")
}

// siteRequest is a request the proxy sent on from the site's host to the
// gate's callback or logout: the URI may be the gate's own.
func siteRequest(r *http.Request) (original, bool) {
	return forwardedRequest(r, r.URL.RequestURI())
}

func forwardedRequest(r *http.Request, ownURI string) (original, bool) {
	h := r.Header
	o := original{
		method: first(h.Get("X-Forwarded-Method"), h.Get("X-Original-Method"), r.Method),
		scheme: strings.ToLower(first(h.Get("X-Forwarded-Proto"), "http")),
		host:   first(h.Get("X-Forwarded-Host"), r.Host),
		uri:    first(h.Get("X-Forwarded-Uri"), h.Get("X-Original-URI"), envoyURI(r), ownURI),
	}
	if o.scheme != "http" && o.scheme != "https" || o.host == "" || !strings.HasPrefix(o.uri, "/") || strings.HasPrefix(o.uri, "//") {
		return o, false
	}
	u, err := url.ParseRequestURI(o.uri)
	if err != nil {
		return o, false
	}
	o.path = u.Path
	return o, true
}

// envoyURI is what follows /ext_authz in the path (Envoy appends the
// original request's path, query included, to the configured path
// prefix).
func envoyURI(r *http.Request) string {
	_, rest, ok := strings.Cut(r.URL.EscapedPath(), "/ext_authz/")
	if !ok {
		return ""
	}
	uri := "/" + rest
	if r.URL.RawQuery != "" {
		uri += "?" + r.URL.RawQuery
	}
	return uri
}

func first(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// check answers a proxy's question about one request. An admitted visitor
// costs the room's settings from the in-process cache and a verified-token
// cache hit: no store read.
func (g *Gate) check(fl flavor) web.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		room, err := g.room(r)
		if err != nil {
			return err
		}
		o, ok := originalRequest(r)
		if !ok {
			return web.Invalid("the proxy did not say which request it asks about (X-Forwarded-Proto, -Host and -Uri)")
		}
		rules := room.Gate
		if !waitroom.MatchHost(rules.Hosts, o.host) {
			return &web.Problem{Status: http.StatusForbidden, Code: "host_not_protected",
				Message: "the room's gate does not protect this host"}
		}
		w.Header().Set(HeaderRoom, room.ID)
		if !needsAdmission(rules, o.path) {
			// Empty values: a proxy that copies these headers to the site
			// then overwrites any a client sent itself.
			g.admittedHeaders(w, verify.Claims{})
			return pass(w)
		}
		if c, err := g.verifier(room.ID).Verify(r.Context(), verify.TokenFrom(r, room.ID)); err == nil {
			g.admittedHeaders(w, c)
			return pass(w)
		}
		if busy(rules, o, r) {
			return g.busyAnswer(fl, rules)
		}
		return g.toRoom(w, r, fl, room.ID, o)
	}
}

// needsAdmission applies the room's path rules: pass wins, then busy and
// protect (every path when protect is empty). The gate's own paths on the
// site pass.
func needsAdmission(rules *waitroom.Gate, path string) bool {
	if strings.HasPrefix(path, SitePrefix) || waitroom.MatchPath(rules.Pass, path) {
		return false
	}
	return len(rules.Protect) == 0 || waitroom.MatchPath(rules.Protect, path) || waitroom.MatchPath(rules.Busy, path)
}

// busy reports whether a visitor without admission gets 503 rather than a
// redirect: a busy path, a request that is not a page navigation (scripts
// follow redirects silently and would get the room page as their data), or
// a method a redirect would turn into GET (losing a form's body).
func busy(rules *waitroom.Gate, o original, r *http.Request) bool {
	if waitroom.MatchPath(rules.Busy, o.path) {
		return true
	}
	if o.method != http.MethodGet && o.method != http.MethodHead {
		return true
	}
	return r.Header.Get("X-Requested-With") != "" || !strings.Contains(r.Header.Get("Accept"), "text/html")
}

func pass(w http.ResponseWriter) error {
	w.Header().Set("Cache-Control", web.NoStore)
	w.WriteHeader(http.StatusOK)
	return nil
}

// admittedHeaders describes the admission to the site; a request without
// one (zero claims) gets the headers empty.
func (g *Gate) admittedHeaders(w http.ResponseWriter, c verify.Claims) {
	h := w.Header()
	if c.Subject == "" {
		h[HeaderPosition], h[HeaderAdmittedAt], h[HeaderVisitor] = []string{""}, []string{""}, []string{""}
		return
	}
	h.Set(HeaderPosition, strconv.FormatInt(c.Position, 10))
	h.Set(HeaderAdmittedAt, time.Unix(c.IssuedAt, 0).UTC().Format(time.RFC3339))
	h.Set(HeaderVisitor, g.visitorID(c))
}

// visitorID names the admitted visitor to the site: stable for the
// admission, and not the ticket's request id (which the AWS API would
// accept to issue tokens).
func (g *Gate) visitorID(c verify.Claims) string {
	m := hmac.New(sha256.New, g.visitor)
	m.Write([]byte(c.Room + "\x00" + c.Subject))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// busyAnswer is the "retry later" for a request that may not be redirected.
func (g *Gate) busyAnswer(fl flavor, rules *waitroom.Gate) error {
	after := rules.EffectiveRetryAfter()
	p := &web.Problem{Status: http.StatusServiceUnavailable, Code: "queued",
		Message: "this site has a waiting room: retry later", RetryAfter: after, Expected: true}
	switch fl {
	case nginxFlavor:
		p.Status, p.RetryAfter = http.StatusForbidden, 0
		p.Header = http.Header{HeaderRetryAfter: {strconv.Itoa(int(after / time.Second))}}
	case envoyFlavor:
		p.Status = http.StatusTooManyRequests
	}
	return p
}

// toRoom sends the visitor to the room page, which will bring them back to
// the URL they asked for.
func (g *Gate) toRoom(w http.ResponseWriter, r *http.Request, fl flavor, room string, o original) error {
	target := g.waitURL(room, o.URL())
	w.Header().Set("Cache-Control", web.NoStore)
	if fl == nginxFlavor {
		w.Header().Set(HeaderLocation, target)
		w.WriteHeader(http.StatusUnauthorized)
		return nil
	}
	http.Redirect(w, r, target, http.StatusFound)
	return nil
}

func (g *Gate) waitURL(room, returnTo string) string {
	return g.opts.Issuer + "/gate/" + url.PathEscape(room) + "/wait?return=" + url.QueryEscape(returnTo)
}
