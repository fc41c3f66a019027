package oidc

import (
	"net/http"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// discovery serves the OpenID configuration. It starts from the library's
// document and narrows it to what this provider serves: the code flow,
// two grants, two client authentication methods, S256 only.
func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	d := op.CreateDiscoveryConfig(r.Context(), p.op, p.storage)
	authMethods := []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost}
	d.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	d.ResponseModesSupported = []string{string(oidc.ResponseModeQuery), string(oidc.ResponseModeFormPost)}
	d.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
	d.SubjectTypesSupported = []string{"public", "pairwise"}
	d.TokenEndpointAuthMethodsSupported = authMethods
	d.RevocationEndpointAuthMethodsSupported = authMethods
	d.IntrospectionEndpointAuthMethodsSupported = authMethods
	d.TokenEndpointAuthSigningAlgValuesSupported = nil
	d.RevocationEndpointAuthSigningAlgValuesSupported = nil
	d.IntrospectionEndpointAuthSigningAlgValuesSupported = nil
	d.DeviceAuthorizationEndpoint = ""
	d.CheckSessionIframe = ""
	d.CodeChallengeMethodsSupported = []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256}
	d.ClaimsSupported = slices.Clone(supportedClaims)
	d.ScopesSupported = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess}
	d.RequestParameterSupported = false
	d.RequestURIParameterSupported = false
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeJSON(w, http.StatusOK, d)
}

// keys serves the JWKS: every key still needed to verify, each with kid,
// use and alg. Verifiers may cache it for a few minutes; a new key is
// published before it signs (waitroom.Keys).
func (p *Provider) keys(w http.ResponseWriter, r *http.Request) {
	set := p.cfg.Keys.JWKS()
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeJSON(w, http.StatusOK, set)
}

// authorize screens the request before the library handles it: an unknown
// client or an unregistered redirect_uri gets an error page (redirecting
// there would make the provider an open redirector).
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.renderError(w, r, http.StatusBadRequest, "oidc.bad_authorize.title", "oidc.unreadable")
		return
	}
	clientID, redirectURI := r.Form.Get("client_id"), r.Form.Get("redirect_uri")
	c, err := p.clients.get(r.Context(), clientID)
	if err != nil {
		if code := p.toOAuthError(r, err); code.status == http.StatusServiceUnavailable {
			p.writePageError(w, r, err)
			return
		}
		p.renderError(w, r, http.StatusBadRequest, "oidc.bad_authorize.title",
			"oidc.bad_authorize.client")
		return
	}
	if redirectURI == "" || !slices.Contains(c.RedirectURIs, redirectURI) {
		p.renderError(w, r, http.StatusBadRequest, "oidc.bad_authorize.title",
			"oidc.bad_authorize.redirect")
		return
	}
	op.Authorize(w, r, p.op)
}
