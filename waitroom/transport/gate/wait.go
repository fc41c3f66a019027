package gate

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/admission"
	"github.com/waitroom-idp/waitroom/waitroom/transport/gate/verify"
	"github.com/waitroom-idp/waitroom/waitroom/transport/roompage"
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// handoffTTL is how long the one-time code from the room page to the
// site's callback lives: one redirect.
const handoffTTL = 2 * time.Minute

const (
	keyHandoff   = "gate:handoff:"
	maxReturnURL = 2048
)

// handoff is what the callback on the site's host receives.
type handoff struct {
	Token  string `json:"t"`
	Return string `json:"r"`
}

var (
	errBadReturn = &web.Problem{Status: http.StatusBadRequest, Code: "invalid_return",
		Message: "gate.bad_return.body", Title: "gate.bad_return.title"}
	errHandoffGone = &web.Problem{Status: http.StatusGone, Code: string(waitroom.CodeExpired),
		Message: "gate.handoff_expired.body", Title: "gate.handoff_expired.title"}
)

// returnURL is the page the visitor goes back to: an absolute http(s)
// URL on one of the room's protected or return hosts. Anything else is
// refused, so the room page is no open redirect, and no other site can
// collect admissions through it.
func returnURL(rules *waitroom.Gate, raw string) (*url.URL, error) {
	if raw == "" || len(raw) > maxReturnURL {
		return nil, errBadReturn
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.Host == "" || u.Opaque != "" {
		return nil, errBadReturn
	}
	if !waitroom.MatchHost(rules.Hosts, u.Host) && !waitroom.MatchHost(rules.ReturnHosts, u.Host) {
		return nil, errBadReturn
	}
	u.Fragment = ""
	return u, nil
}

// roomAndReturn reads the room and the ?return= URL of a room-page
// request.
func (g *Gate) roomAndReturn(r *http.Request) (waitroom.Room, *url.URL, error) {
	room, err := g.room(r)
	if err != nil {
		return room, nil, err
	}
	back, err := returnURL(room.Gate, r.URL.Query().Get("return"))
	return room, back, err
}

// wait is the room page for a site's visitor: it queues the browser once
// (a signed ticket cookie keeps the place), shows the line, and once the
// serving counter has reached the ticket admits it and sends the browser
// to the site's callback with a one-time code.
func (g *Gate) wait(w http.ResponseWriter, r *http.Request) error {
	room, back, err := g.roomAndReturn(r)
	if err != nil {
		return err
	}
	v := g.visit(room, back.String())
	tc, err := g.ensureTicket(w, r, room.ID)
	if waitroom.ErrorCode(err) == waitroom.CodeConflict {
		return g.showRefused(w, r, v) // closed, or not open yet
	}
	if err != nil {
		return err
	}
	c, err := g.opts.Queue.Progress(r.Context(), room.ID)
	if err != nil {
		return err
	}
	v.Position, v.Serving, v.Queue = tc.Position, c.Serving, c.Queue
	// Position 0 is a pre-queue entry: no place yet, nothing to admit.
	if tc.Position == 0 || c.Serving < tc.Position || v.Paused {
		return g.opts.Page.Render(w, r, v)
	}
	err = g.admit(w, r, room, tc, back)
	if err != nil && waitroom.ErrorCode(err) == waitroom.CodeNotServed {
		return g.opts.Page.Render(w, r, v) // the counter moved back (a reset)
	}
	return err
}

// admit records the admission (the room's token record: tokens counter,
// max-active slot) and hands its token to the site's callback.
func (g *Gate) admit(w http.ResponseWriter, r *http.Request, room waitroom.Room, tc ticketCookie, back *url.URL) error {
	tokens, err := g.opts.Queue.IssueToken(r.Context(), room.ID, tc.TicketID, g.opts.Issuer, 0)
	if err != nil {
		return g.admissionRefused(w, r, room.ID, back, err)
	}
	code := randomToken()
	body, _ := json.Marshal(handoff{Token: tokens.Access, Return: back.String()})
	if err := g.opts.Handoffs.Put(r.Context(), keyHandoff+code, body, handoffTTL); err != nil {
		return err
	}
	target := back.Scheme + "://" + back.Host + CallbackPath + "?code=" + url.QueryEscape(code)
	w.Header().Set("Cache-Control", web.NoStore)
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// admissionRefused answers a ticket the room will not admit: its place
// expired, or its session ended (logged out). The browser queues again.
func (g *Gate) admissionRefused(w http.ResponseWriter, r *http.Request, room string, back *url.URL, err error) error {
	switch waitroom.ErrorCode(err) {
	case waitroom.CodeExpired, waitroom.CodeSessionClosed, waitroom.CodeNotFound:
	default:
		return err
	}
	g.tickets.clear(w, room)
	http.Redirect(w, r, g.waitURL(room, back.String()), http.StatusSeeOther)
	return nil
}

// callback runs on the site's host (the proxy sends CallbackPath here):
// it sets the admission cookie, host-only on that host, and returns to the
// page the visitor asked for.
func (g *Gate) callback(w http.ResponseWriter, r *http.Request) error {
	room, err := g.room(r)
	if err != nil {
		return err
	}
	code := r.URL.Query().Get("code")
	if code == "" || len(code) > 64 {
		return errHandoffGone
	}
	raw, err := g.opts.Handoffs.Take(r.Context(), keyHandoff+code)
	if waitroom.ErrorCode(err) == waitroom.CodeNotFound {
		return errHandoffGone
	}
	if err != nil {
		return err
	}
	var h handoff
	if json.Unmarshal(raw, &h) != nil {
		return errHandoffGone
	}
	back, err := returnURL(room.Gate, h.Return)
	if err != nil {
		return err
	}
	o, ok := siteRequest(r)
	if !ok || o.host != back.Host {
		return errBadReturn // the code was made for another host
	}
	c, err := g.verifier(room.ID).Verify(r.Context(), h.Token)
	if err != nil {
		return errHandoffGone
	}
	http.SetCookie(w, g.admissionCookie(room.ID, h.Token, time.Unix(c.Expires, 0), o.scheme == "https"))
	w.Header().Set("Cache-Control", web.NoStore)
	http.Redirect(w, r, back.String(), http.StatusSeeOther)
	return nil
}

// admissionCookie is host-only (no Domain): it reaches only the host the
// visitor queued for.
func (g *Gate) admissionCookie(room, token string, expires time.Time, secure bool) *http.Cookie {
	maxAge := int(expires.Sub(g.opts.Clock()) / time.Second)
	if maxAge <= 0 {
		maxAge = -1
	}
	return &http.Cookie{Name: verify.CookieName(room), Value: token, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
}

// logout ends the visitor's session in the room (freeing a max-active
// slot, as the OpenID end_session does), clears the cookie and goes back
// to the site: to ?return= when it is a path on the site, else to "/".
func (g *Gate) logout(w http.ResponseWriter, r *http.Request) error {
	room, err := g.room(r)
	if err != nil {
		return err
	}
	o, ok := siteRequest(r)
	if !ok {
		return web.Invalid("the proxy did not say which host the request is for")
	}
	if c, err := g.verifier(room.ID).Verify(r.Context(), verify.TokenFrom(r, room.ID)); err == nil {
		if err := g.endSession(r, room.ID, c.Subject); err != nil {
			return err
		}
	}
	http.SetCookie(w, g.admissionCookie(room.ID, "", time.Time{}, o.scheme == "https"))
	target := r.URL.Query().Get("return")
	if !localPath(target) {
		target = "/"
	}
	w.Header().Set("Cache-Control", web.NoStore)
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// endSession completes the admitted session; one that was never recorded
// or already ended is no error.
func (g *Gate) endSession(r *http.Request, room, ticket string) error {
	err := g.opts.Queue.UpdateSession(r.Context(), room, ticket, waitroom.SessionCompleted)
	switch {
	case err == nil:
		return nil
	case waitroom.ErrorCode(err) == waitroom.CodeNotFound, waitroom.ErrorCode(err) == waitroom.CodeConflict,
		waitroom.ErrorCode(err) == waitroom.CodeSessionClosed:
		return nil
	}
	return err
}

// localPath accepts "/path?query" on the same host, nothing that a
// browser could read as another host ("//evil", "/\evil").
func localPath(p string) bool {
	if len(p) == 0 || len(p) > maxReturnURL || p[0] != '/' || (len(p) > 1 && (p[1] == '/' || p[1] == '\\')) {
		return false
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == ""
}

// status answers the room page's poll from the ticket cookie and the
// serving counter.
func (g *Gate) status(w http.ResponseWriter, r *http.Request) error {
	room, back, err := g.roomAndReturn(r)
	if err != nil {
		return err
	}
	var tc ticketCookie
	if !g.tickets.get(r, room.ID, &tc) {
		return &web.Problem{Status: http.StatusNotFound, Code: string(waitroom.CodeNotFound), Message: "no ticket for this room in this browser"}
	}
	c, err := g.opts.Queue.Progress(r.Context(), room.ID)
	if err != nil {
		return err
	}
	v := g.visit(room, back.String())
	v.Position, v.Serving, v.Queue = tc.Position, c.Serving, c.Queue
	r.Header.Set("Accept", "application/json")
	return g.opts.Page.Render(w, r, v)
}

// visit describes the room for the page; the site is the return host.
func (g *Gate) visit(room waitroom.Room, back string) roompage.Visit {
	now := g.opts.Clock()
	v := roompage.Visit{
		RoomID: room.ID, RoomName: room.Name,
		Brand: roompage.Branding{Title: room.Branding.Title, LogoURL: room.Branding.LogoURL, Accent: room.Branding.AccentColor,
			Background: room.Branding.BackgroundColor, Text: room.Branding.TextColor},
		Messages:    room.Branding.Messages,
		Pace:        admission.RoomPace(room, now, room.SafetyNetThreshold),
		StatusURL:   g.issuer.Path + "/gate/" + url.PathEscape(room.ID) + "/status?return=" + url.QueryEscape(back),
		ContinueURL: g.waitURL(room.ID, back),
	}
	if v.RoomName == "" {
		v.RoomName = room.ID
	}
	if u, err := url.Parse(back); err == nil {
		v.Site, v.SiteURL = u.Hostname(), u.Scheme+"://"+u.Host+"/"
	}
	switch admission.RoomState(room, now, false) {
	case admission.StateScheduled, admission.StatePrequeue:
		v.OpensAt = room.Schedule.OpensAt
	case admission.StatePaused:
		v.Paused = true
	}
	return v
}

// showRefused answers a newcomer the room does not take in: not open yet
// (the page gives the time and lets them in when it opens) or closed.
func (g *Gate) showRefused(w http.ResponseWriter, r *http.Request, v roompage.Visit) error {
	if v.DeriveState(g.opts.Clock()) == roompage.StateNotOpen {
		return g.opts.Page.Render(w, r, v)
	}
	v.Closed, v.StatusURL = true, ""
	return g.opts.Page.RenderStatus(w, r, http.StatusServiceUnavailable, v)
}

// ensureTicket returns the browser's ticket for the room, enqueueing it
// the first time; the enqueue key in the signed cookie makes a reload or a
// second tab keep the place.
func (g *Gate) ensureTicket(w http.ResponseWriter, r *http.Request, room string) (ticketCookie, error) {
	var tc ticketCookie
	if !g.tickets.get(r, room, &tc) || tc.Key == "" {
		tc = ticketCookie{Key: randomToken()}
	}
	t, err := g.opts.Queue.Enqueue(r.Context(), room, "gate:"+tc.Key)
	if err != nil {
		return tc, err
	}
	fresh := ticketCookie{Key: tc.Key, TicketID: t.ID, Position: t.Position}
	if fresh != tc {
		g.tickets.set(w, room, fresh)
	}
	return fresh, nil
}

func randomToken() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}
