// Package roompage renders the waiting-room page and its JSON status: the
// view a visitor sees while in line, in their language, with the room's
// branding. Handlers (the OIDC login flow) gather a Visit and call Render;
// the page's script polls the same handler with Accept: application/json.
package roompage

import (
	"bytes"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/waitroom-idp/waitroom/static"
	"github.com/waitroom-idp/waitroom/templates"
	"github.com/waitroom-idp/waitroom/waitroom/transport/i18n"
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// Options configure a Page.
type Options struct {
	// TemplateDir holds operator templates overriding the built-in ones
	// (room.html, error.html, partials.html); empty for none.
	TemplateDir string
	// StaticPrefix is the URL path the static files are served under.
	StaticPrefix string
	Clock        func() time.Time
	Logger       *slog.Logger
	// Meter measures admission rates; a 10-minute meter if nil.
	Meter *RateMeter
}

// Page renders the waiting-room page.
type Page struct {
	opts  Options
	tmpl  map[string]*template.Template
	langs *i18n.Bundle
	meter *RateMeter
}

// New parses the templates and loads the catalogues.
func New(opts Options) (*Page, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.StaticPrefix == "" {
		opts.StaticPrefix = "/static"
	}
	opts.StaticPrefix = strings.TrimSuffix(opts.StaticPrefix, "/")
	if opts.Meter == nil {
		opts.Meter = NewRateMeter(10*time.Minute, 5*time.Second)
	}
	langs, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	tmpl, err := templates.Parse(opts.TemplateDir, nil, "partials.html", "room.html", "error.html", "gate.html")
	if err != nil {
		return nil, err
	}
	return &Page{opts: opts, tmpl: tmpl, langs: langs, meter: opts.Meter}, nil
}

// Meter returns the rate meter, so that a reset can Forget a room.
func (p *Page) Meter() *RateMeter { return p.meter }

// Languages returns the bundle of catalogues, for other pages.
func (p *Page) Languages() *i18n.Bundle { return p.langs }

// WantsJSON reports whether the client asked for the JSON status.
func WantsJSON(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

// Status computes the status of a visit in the request's language, and
// feeds the room's rate meter.
func (p *Page) Status(r *http.Request, v Visit) Status {
	now := p.opts.Clock()
	measured := p.meter.Observe(v.RoomID, v.Pace.Settings, v.Serving, v.Queue, now)
	return buildStatus(v, now, measured, p.langs.Negotiate(r))
}

// Render answers with the page, or the JSON status when the client asked
// for JSON.
func (p *Page) Render(w http.ResponseWriter, r *http.Request, v Visit) error {
	return p.RenderStatus(w, r, http.StatusOK, v)
}

// RenderStatus is Render with another HTTP status (410 for an expired
// place, say); the JSON status always answers 200.
func (p *Page) RenderStatus(w http.ResponseWriter, r *http.Request, status int, v Visit) error {
	s := p.Status(r, v)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Add("Vary", "Accept, Accept-Language")
	if WantsJSON(r) {
		web.JSON(w, http.StatusOK, web.NoStore, s)
		return nil
	}
	lp := p.langs.Negotiate(r)
	data := roomData{
		pageData:  p.pageData(r, lp),
		Title:     lp.T("room.title", "room", v.brandTitle()),
		Status:    s,
		Brand:     v.Brand.clean(v.RoomName),
		StatusURL: withLang(v.StatusURL, lp.Lang),
		RejoinURL: v.RejoinURL,
		Refresh:   refreshContent(s),
	}
	return p.execute(w, status, "room.html", data)
}

func (v Visit) brandTitle() string {
	if t := strings.TrimSpace(v.Brand.Title); t != "" {
		return t
	}
	return v.RoomName
}

// Notice is a page that tells the visitor something: an error, a login
// that expired, "signed out". Texts are catalogue keys (a text that is not
// a key, such as a library's error description, shows as it is).
type Notice struct {
	Title   string
	Message string
	// Action, when set, is a form the visitor can submit (POST).
	Action      string
	ActionLabel string
	// Link, when set, is a link the visitor can follow.
	Link      string
	LinkLabel string
}

// RenderNotice draws n with status, in the visitor's language, through the
// error.html template (which operators may replace).
func (p *Page) RenderNotice(w http.ResponseWriter, r *http.Request, status int, n Notice) error {
	lp := p.langs.Negotiate(r)
	w.Header().Set("Cache-Control", "no-store")
	data := noticeData{pageData: p.pageData(r, lp), Title: lp.T(n.Title), Message: lp.T(n.Message),
		Action: n.Action, ActionLabel: lp.T(n.ActionLabel), Link: n.Link, LinkLabel: lp.T(n.LinkLabel)}
	return p.execute(w, status, "error.html", data)
}

// refreshContent is the <noscript> meta refresh: straight on to the site
// when admitted, otherwise a reload after the poll interval.
func refreshContent(s Status) string {
	if s.State == StateYourTurn && s.ContinueURL != "" {
		return "0;url=" + s.ContinueURL
	}
	return strconv.FormatInt(s.PollAfter, 10)
}

type pageData struct {
	L         *i18n.Printer
	Static    string
	Version   string
	Languages []langLink
}

type roomData struct {
	pageData
	Title     string
	Status    Status
	Brand     brandView
	StatusURL string
	RejoinURL string
	Refresh   string
}

type noticeData struct {
	pageData
	Title, Message                       string
	Action, ActionLabel, Link, LinkLabel string
}

type langLink struct {
	Code, Name, URL string
	Current         bool
}

func (p *Page) pageData(r *http.Request, lp *i18n.Printer) pageData {
	return pageData{L: lp, Static: p.opts.StaticPrefix, Version: static.Version, Languages: p.languageLinks(r, lp.Lang)}
}

// languageLinks keeps the current URL (its auth request id, say) and only
// swaps lang, so switching language never loses the visitor's place.
func (p *Page) languageLinks(r *http.Request, current string) []langLink {
	var links []langLink
	for _, code := range p.langs.Languages() {
		links = append(links, langLink{
			Code: code, Name: p.langs.Printer(code).T("lang.self"),
			URL: withLang(r.URL.RequestURI(), code), Current: code == current,
		})
	}
	return links
}

func withLang(raw, lang string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	q.Set("lang", lang)
	u.RawQuery = q.Encode()
	return u.String()
}

// execute renders into a buffer first, so a template error never leaves a
// half-written page with a 200 status.
func (p *Page) execute(w http.ResponseWriter, status int, name string, data any) error {
	var buf bytes.Buffer
	if err := p.tmpl[name].Execute(&buf, data); err != nil {
		return fmt.Errorf("roompage: render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}
