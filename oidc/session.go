package oidc

import (
	"net/http"
	"net/url"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/transport/roompage"
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// endSession is RP-initiated logout. With a valid id_token_hint it revokes
// the login's tokens (sid), completes the visitor's session in the room
// (freeing a slot for max-active admission) and clears the room cookies.
// It then redirects to a registered post_logout_redirect_uri (with state),
// or to the provider's own "signed out" page.
//
// A post_logout_redirect_uri the client did not register is never
// redirected to, but it does not undo the logout either: the session the
// hint names still ends, and the visitor gets the "signed out" page with a
// link to the client's home (see clientHome). Relying parties often send a
// URI that differs from the registered one only by a query string or a
// trailing slash (WordPress adds ?loggedout=true&wp_lang=…); a 400 there
// used to leave the visitor signed in to the room.
func (p *Provider) endSession(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if singleValued(r) != nil {
		return pageError(http.StatusBadRequest, "oidc.bad_logout.title", "oidc.unreadable")
	}
	req, err := op.ParseEndSessionRequest(r, p.op.Decoder())
	if err != nil {
		return pageError(http.StatusBadRequest, "oidc.bad_logout.title", "oidc.unreadable")
	}
	unregistered := ""
	session, err := op.ValidateEndSessionRequest(ctx, req, p.op)
	if err != nil && req.PostLogoutRedirectURI != "" {
		// Validate the rest of the request without the URI: if that
		// passes, the URI was the only fault.
		retry := *req
		retry.PostLogoutRedirectURI = ""
		if s, err2 := op.ValidateEndSessionRequest(ctx, &retry, p.op); err2 == nil && s.ClientID != "" {
			session, err, unregistered = s, nil, req.PostLogoutRedirectURI
		}
	}
	if err != nil {
		return pageError(http.StatusBadRequest, "oidc.bad_logout.title", describe(err))
	}
	if claims := session.IDTokenHintClaims; claims != nil {
		if err := p.endHintedSession(w, r, claims); err != nil {
			return err
		}
	}
	if unregistered != "" {
		p.log.InfoContext(ctx, "end_session: post_logout_redirect_uri not registered; signed out without redirect",
			"client_id", session.ClientID, "id_token_hint", session.IDTokenHintClaims != nil)
		home := ""
		if c, err := p.clients.Get(ctx, session.ClientID); err == nil {
			home = clientHome(c)
		}
		n := roompage.Notice{Title: "oidc.signed_out.title", Message: "oidc.signed_out.unregistered"}
		if home != "" {
			n.Link, n.LinkLabel = home, "oidc.signed_out.home"
		}
		return p.room.RenderNotice(w, r, http.StatusOK, n)
	}
	target := session.RedirectURI
	if target == "" {
		target = p.cfg.Issuer + "/logged-out"
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
	return nil
}

// clientHome is where the "signed out" page sends a visitor back to: the
// client's first registered post_logout_redirect_uri, else the origin of
// its first redirect URI, else its initiate_login_uri ("" if none is an
// http(s) URL).
func clientHome(c waitroom.Client) string {
	if len(c.PostLogoutRedirectURIs) > 0 && isWebURL(c.PostLogoutRedirectURIs[0]) {
		return c.PostLogoutRedirectURIs[0]
	}
	for _, raw := range c.RedirectURIs {
		if u, err := url.Parse(raw); err == nil && isWebURL(raw) {
			return u.Scheme + "://" + u.Host + "/"
		}
	}
	if isWebURL(c.InitiateLoginURI) {
		return c.InitiateLoginURI
	}
	return ""
}

func isWebURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// endHintedSession ends what the id_token_hint names: the login's tokens
// (sid) and the visitor's room session. The browser's room cookies are
// cleared when they belong to that session.
func (p *Provider) endHintedSession(w http.ResponseWriter, r *http.Request, claims *oidc.IDTokenClaims) error {
	ctx := r.Context()
	if claims.SessionID == "" {
		return nil
	}
	// The grant is read before its record becomes a tombstone.
	g, err := p.grants.grantByID(ctx, claims.SessionID)
	if err != nil && waitroom.ErrorCode(err) != waitroom.CodeNotFound {
		return err
	}
	if err := p.grants.revokeGrant(ctx, grant{ID: claims.SessionID}, false); err != nil {
		return err
	}
	if g == nil || g.Subject != claims.Subject {
		return nil // revoked or admission over already, or not this visitor's
	}
	if err := p.grants.endSession(ctx, g.Room, g.TicketID); err != nil {
		return err
	}
	if p.browserTicket(r, g.Room) == g.TicketID {
		p.cookies.clear(w, admissionCookieName(g.Room))
		p.cookies.clear(w, ticketCookieName(g.Room))
	}
	return nil
}

// browserTicket is the ticket this browser holds in a room.
func (p *Provider) browserTicket(r *http.Request, room string) string {
	var adm admissionCookie
	if p.cookies.get(r, admissionCookieName(room), &adm) {
		return adm.TicketID
	}
	var tc ticketCookie
	if p.cookies.get(r, ticketCookieName(room), &tc) {
		return tc.TicketID
	}
	return ""
}

func (p *Provider) loggedOut(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", web.NoStore)
	return p.room.RenderNotice(w, r, http.StatusOK, roompage.Notice{Title: "oidc.signed_out.title", Message: "oidc.signed_out.body"})
}

// describe returns the client-safe description of a library error.
func describe(err error) string {
	if e, ok := err.(*oidc.Error); ok && e.Description != "" {
		return e.Description
	}
	return "The request is not valid."
}
