package oidc

import (
	"bytes"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"

	"github.com/waitroom-idp/waitroom/static"
	"github.com/waitroom-idp/waitroom/templates"
	"github.com/waitroom-idp/waitroom/waitroom"
)

// pages renders the HTML templates embedded in the templates package.
type pages struct{ t *template.Template }

func newPages() (*pages, error) {
	t, err := template.ParseFS(templates.FS, "layout.html", "message.html")
	if err != nil {
		return nil, err
	}
	return &pages{t: t}, nil
}

// render writes a page; the body is rendered before the status is sent.
func (pg *pages) render(w http.ResponseWriter, status int, name string, data any) error {
	var buf bytes.Buffer
	if err := pg.t.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'self'; form-action *; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

// messagePage is the data of message.html: errors and notices.
type messagePage struct {
	Base    string
	Static  string
	Lang    string
	Title   string
	Message string
	// Action, when set, is a form the visitor can submit (POST).
	Action      string
	ActionLabel string
	// Link, when set, is a link the visitor can follow.
	Link      string
	LinkLabel string
}

// pageError is an error shown to the visitor as a page.
type pageError struct {
	status int
	title  string
	msg    string
}

func (e *pageError) Error() string { return e.title + ": " + e.msg }

// page adapts a browser-facing handler that returns an error.
func (p *Provider) page(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			p.writePageError(w, r, err)
		}
	})
}

func (p *Provider) writePageError(w http.ResponseWriter, r *http.Request, err error) {
	var pe *pageError
	switch {
	case errors.As(err, &pe):
		p.renderError(w, r, pe.status, pe.title, pe.msg)
	case waitroom.ErrorCode(err) == waitroom.CodeUnavailable:
		w.Header().Set("Retry-After", "5")
		p.renderError(w, r, http.StatusServiceUnavailable, "oidc.busy.title",
			"oidc.busy.body")
	case waitroom.ErrorCode(err) == waitroom.CodeNotFound:
		p.renderError(w, r, http.StatusNotFound, "oidc.not_found.title", waitroom.ErrorMessage(err))
	default:
		p.log.ErrorContext(r.Context(), "room page error", "path", r.URL.Path, "error", err)
		p.renderError(w, r, http.StatusInternalServerError, "oidc.error.title",
			"oidc.error.body")
	}
}

func (p *Provider) renderError(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	p.renderMessage(w, r, status, messagePage{Title: title, Message: msg})
}

// renderMessage shows a notice in the visitor's language: titles, texts
// and labels are catalogue keys (a text that is not a key, such as a
// library's error description, shows as it is).
func (p *Provider) renderMessage(w http.ResponseWriter, r *http.Request, status int, m messagePage) {
	lp := p.room.Languages().Negotiate(r)
	m.Lang = lp.Lang
	m.Title, m.Message = lp.T(m.Title), lp.T(m.Message)
	m.ActionLabel, m.LinkLabel = lp.T(m.ActionLabel), lp.T(m.LinkLabel)
	m.Base = p.issuer.Path
	m.Static = p.issuer.Path + "/static"
	if err := p.pages.render(w, status, "message.html", m); err != nil {
		p.log.ErrorContext(r.Context(), "render page", "error", err)
	}
}

// writeJSON encodes before writing the status, so a failed encoding never
// leaves a half-written success.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func staticHandler() http.Handler { return static.Handler("/static/") }
