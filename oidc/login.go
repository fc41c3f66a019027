package oidc

import (
	"context"
	"encoding/hex"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/mux"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/transport/roompage"
)

// Room modes, read from the room's optional "mode" setting (the admission
// policies' modes: queue, passthrough, paused, closed).
const (
	modeOpen   = "open"   // queue or passthrough: the serving counter decides
	modePaused = "paused" // visitors queue, nobody is admitted
	modeClosed = "closed" // no new entries; those in line keep draining
)

// roomMode sorts a room's admission mode into what the room page does:
// queue and passthrough both let the serving counter decide.
func roomMode(r waitroom.Room) string {
	switch r.EffectiveMode() {
	case waitroom.ModePaused:
		return modePaused
	case waitroom.ModeClosed:
		return modeClosed
	}
	return modeOpen
}

// visit is one request to the room page: the login being completed and
// where it waits.
type visit struct {
	ar     *authRequest
	client waitroom.Client
	room   waitroom.Room
	mode   string
	now    time.Time
	// ticket is what Enqueue returned in this request (zero otherwise).
	ticket waitroom.Ticket
}

// login is the room page, the client's login URL. It completes the login
// at once with a usable admission cookie, otherwise enqueues (once per
// browser and room), admits when the serving counter has reached the
// ticket, or shows the visitor's place.
func (p *Provider) login(w http.ResponseWriter, r *http.Request) error {
	v, err := p.loadVisit(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	if adm, ok := p.usableAdmission(r, v); ok {
		return p.complete(w, r, v, adm)
	}
	if v.ar.promptNone() {
		return p.redirectError(w, r, v.ar, oidc.ErrLoginRequired().WithDescription("no admission to the waiting room"))
	}
	var held ticketCookie
	if v.mode == modeClosed && !p.cookies.get(r, ticketCookieName(v.room.ID), &held) {
		// Closed: no new entries; visitors already in line keep draining.
		return p.showClosed(w, r, v)
	}
	tc, err := p.heldTicket(r, v)
	if err != nil {
		return err
	}
	if tc.Key == "" && v.room.BotGate.Challenged() {
		if passed, err := p.passGate(w, r, v); !passed || err != nil {
			return err
		}
	}
	tc, err = p.ensureTicket(w, r, v, tc)
	if waitroom.ErrorCode(err) == waitroom.CodeConflict {
		return p.showEntryRefused(w, r, v) // closed, or not open yet
	}
	if err != nil {
		return err
	}
	if r.Method == http.MethodPost {
		// The gate page posted its answer: on to the room page, so that a
		// reload does not post it again.
		http.Redirect(w, r, p.loginURL(v.ar.ID), http.StatusSeeOther)
		return nil
	}
	return p.admitOrWait(w, r, v, tc)
}

func (p *Provider) loadVisit(ctx context.Context, id string) (*visit, error) {
	ar, err := p.grants.authRequest(ctx, id)
	if waitroom.ErrorCode(err) == waitroom.CodeNotFound {
		return nil, pageError(http.StatusGone, "oidc.login_expired.title", "oidc.login_expired.body")
	}
	if err != nil {
		return nil, err
	}
	c, err := p.clients.Get(ctx, ar.ClientID)
	if err != nil {
		return nil, err
	}
	room, err := p.queue.Room(ctx, c.Room)
	if waitroom.ErrorCode(err) == waitroom.CodeNotFound {
		p.log.ErrorContext(ctx, "client names an unknown room", "client", c.ID, "room", c.Room)
		return nil, pageError(http.StatusServiceUnavailable, "oidc.room_unavailable.title", "oidc.room_unavailable.body")
	}
	if err != nil {
		return nil, err
	}
	return &visit{ar: ar, client: c, room: room, mode: roomMode(room), now: p.cfg.Clock()}, nil
}

// usableAdmission returns the browser's admission to the room if it may
// complete this login: signed, unexpired, within max_age, and its session
// not ended.
func (p *Provider) usableAdmission(r *http.Request, v *visit) (admissionCookie, bool) {
	var adm admissionCookie
	if !p.cookies.get(r, admissionCookieName(v.room.ID), &adm) || v.now.Unix() >= adm.Expires {
		return adm, false
	}
	if v.ar.MaxAge != nil && v.now.Sub(time.Unix(adm.AdmittedAt, 0)) > time.Duration(*v.ar.MaxAge)*time.Second {
		return adm, false
	}
	closed, err := p.grants.eph.exists(r.Context(), keyClosed+v.room.ID+":"+adm.TicketID)
	return adm, err == nil && !closed
}

// heldTicket returns the browser's ticket cookie for the room; a zero
// cookie (no Key) when it holds none or its session ended.
func (p *Provider) heldTicket(r *http.Request, v *visit) (ticketCookie, error) {
	var tc ticketCookie
	if !p.cookies.get(r, ticketCookieName(v.room.ID), &tc) || tc.Key == "" {
		return ticketCookie{}, nil
	}
	closed, err := p.grants.eph.exists(r.Context(), keyClosed+v.room.ID+":"+tc.TicketID)
	if err != nil || closed {
		return ticketCookie{}, err // the session ended: a new visit queues again
	}
	return tc, nil
}

// ensureTicket returns the browser's ticket for the room, enqueueing it
// the first time. The enqueue key comes from the signed ticket cookie, so a
// reload or a second tab keeps the place.
func (p *Provider) ensureTicket(w http.ResponseWriter, r *http.Request, v *visit, tc ticketCookie) (ticketCookie, error) {
	if tc.Key == "" {
		tc.Key = randomToken(16)
	}
	t, err := p.queue.Enqueue(r.Context(), v.room.ID, "oidc:"+tc.Key)
	if err != nil {
		return tc, err
	}
	v.ticket = t
	fresh := ticketCookie{Key: tc.Key, TicketID: t.ID, Position: t.Position, QueuedAt: t.EntryTime.Unix()}
	if fresh != tc {
		p.cookies.set(w, ticketCookieName(v.room.ID), fresh, ticketCookieTTL)
	}
	return fresh, nil
}

// admitOrWait admits the ticket once the serving counter has reached it
// (complete re-checks with the queue core, expiry included), or shows the
// room.
func (p *Provider) admitOrWait(w http.ResponseWriter, r *http.Request, v *visit, tc ticketCookie) error {
	ctx := r.Context()
	c, err := p.queue.Progress(ctx, v.room.ID)
	if err != nil {
		return err
	}
	if c.Serving < tc.Position || v.mode == modePaused {
		return p.showRoom(w, r, v, tc, c)
	}
	adm := admissionCookie{TicketID: tc.TicketID, Position: tc.Position, QueuedAt: tc.QueuedAt,
		AdmittedAt: v.now.Unix(), Expires: v.now.Add(p.cfg.AdmissionTTL).Unix()}
	p.cookies.set(w, admissionCookieName(v.room.ID), adm, p.cfg.AdmissionTTL)
	return p.complete(w, r, v, adm)
}

// complete finishes an admitted login: at once if the relying party still
// holds its state, else through its initiate_login_uri.
func (p *Provider) complete(w http.ResponseWriter, r *http.Request, v *visit, adm admissionCookie) error {
	c := v.client
	if c.MaxHold > 0 && c.InitiateLoginURI != "" && v.now.Sub(v.ar.CreatedAt) > c.MaxHold.D() {
		_ = p.grants.deleteAuthRequest(r.Context(), v.ar.ID)
		http.Redirect(w, r, p.initiateLoginURL(c), http.StatusSeeOther)
		return nil
	}
	// The room records the admission now (tokens counter, active
	// session), which also re-checks it: an admission that expired or
	// whose session ended is caught here, not as a failed code exchange.
	var rec waitroom.TokenRecord
	var err error
	if v.ticket.ID != "" && v.ticket.ID == adm.TicketID {
		rec, err = p.queue.AdmitTicket(r.Context(), v.room.ID, v.ticket, p.cfg.Issuer)
	} else {
		rec, err = p.queue.Admit(r.Context(), v.room.ID, adm.TicketID, p.cfg.Issuer)
	}
	if err != nil {
		return p.admissionRefused(w, r, v, err)
	}
	g := &grant{
		ID: v.ar.ID, ClientID: c.ID, Subject: p.subject(w, r, c, v.room.ID, adm.TicketID),
		Scopes: v.ar.Scopes, Room: v.room.ID, TicketID: adm.TicketID, Position: adm.Position,
		QueuedAt: time.Unix(adm.QueuedAt, 0), AdmittedAt: time.Unix(adm.AdmittedAt, 0),
		AdmissionEnds: rec.ExpiresAt,
	}
	if v.ar.HintSubject != "" && v.ar.HintSubject != g.Subject && v.ar.promptNone() {
		return p.redirectError(w, r, v.ar, oidc.ErrLoginRequired().WithDescription("id_token_hint names another visitor"))
	}
	v.ar.Grant = g
	code, err := p.grants.issueCode(r.Context(), v.ar)
	if waitroom.ErrorCode(err) == waitroom.CodeNotFound {
		// Another tab finished this login first: the way on is the site.
		n := roompage.Notice{Title: "oidc.already.title", Message: "oidc.already.body"}
		if _, home := siteOf(v.client, v.ar.RedirectURI); home != "" {
			n.Link, n.LinkLabel = home, "room.back"
		}
		return p.room.RenderNotice(w, r, http.StatusConflict, n)
	}
	if err != nil {
		return err
	}
	return p.codeResponse(w, r, v.ar, code)
}

// admissionRefused answers a ticket the room will not admit (any more):
// its admission expired, its session ended, or the serving counter moved
// back. The browser's room cookies for it are dropped.
func (p *Provider) admissionRefused(w http.ResponseWriter, r *http.Request, v *visit, err error) error {
	code := waitroom.ErrorCode(err)
	switch code {
	case waitroom.CodeNotServed, waitroom.CodeExpired, waitroom.CodeSessionClosed, waitroom.CodeNotFound:
	default:
		return err
	}
	p.cookies.clear(w, admissionCookieName(v.room.ID))
	if v.ar.promptNone() {
		return p.redirectError(w, r, v.ar, oidc.ErrLoginRequired().WithDescription("no valid admission to the waiting room"))
	}
	if code == waitroom.CodeNotServed {
		http.Redirect(w, r, p.loginURL(v.ar.ID), http.StatusSeeOther) // back to the room page
		return nil
	}
	p.cookies.clear(w, ticketCookieName(v.room.ID))
	return p.showExpired(w, r, v)
}

// codeResponse sends the code to the client (query or form_post).
func (p *Provider) codeResponse(w http.ResponseWriter, r *http.Request, ar *authRequest, code string) error {
	resp := &op.CodeResponseType{Code: code, State: ar.State}
	return p.authorizeResponse(w, r, ar.reply(), resp)
}

// initiateLoginURL is the client's login-initiation URL with the issuer
// (OpenID Connect Core §4, third-party initiated login).
func (p *Provider) initiateLoginURL(c waitroom.Client) string {
	u, err := url.Parse(c.InitiateLoginURI)
	if err != nil {
		return c.InitiateLoginURI
	}
	q := u.Query()
	q.Set("iss", p.cfg.Issuer)
	u.RawQuery = q.Encode()
	return u.String()
}

// redirectError sends an OAuth error to the client's redirect URI and
// forgets the auth request.
func (p *Provider) redirectError(w http.ResponseWriter, r *http.Request, ar *authRequest, e *oidc.Error) error {
	_ = p.grants.deleteAuthRequest(r.Context(), ar.ID)
	e.State = ar.State
	return p.authorizeResponse(w, r, ar.reply(), e)
}

// rejoin drops the browser's expired ticket so that the room page queues
// it again. Only a request that carries the ticket cookie may drop it: a
// cross-site form post does not carry it (SameSite=Lax), so another site
// cannot make a visitor lose their place.
func (p *Provider) rejoin(w http.ResponseWriter, r *http.Request) error {
	v, err := p.loadVisit(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	var tc ticketCookie
	if p.cookies.get(r, ticketCookieName(v.room.ID), &tc) {
		p.cookies.clear(w, ticketCookieName(v.room.ID))
	}
	http.Redirect(w, r, p.loginURL(v.ar.ID), http.StatusSeeOther)
	return nil
}

// subject derives the `sub` claim by the client's policy: per admission
// (ticket), or per browser and client (pairwise, from the visitor cookie,
// set here when missing).
func (p *Provider) subject(w http.ResponseWriter, r *http.Request, c waitroom.Client, room, ticketID string) string {
	if c.Subject != waitroom.SubjectPairwise {
		return ticketSubject(p.kr, room, ticketID)
	}
	return pairwiseSubject(p.kr, c.ID, p.visitorID(w, r))
}

// Subjects are 32 hex characters: fine as a user name or an e-mail local
// part in the relying party, and revealing nothing of the ticket.
func ticketSubject(kr keyring, room, ticketID string) string {
	return hex.EncodeToString(mac(kr.subject, "ticket", room, ticketID)[:16])
}

func pairwiseSubject(kr keyring, clientID, visitorID string) string {
	return hex.EncodeToString(mac(kr.subject, "pairwise", clientID, visitorID)[:16])
}
