package oidc

import (
	"net/http"

	"github.com/waitroom-idp/waitroom/static"
	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/transport/roompage"
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// pageError is an error shown to the visitor as a page: title and msg are
// catalogue keys (a text that is not a key shows as it is).
func pageError(status int, title, msg string) *web.Problem {
	code := map[int]waitroom.Code{http.StatusNotFound: waitroom.CodeNotFound, http.StatusConflict: waitroom.CodeConflict,
		http.StatusGone: waitroom.CodeExpired, http.StatusServiceUnavailable: waitroom.CodeUnavailable}[status]
	if code == "" {
		code = waitroom.CodeInvalid
	}
	return &web.Problem{Status: status, Code: string(code), Title: title, Message: msg, OAuth: "invalid_request"}
}

var errPageNotFound = pageError(http.StatusNotFound, "oidc.not_found.title", "oidc.not_found.body")

// page serves a browser-facing handler; its errors, the library's
// included, become pages in the visitor's language.
func (p *Provider) page(h web.Handler) http.Handler {
	return web.PageHandler(func(w http.ResponseWriter, r *http.Request) error { return oauth(h(w, r)) }, p.errorPage)
}

// errorPage draws an error as a notice. Outages and internal errors get
// texts of their own: their messages are for the logs.
func (p *Provider) errorPage(w http.ResponseWriter, r *http.Request, pr *web.Problem) error {
	title, msg := pr.Title, pr.Message
	switch {
	case pr.Status == http.StatusServiceUnavailable && title == "":
		title, msg = "oidc.busy.title", "oidc.busy.body"
	case pr.Status >= 500 && title == "":
		title, msg = "oidc.error.title", "oidc.error.body"
	case title == "" && pr.Status == http.StatusNotFound:
		title = "oidc.not_found.title"
	case title == "":
		title = "oidc.error.title"
	}
	return p.room.RenderNotice(w, r, pr.Status, roompage.Notice{Title: title, Message: msg})
}

func staticHandler() http.Handler { return static.Handler("/static/") }
