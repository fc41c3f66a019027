// Package panel is the admin control panel: a small server-rendered web
// application on the admin listener to run a sale: watch rooms, let people
// in, change every room setting, manage clients, read the audit trail.
//
// Sign-in takes an admin key and turns it into a signed, expiring,
// HttpOnly, SameSite=Strict session cookie carrying the key's name (and
// whether it is a viewer's); every form carries a CSRF token bound to that
// cookie. The panel reads the queue core directly, but makes every change
// through the admin REST API, in-process and as the signed-in operator, so
// that a change from the panel is validated, refused with the same message
// and audited exactly as one through the API.
package panel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
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
	// Service is read for the views (rooms, counters, active sessions).
	Service *waitroom.Service
	// Admin is the admin REST API (httpapi.API.InProcess): every change
	// goes through it.
	Admin http.Handler
	// Identify returns the operator of an admin key; it must compare in
	// constant time.
	Identify func(key string) (web.Actor, bool)
	// Issuer is the OpenID provider's issuer, shown with each client's
	// settings for the relying parties.
	Issuer string
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
	// RoomState returns the state the admission leader last published for
	// a room (admission.PublishedState): a failing health gate shows there.
	// Nil, or false, when unknown.
	RoomState func(ctx context.Context, room string) (string, bool)
	// OnReset is called after a room was reset (to forget rate history).
	OnReset func(room string)
	Sampler *Sampler
	Clock   func() time.Time
	Logger  *slog.Logger
}

// Panel is the control panel's http.Handler.
type Panel struct {
	opts Options
	mux  *http.ServeMux
	// routeList is every route of mux (Routes).
	routeList []web.Route
	sessions  *sessions
	tmpl      map[string]*template.Template
	langs     *i18n.Bundle
	sampler   *Sampler
}

var pages = []string{"panel/login.html", "panel/rooms.html", "panel/room.html", "panel/clients.html", "panel/audit.html", "panel/error.html"}

// New builds the panel.
func New(opts Options) (*Panel, error) {
	if opts.Service == nil || opts.Identify == nil || opts.Admin == nil {
		return nil, errors.New("panel: Service, Admin and Identify are required")
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
	// The security headers (CSP, framing, referrer) are the admin
	// listener's (middleware.Security, middleware.AdminCSP).
	p.mux.ServeHTTP(w, r)
}

// Routes lists every route of the panel.
func (p *Panel) Routes() []web.Route { return p.routeList }

// handler is a panel handler: it returns an error and one place writes it.
type handler func(w http.ResponseWriter, r *http.Request) error

func (p *Panel) routes() {
	m := http.NewServeMux()
	handle := func(pattern string, h http.Handler) {
		m.Handle(pattern, h)
		p.routeList = append(p.routeList, web.PatternRoute(pattern))
	}
	pre := p.opts.Prefix
	handle("GET "+pre+"/login", p.wrap(p.loginForm))
	handle("POST "+pre+"/login", p.wrap(p.login))
	handle("POST "+pre+"/logout", p.wrap(p.auth(p.logout)))
	handle("GET "+pre+"/{$}", p.wrap(p.auth(p.roomList)))
	handle("GET "+pre, http.RedirectHandler(pre+"/", http.StatusMovedPermanently))
	handle("POST "+pre+"/rooms", p.wrap(p.auth(p.createRoom)))
	handle("GET "+pre+"/rooms/{room}", p.wrap(p.auth(p.roomView)))
	handle("GET "+pre+"/rooms/{room}/stats", p.wrap(p.auth(p.roomStats)))
	handle("POST "+pre+"/rooms/{room}/advance", p.wrap(p.auth(p.advance)))
	handle("POST "+pre+"/rooms/{room}/serving", p.wrap(p.auth(p.setServing)))
	handle("POST "+pre+"/rooms/{room}/reset", p.wrap(p.auth(p.reset)))
	handle("POST "+pre+"/rooms/{room}/delete", p.wrap(p.auth(p.deleteRoom)))
	handle("POST "+pre+"/rooms/{room}/webhooks/{n}/delete", p.wrap(p.auth(p.deleteWebhook)))
	handle("POST "+pre+"/rooms/{room}/{section}", p.wrap(p.auth(p.saveSection)))
	handle("GET "+pre+"/audit", p.wrap(p.auth(p.auditView)))
	handle("GET "+pre+"/clients", p.wrap(p.auth(p.clientList)))
	handle("POST "+pre+"/clients", p.wrap(p.auth(p.createClient)))
	handle("POST "+pre+"/clients/{client}", p.wrap(p.auth(p.updateClient)))
	handle("POST "+pre+"/clients/{client}/secret", p.wrap(p.auth(p.rotateClientSecret)))
	handle("POST "+pre+"/clients/{client}/delete", p.wrap(p.auth(p.deleteClient)))
	p.mux = m
}

// auth lets through signed-in requests, as their operator; state-changing
// ones must also carry the CSRF token of the session, come from the
// panel's origin and not be a viewer's. A signed-out browser asking for a
// page is sent to the sign-in, which brings it back afterwards.
func (p *Panel) auth(next handler) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		session := cookieValue(r, sessionCookie)
		actor, ok := p.sessions.valid(session)
		if !ok {
			if r.Method == http.MethodGet && !wantsJSON(r) {
				http.Redirect(w, r, p.opts.Prefix+"/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
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
			if actor.ReadOnly && !strings.HasSuffix(r.URL.Path, "/logout") {
				return errReadOnly
			}
		}
		return next(w, r.WithContext(web.WithActor(r.Context(), actor)))
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
	errReadOnly     = panelError(http.StatusForbidden, "read_only", "panel.error.read_only")
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
	if actor, ok := p.sessions.valid(session); ok {
		b.SignedIn, b.Operator, b.Viewer = true, actor.Name, actor.ReadOnly
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
	// Operator is the signed-in key's name; a Viewer may only look.
	Operator string
	Viewer   bool
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
	"list":    func(v ...string) []string { return v },
	"join":    strings.Join,
	"deref":   func(f *float64) float64 { return *f },
	// dur shows a duration setting, empty when zero (the field's
	// placeholder then says the default).
	"dur": func(d waitroom.Duration) string {
		if d == 0 {
			return ""
		}
		return d.String()
	},
	// local is a time as an <input type="datetime-local"> value, in UTC.
	"local": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02T15:04")
	},
	"diff": auditDiff,
	// dict passes several values to a sub-template: dict "K" v "K2" v2.
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
}

// change is one setting an audit entry changed.
type change struct{ Key, Old, New string }

// auditDiff lists the top-level fields that differ between an entry's
// documents, each value as compact JSON ("–" when absent).
func auditDiff(before, after json.RawMessage) []change {
	a, b := map[string]json.RawMessage{}, map[string]json.RawMessage{}
	flatten("", before, a)
	flatten("", after, b)
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var out []change
	for k := range keys {
		if k == "updated_at" || k == "created_at" || bytes.Equal(a[k], b[k]) {
			continue
		}
		out = append(out, change{Key: k, Old: shown(a[k]), New: shown(b[k])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// flatten puts the fields of a JSON object into into, nested objects as
// dotted keys (inlet.per_minute), so that a change shows as the fields it
// changed; arrays and other values stay whole.
func flatten(prefix string, v json.RawMessage, into map[string]json.RawMessage) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(v, &obj); err != nil || obj == nil {
		if prefix != "" && len(v) > 0 && string(v) != "null" {
			into[prefix] = v
		}
		return
	}
	for k, x := range obj {
		if prefix != "" {
			k = prefix + "." + k
		}
		flatten(k, x, into)
	}
}

// shown is a JSON value as the audit view prints it: strings without
// quotes, long values cut.
func shown(v json.RawMessage) string {
	if len(v) == 0 {
		return "–"
	}
	s := string(v)
	var str string
	if json.Unmarshal(v, &str) == nil {
		s = str
	}
	if r := []rune(s); len(r) > 160 {
		return string(r[:157]) + "…"
	}
	return s
}
