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

// roomVisit describes the room for the page: mode, schedule, pace and
// message come from the room, position from the browser's ticket, the
// site from the login's client (nil for a poll, which needs no name).
func (p *Provider) roomVisit(room waitroom.Room, login *visit, loginID string, position int64, c waitroom.Counters) roompage.Visit {
	now := p.cfg.Clock()
	v := roompage.Visit{
		RoomID: room.ID, RoomName: room.Name, Position: position, Serving: c.Serving, Queue: c.Queue,
		Brand: roompage.Branding{
			Title: room.Branding.Title, LogoURL: room.Branding.LogoURL, Accent: room.Branding.AccentColor,
			Background: room.Branding.BackgroundColor, Text: room.Branding.TextColor,
		},
		Messages: room.Branding.Messages,
		// A visitor still on the page of a pass-through room is held by
		// its safety net: the inlet's pace is theirs.
		Pace: admission.RoomPace(room, now, room.SafetyNetThreshold),
	}
	if v.RoomName == "" {
		v.RoomName = room.ID
	}
	if login != nil {
		v.Site, v.SiteURL = siteOf(login.client, login.ar.RedirectURI)
	}
	switch admission.RoomState(room, now, false) {
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

// siteOf names the site a visitor queues for and links back to its front
// page: the client's name, and the origin of the redirect URI the login
// uses (registered, so matched exactly).
func siteOf(c waitroom.Client, redirectURI string) (name, home string) {
	u, err := url.Parse(redirectURI)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return c.Name, ""
	}
	name = c.Name
	if name == "" {
		name = u.Hostname()
	}
	return name, u.Scheme + "://" + u.Host + "/"
}

func (p *Provider) showRoom(w http.ResponseWriter, r *http.Request, v *visit, tc ticketCookie, c waitroom.Counters) error {
	return p.room.Render(w, r, p.roomVisit(v.room, v, v.ar.ID, tc.Position, c))
}

func (p *Provider) showClosed(w http.ResponseWriter, r *http.Request, v *visit) error {
	rv := p.roomVisit(v.room, v, v.ar.ID, 0, waitroom.Counters{})
	rv.State = roompage.StateClosed
	return p.room.RenderStatus(w, r, http.StatusServiceUnavailable, rv)
}

// showEntryRefused answers a newcomer the room does not take in: not
// open yet (the page gives the time and lets them in when it opens) or
// closed.
func (p *Provider) showEntryRefused(w http.ResponseWriter, r *http.Request, v *visit) error {
	rv := p.roomVisit(v.room, v, v.ar.ID, 0, waitroom.Counters{})
	if rv.DeriveState(p.cfg.Clock()) == roompage.StateNotOpen {
		return p.room.Render(w, r, rv)
	}
	return p.showClosed(w, r, v)
}

func (p *Provider) showExpired(w http.ResponseWriter, r *http.Request, v *visit) error {
	rv := p.roomVisit(v.room, v, v.ar.ID, 0, waitroom.Counters{})
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
	c, err := p.queue.Progress(r.Context(), roomID)
	if err != nil {
		return err
	}
	loginID := r.URL.Query().Get("login")
	if !loginIDPattern.MatchString(loginID) {
		loginID = ""
	}
	v := p.roomVisit(room, nil, loginID, tc.Position, c)
	if !hasTicket && !v.Closed && v.OpensAt.IsZero() {
		return &web.Problem{Status: http.StatusNotFound, Code: string(waitroom.CodeNotFound), Message: "no ticket for this room in this browser"}
	}
	r.Header.Set("Accept", "application/json")
	return p.room.Render(w, r, v)
}
