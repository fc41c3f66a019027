package oidc

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// authorize is the authorization endpoint (RFC 6749 §4.1.1, OpenID Connect
// Core §3.1.2). Until the client and its redirect URI are known good,
// every refusal is a page: redirecting elsewhere would make the provider
// an open redirector. From then on every refusal goes back to the client,
// with the OAuth error code the specifications name, in the response mode
// it asked for.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return pageError(http.StatusBadRequest, "oidc.bad_authorize.title", "oidc.unreadable")
	}
	// A repeated client_id or redirect_uri names no one client or address.
	if len(r.Form["client_id"]) > 1 || len(r.Form["redirect_uri"]) > 1 {
		return pageError(http.StatusBadRequest, "oidc.bad_authorize.title", "oidc.unreadable")
	}
	clientID, redirectURI := r.Form.Get("client_id"), r.Form.Get("redirect_uri")
	c, err := p.clients.Get(r.Context(), clientID)
	if waitroom.ErrorCode(err) == waitroom.CodeNotFound {
		return pageError(http.StatusBadRequest, "oidc.bad_authorize.title", "oidc.bad_authorize.client")
	}
	if err != nil {
		return err
	}
	if redirectURI == "" || !slices.Contains(c.RedirectURIs, redirectURI) {
		return pageError(http.StatusBadRequest, "oidc.bad_authorize.title", "oidc.bad_authorize.redirect")
	}
	to := replyTo(r.Form)
	login, err := p.acceptAuthorize(r)
	if err != nil {
		return p.replyError(w, r, to, err)
	}
	http.Redirect(w, r, login, http.StatusFound)
	return nil
}

// acceptAuthorize validates the request of a known client and redirect URI
// and stores it; it returns the room page the visitor goes to.
func (p *Provider) acceptAuthorize(r *http.Request) (string, error) {
	if err := screenAuthorize(r.Form); err != nil {
		return "", err
	}
	ctx := r.Context()
	authReq, err := op.ParseAuthorizeRequest(r, p.op.Decoder())
	if err != nil {
		return "", err
	}
	client, err := p.op.Storage().GetClientByClientID(ctx, authReq.ClientID)
	if err != nil {
		return "", err
	}
	hintSubject, err := op.ValidateAuthRequestClient(ctx, authReq, client, p.op.IDTokenHintVerifier(ctx))
	if err != nil {
		return "", err
	}
	req, err := p.op.Storage().CreateAuthRequest(ctx, authReq, hintSubject)
	if err != nil {
		return "", err
	}
	return client.LoginURL(req.GetID()), nil
}

// screenAuthorize refuses what the library would half-use or answer
// wrongly: a repeated parameter (RFC 6749 §3.1: none may appear twice;
// which copy would count?), request objects, which discovery says are not
// supported, and a response type other than code.
func screenAuthorize(form url.Values) error {
	if name := repeated(form); name != "" {
		return oidc.ErrInvalidRequest().WithDescription("the parameter %s is given more than once", name)
	}
	switch {
	case form.Has("request_uri"):
		return &oidc.Error{ErrorType: "request_uri_not_supported", Description: "request_uri is not supported"}
	case form.Has("request"):
		return oidc.ErrRequestNotSupported().WithDescription("request objects are not supported")
	case form.Get("response_type") == "":
		return oidc.ErrInvalidRequest().WithDescription("response_type is missing: this provider serves response_type=code")
	case form.Get("response_type") != string(oidc.ResponseTypeCode):
		return &oidc.Error{ErrorType: "unsupported_response_type", Description: "only response_type=code is supported"}
	}
	return nil
}

// repeated names a parameter that appears more than once, "" if none does.
func repeated(form url.Values) string {
	var names []string
	for name, values := range form {
		if len(values) > 1 {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return slices.Min(names)
}

// authorizeReply is where and how the answer to an authorization request
// goes: the redirect URI, the state to echo (none when it was repeated:
// which one would be the client's?) and the response mode.
type authorizeReply struct {
	redirectURI string
	state       string
	mode        oidc.ResponseMode
}

func replyTo(form url.Values) authorizeReply {
	to := authorizeReply{redirectURI: form.Get("redirect_uri"), mode: oidc.ResponseMode(form.Get("response_mode"))}
	if len(form["state"]) == 1 {
		to.state = form.Get("state")
	}
	if len(form["response_mode"]) > 1 {
		to.mode = ""
	}
	return to
}

// replyError sends err to the client. An outage is not the client's
// problem to handle: it is a page that asks the visitor to retry.
func (p *Provider) replyError(w http.ResponseWriter, r *http.Request, to authorizeReply, err error) error {
	if code := waitroom.ErrorCode(err); code == waitroom.CodeUnavailable || code == waitroom.CodeCanceled {
		return err
	}
	e := oidc.DefaultToServerError(err, "internal error")
	if e.ErrorType == oidc.ServerError {
		p.log.ErrorContext(r.Context(), "authorize failed", "err", err)
		e = oidc.ErrServerError().WithDescription("internal error")
	}
	e.State = to.state
	return p.authorizeResponse(w, r, to, e)
}

// authorizeResponse sends resp (a code or an error) to the client's
// redirect URI: posted by a page for form_post; in the fragment when the
// client asked for it (encoded once: the library encodes a fragment
// twice); in the query otherwise (RFC 6749 §4.1.2).
func (p *Provider) authorizeResponse(w http.ResponseWriter, r *http.Request, to authorizeReply, resp any) error {
	if to.mode == oidc.ResponseModeFormPost {
		return p.formPost(w, to.redirectURI, resp)
	}
	params := map[string][]string{}
	if err := p.op.Encoder().Encode(resp, params); err != nil {
		return err
	}
	u, err := url.Parse(to.redirectURI)
	if err != nil {
		return err
	}
	var target string
	if to.mode == oidc.ResponseModeFragment {
		u.Fragment, u.RawFragment = "", ""
		target = u.String() + "#" + url.Values(params).Encode()
	} else {
		q := u.Query()
		for name, values := range params {
			for _, v := range values {
				q.Add(name, v)
			}
		}
		u.RawQuery = q.Encode()
		target = u.String()
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
	return nil
}
