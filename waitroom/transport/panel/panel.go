// Package panel is the admin control panel: a small server-rendered web
// application on the admin listener to watch rooms and drive them (move the
// serving counter, pause, close, reset, edit settings).
//
// Sign-in takes an admin key and turns it into a signed, expiring,
// HttpOnly, SameSite=Strict session cookie; every form carries a CSRF token
// bound to that cookie. The panel talks to the queue core directly, never
// through the admin REST API.
package panel

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/waitroom-idp/waitroom/static"
	"github.com/waitroom-idp/waitroom/templates"
	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/transport/i18n"
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// Options configure the panel.
type Options struct {
	Service *waitroom.Service
	// VerifyKey reports whether key is a valid admin key; it must compare
	// in constant time.
	VerifyKey func(key string) bool
	// SessionSecret signs session cookies; replicas behind one address must
	// share it. A random secret (sessions end on restart) when empty.
	SessionSecret []byte
	// SessionTTL is how long a sign-in lasts (default 8 hours).
	SessionTTL time.Duration
	// Prefix is the URL path the panel lives under (default "/panel").
	Prefix string
	// StaticPrefix is where the static files are served (default "/static").
	StaticPrefix string
	// SecureCookies marks cookies Secure (set it when served over HTTPS).
	SecureCookies bool
	// TemplateDir holds operator templates overriding the built-in ones.
	TemplateDir string
	// Clients is the OpenID provider's client admin API (/v1/clients...);
	// the panel's client pages use it. Nil hides them.
	Clients http.Handler
	// OnReset is called after a room was reset (to forget rate history).
	OnReset func(room string)
	Sampler *Sampler
	Clock   func() time.Time
	Logger  *slog.Logger
}

// Panel is the control panel's http.Handler.
type Panel struct {
	opts     Options
	mux      *http.ServeMux
	sessions *sessions
	tmpl     map[string]*template.Template
	langs    *i18n.Bundle
	sampler  *Sampler
}

var pages = []string{"panel/login.html", "panel/rooms.html", "panel/room.html", "panel/clients.html", "panel/error.html"}

// New builds the panel.
func New(opts Options) (*Panel, error) {
	if opts.Service == nil || opts.VerifyKey == nil {
		return nil, errors.New("panel: Service and VerifyKey are required")
	}
	opts = withDefaults(opts)
	langs, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	tmpl, err := templates.Parse(opts.TemplateDir, funcs, "panel/layout.html", pages...)
	if err != nil {
		return nil, err
	}
	p := &Panel{
		opts: opts, tmpl: tmpl, langs: langs, sampler: opts.Sampler,
		sessions: &sessions{secret: opts.SessionSecret, ttl: opts.SessionTTL, secure: opts.SecureCookies, path: opts.Prefix + "/", clock: opts.Clock},
	}
	p.routes()
	return p, nil
}

func withDefaults(o Options) Options {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 8 * time.Hour
	}
	if len(o.SessionSecret) == 0 {
		o.SessionSecret = randomBytes(32)
	}
	o.Prefix = strings.TrimSuffix(o.Prefix, "/")
	if o.Prefix == "" {
		o.Prefix = "/panel"
	}
	o.StaticPrefix = strings.TrimSuffix(o.StaticPrefix, "/")
	if o.StaticPrefix == "" {
		o.StaticPrefix = "/static"
	}
	if o.Sampler == nil {
		o.Sampler = NewSampler(o.Service, 10*time.Second, o.Clock, o.Logger)
	}
	return o
}

// Sampler returns the counter sampler; run it (Sampler().Run(ctx)) to draw
// the last hour even when nobody watches.
func (p *Panel) Sampler() *Sampler { return p.sampler }

func (p *Panel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	p.mux.ServeHTTP(w, r)
}

// handler is a panel handler: it returns an error and one place writes it.
type handler func(w http.ResponseWriter, r *http.Request) error

func (p *Panel) routes() {
	m := http.NewServeMux()
	pre := p.opts.Prefix
	m.Handle("GET "+pre+"/login", p.wrap(p.loginForm))
	m.Handle("POST "+pre+"/login", p.wrap(p.login))
	m.Handle("POST "+pre+"/logout", p.wrap(p.auth(p.logout)))
	m.Handle("GET "+pre+"/{$}", p.wrap(p.auth(p.roomList)))
	m.Handle("GET "+pre, http.RedirectHandler(pre+"/", http.StatusMovedPermanently))
	m.Handle("GET "+pre+"/rooms/{room}", p.wrap(p.auth(p.roomView)))
	m.Handle("GET "+pre+"/rooms/{room}/stats", p.wrap(p.auth(p.roomStats)))
	m.Handle("POST "+pre+"/rooms/{room}/advance", p.wrap(p.auth(p.advance)))
	m.Handle("POST "+pre+"/rooms/{room}/serving", p.wrap(p.auth(p.setServing)))
	m.Handle("POST "+pre+"/rooms/{room}/mode", p.wrap(p.auth(p.setMode)))
	m.Handle("POST "+pre+"/rooms/{room}/reset", p.wrap(p.auth(p.reset)))
	m.Handle("POST "+pre+"/rooms/{room}/settings", p.wrap(p.auth(p.settings)))
	m.Handle("GET "+pre+"/clients", p.wrap(p.auth(p.clientList)))
	m.Handle("POST "+pre+"/clients", p.wrap(p.auth(p.createClient)))
	m.Handle("POST "+pre+"/clients/{client}", p.wrap(p.auth(p.updateClient)))
	m.Handle("POST "+pre+"/clients/{client}/secret", p.wrap(p.auth(p.rotateClientSecret)))
	m.Handle("POST "+pre+"/clients/{client}/delete", p.wrap(p.auth(p.deleteClient)))
	p.mux = m
}

// auth lets through signed-in requests; state-changing ones must also
// carry the CSRF token of the session and come from the panel's origin.
func (p *Panel) auth(next handler) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		session := cookieValue(r, sessionCookie)
		if !p.sessions.valid(session) {
			if r.Method == http.MethodGet && !wantsJSON(r) {
				http.Redirect(w, r, p.opts.Prefix+"/login", http.StatusSeeOther)
				return nil
			}
			return errUnauthorized
		}
		if r.Method != http.MethodGet {
			if err := r.ParseForm(); err != nil {
				return errBadForm
			}
			if !sameOrigin(r) || !p.sessions.checkCSRF(session, r.PostForm.Get("csrf")) {
				return errForbidden
			}
		}
		return next(w, r)
	}
}

// panelError is a refusal of the panel, with a catalogue key as message.
func panelError(status int, code, key string) *web.Problem {
	return &web.Problem{Status: status, Code: code, Message: key}
}

var (
	errUnauthorized = panelError(http.StatusUnauthorized, "unauthorized", "panel.error.unauthorized")
	errForbidden    = panelError(http.StatusForbidden, "forbidden", "panel.error.forbidden")
	errBadForm      = panelError(http.StatusBadRequest, string(waitroom.CodeInvalid), "panel.error.bad_form")
	errNotFound     = panelError(http.StatusNotFound, string(waitroom.CodeNotFound), "panel.error.not_found")
)

// wrap serves h; its errors become a page, or REST JSON for the panel's
// scripts.
func (p *Panel) wrap(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		err := h(w, r)
		switch {
		case err == nil:
		case wantsJSON(r):
			web.Error(w, r, err)
		default:
			web.Page(w, r, err, p.errorPage)
		}
	})
}

// errorPage draws an error: the panel's own keys and the queue core's
// messages are shown; outages and internal errors get texts of their own.
func (p *Panel) errorPage(w http.ResponseWriter, r *http.Request, pr *web.Problem) error {
	lp := p.langs.Negotiate(r)
	msg := lp.T(pr.Message)
	switch {
	case pr.Status == http.StatusServiceUnavailable:
		msg = lp.T("panel.error.unavailable")
	case pr.Status >= 500:
		msg = lp.T("panel.error.internal")
	case pr.Status == http.StatusNotFound:
		msg = lp.T("panel.error.not_found")
	}
	return p.render(w, pr.Status, "panel/error.html", errorView{base: p.base(r, lp.T("panel.error.title")), Message: msg})
}

func (p *Panel) render(w http.ResponseWriter, status int, page string, data any) error {
	var buf bytes.Buffer
	if err := p.tmpl[page].Execute(&buf, data); err != nil {
		return fmt.Errorf("panel: render %s: %w", page, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// base is what every panel page needs.
func (p *Panel) base(r *http.Request, title string) base {
	session := cookieValue(r, sessionCookie)
	b := base{
		L: p.langs.Negotiate(r), Title: title, Prefix: p.opts.Prefix,
		Static: p.opts.StaticPrefix, Version: static.Version, HasClients: p.opts.Clients != nil,
	}
	if p.sessions.valid(session) {
		b.SignedIn = true
		b.CSRF = p.sessions.csrf(session)
	}
	return b
}

type base struct {
	L        *i18n.Printer
	Title    string
	Prefix   string
	Static   string
	Version  string
	SignedIn bool
	CSRF     string
	// HasClients shows the OpenID clients page in the navigation.
	HasClients bool
	Flash      string
}

type errorView struct {
	base
	Message string
}

var funcs = template.FuncMap{
	"modeKey": func(m waitroom.Mode) string { return "panel.mode." + string(m) },
	// dict passes several values to a sub-template: dict "K" v "K2" v2.
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
}
