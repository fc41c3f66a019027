package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom/server"
	"github.com/waitroom-idp/waitroom/waitroom/transport/httpapi"
	"github.com/waitroom-idp/waitroom/waitroom/transport/middleware"
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

const testAdminKey = "headers-test-admin-key-0123456789"

// TestEveryAnswerCarriesTheSecurityHeaders walks every route of both
// listeners, as the server lists them from its routers (a route added
// later is walked too), with its own methods and a wrong one, and checks
// the security headers on each answer: pages, JSON, redirects, errors.
func TestEveryAnswerCarriesTheSecurityHeaders(t *testing.T) {
	srv := openServer(t, func(cfg *server.Config) { cfg.Pprof = true })
	public, admin := srv.Handlers()
	publicRoutes, adminRoutes := srv.Routes()
	if len(publicRoutes) < 20 || len(adminRoutes) < 30 {
		t.Fatalf("only %d public and %d admin routes listed", len(publicRoutes), len(adminRoutes))
	}
	pages := walk(t, public, publicRoutes, middleware.PublicCSP, true)
	pages += walk(t, admin, adminRoutes, middleware.AdminCSP, false)
	t.Logf("%d public and %d admin routes, %d HTML answers", len(publicRoutes), len(adminRoutes), pages)
	if pages < 8 {
		t.Fatalf("only %d HTML answers seen: the walk misses the pages", pages)
	}
}

// openServer opens a server on the embedded store with the demo on, an
// https issuer with a path and a known admin key, changed by configure.
func openServer(t *testing.T, configure func(*server.Config)) *server.Server {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.HTTPAddr, cfg.AdminAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Issuer = "https://queue.example.com/idp"
	demo := true
	cfg.Demo = &demo
	cfg.SigningAlgorithm = "ES256"
	cfg.AdminKeyHashes = []string{"ops:" + httpapi.HashAdminKey(testAdminKey)}
	configure(&cfg)
	srv, err := server.Open(context.Background(), cfg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// TestCORSPreflightAllowsAuthorization: with CORS on, a page may call the
// token endpoint (client_secret_basic) and userinfo (a bearer token).
func TestCORSPreflightAllowsAuthorization(t *testing.T) {
	srv := openServer(t, func(cfg *server.Config) { cfg.CORSOrigins = []string{"https://app.example"} })
	public, _ := srv.Handlers()
	for _, path := range []string{"/idp/oauth/token", "/idp/userinfo"} {
		req := httptest.NewRequest(http.MethodOptions, path, nil)
		req.Header.Set("Origin", "https://app.example")
		req.Header.Set("Access-Control-Request-Method", http.MethodPost)
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		rec := httptest.NewRecorder()
		public.ServeHTTP(rec, req)
		allowed := strings.ToLower(rec.Header().Get("Access-Control-Allow-Headers"))
		if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example" ||
			!slices.Contains(strings.Split(strings.ReplaceAll(allowed, " ", ""), ","), "authorization") {
			t.Errorf("preflight %s: %d, Allow-Origin %q, Allow-Headers %q", path, rec.Code,
				rec.Header().Get("Access-Control-Allow-Origin"), rec.Header().Get("Access-Control-Allow-Headers"))
		}
		checkHeaders(t, "OPTIONS "+path, rec.Header(), middleware.PublicCSP, true)
	}
}

// walk calls every route of h and checks each answer; it returns how many
// were HTML.
func walk(t *testing.T, h http.Handler, routes []web.Route, csp string, hsts bool) (pages int) {
	t.Helper()
	targets := []web.Route{{Method: http.MethodGet, Path: "/no/such/path"}, {Method: http.MethodGet, Path: "/" + strings.Repeat("x", 5000)}}
	for _, r := range routes {
		path := concrete(r.Path)
		targets = append(targets, web.Route{Method: r.Method, Path: path}, web.Route{Method: wrongMethod(routes, r.Path), Path: path})
	}
	for _, target := range targets {
		rec := call(h, target)
		where := target.Method + " " + target.Path
		checkHeaders(t, where, rec.Header(), csp, hsts)
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			pages++
		}
	}
	return pages
}

func checkHeaders(t *testing.T, where string, h http.Header, csp string, hsts bool) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": csp,
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "same-origin",
	}
	if hsts {
		want["Strict-Transport-Security"] = "max-age=63072000"
	}
	for k, v := range want {
		if got := h.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s: %s = %q, want %q", where, k, got, v)
		}
	}
	if !hsts && h.Get("Strict-Transport-Security") != "" {
		t.Errorf("%s: Strict-Transport-Security on a plain-http listener", where)
	}
	if p := h.Get("Content-Security-Policy"); strings.Contains(p, "unsafe-eval") ||
		strings.Contains(directive(p, "script-src"), "unsafe-inline") || directive(p, "frame-ancestors") != "frame-ancestors 'none'" {
		t.Errorf("%s: weak Content-Security-Policy %q", where, p)
	}
}

func directive(policy, name string) string {
	for _, d := range strings.Split(policy, ";") {
		if d = strings.TrimSpace(d); strings.HasPrefix(d, name+" ") {
			return d
		}
	}
	return ""
}

var pathVar = regexp.MustCompile(`\{[^}]*\}`)

// concrete fills a path template: the demo room and client where a name
// is wanted, a file below a prefix mount.
func concrete(template string) string {
	path := pathVar.ReplaceAllStringFunc(template, func(v string) string {
		switch v {
		case "{id}", "{room}":
			return "demo"
		case "{client}":
			return "demo"
		}
		return "1"
	})
	if strings.HasSuffix(path, "/static/") {
		path += "css/room.css"
	}
	return path
}

// wrongMethod is a method the route's path does not serve.
func wrongMethod(routes []web.Route, path string) string {
	for _, m := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodPost} {
		if !slices.Contains(routes, web.Route{Method: m, Path: path}) {
			return m
		}
	}
	return http.MethodConnect
}

func call(h http.Handler, target web.Route) *httptest.ResponseRecorder {
	var body *strings.Reader
	if target.Method == http.MethodPost || target.Method == http.MethodPut || target.Method == http.MethodPatch {
		body = strings.NewReader(`{}`)
	} else {
		body = strings.NewReader("")
	}
	// A stream (the counters' event stream) ends with its request.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, target.Method, target.Path, body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testAdminKey)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
