package oidc

import (
	"net/http"
	"net/url"
	"regexp"

	"github.com/gorilla/mux"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/admission"
	"github.com/waitroom-idp/waitroom/waitroom/transport/roompage"
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// The waiting-room page itself (look, languages, wait estimate, polling)
// lives in package roompage; this file only turns a login's state into a
// roompage.Visit.

func (p *Provider) statusURL(roomID, loginID string) string {
	return p.issuer.Path + "/queue/" + url.PathEscape(roomID) + "/status?login=" + url.QueryEscape(loginID)
}

// roomVisit describes the room for the page: mode and schedule come from
// the room, position from the browser's ticket.
func (p *Provider) roomVisit(room waitroom.Room, loginID string, position, serving int64) roompage.Visit {
	v := roompage.Visit{
		RoomID: room.ID, RoomName: room.Name, Position: position, Serving: serving,
		Brand: roompage.Branding{
			Title: room.Branding.Title, LogoURL: room.Branding.LogoURL, Accent: room.Branding.AccentColor,
			Background: room.Branding.BackgroundColor, Text: room.Branding.TextColor,
		},
	}
	if v.RoomName == "" {
		v.RoomName = room.ID
	}
	switch admission.RoomState(room, p.cfg.Clock(), false) {
	case admission.StateClosed:
		// No new entries; those already in line keep draining.
		v.Closed = position == 0
	case admission.StateScheduled, admission.StatePrequeue:
		v.OpensAt = room.Schedule.OpensAt
	case admission.StatePaused:
		v.Paused = true
	}
	if loginID != "" {
		v.StatusURL = p.statusURL(room.ID, loginID)
		v.ContinueURL = p.loginURL(loginID)
	}
	return v
}

func (p *Provider) showRoom(w http.ResponseWriter, r *http.Request, v *visit, tc ticketCookie, serving int64) error {
	return p.room.Render(w, r, p.roomVisit(v.room, v.ar.ID, tc.Position, serving))
}

func (p *Provider) showClosed(w http.ResponseWriter, r *http.Request, v *visit) error {
	rv := p.roomVisit(v.room, v.ar.ID, 0, 0)
	rv.State = roompage.StateClosed
	return p.room.RenderStatus(w, r, http.StatusServiceUnavailable, rv)
}

// showEntryRefused answers a newcomer the room does not take in: not
// open yet (the page gives the time and lets them in when it opens) or
// closed.
func (p *Provider) showEntryRefused(w http.ResponseWriter, r *http.Request, v *visit) error {
	rv := p.roomVisit(v.room, v.ar.ID, 0, 0)
	if rv.DeriveState(p.cfg.Clock()) == roompage.StateNotOpen {
		return p.room.Render(w, r, rv)
	}
	return p.showClosed(w, r, v)
}

func (p *Provider) showExpired(w http.ResponseWriter, r *http.Request, v *visit) error {
	rv := p.roomVisit(v.room, v.ar.ID, 0, 0)
	rv.State = roompage.StateExpired
	rv.RejoinURL = p.issuer.Path + "/login/" + url.PathEscape(v.ar.ID) + "/rejoin"
	rv.StatusURL = "" // nothing changes until the visitor rejoins
	return p.room.RenderStatus(w, r, http.StatusGone, rv)
}

var loginIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// status answers the room page's poll (and apps asking for JSON) from the
// signed ticket cookie and the serving counter: no per-ticket lookup. A
// browser without a ticket learns the room's state (closed, not open
// yet); the page reloads to take a place once the room lets it.
func (p *Provider) status(w http.ResponseWriter, r *http.Request) error {
	roomID := mux.Vars(r)["room"]
	if !waitroom.ValidRoomID(roomID) {
		return &web.Problem{Status: http.StatusNotFound, Code: string(waitroom.CodeNotFound), Message: "no such room"}
	}
	room, err := p.queue.Room(r.Context(), roomID)
	if err != nil {
		return err
	}
	var tc ticketCookie
	hasTicket := p.cookies.get(r, ticketCookieName(roomID), &tc)
	serving, err := p.queue.Serving(r.Context(), roomID)
	if err != nil {
		return err
	}
	loginID := r.URL.Query().Get("login")
	if !loginIDPattern.MatchString(loginID) {
		loginID = ""
	}
	v := p.roomVisit(room, loginID, tc.Position, serving)
	if !hasTicket && !v.Closed && v.OpensAt.IsZero() {
		return &web.Problem{Status: http.StatusNotFound, Code: string(waitroom.CodeNotFound), Message: "no ticket for this room in this browser"}
	}
	r.Header.Set("Accept", "application/json")
	return p.room.Render(w, r, v)
}
