package oidc

import (
	"net/http"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// discovery serves the OpenID configuration. It starts from the library's
// document and narrows it to what this provider serves: the code flow,
// two grants, two client authentication methods, S256 only.
func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	d := op.CreateDiscoveryConfig(r.Context(), p.op, p.op.Storage())
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
	w.Header().Set("Access-Control-Allow-Origin", "*")
	web.JSON(w, http.StatusOK, web.MaxAge(5*time.Minute), d)
}

// keys serves the JWKS: every key still needed to verify, each with kid,
// use and alg. Verifiers may cache it for a few minutes; a new key is
// published before it signs (waitroom.Keys).
func (p *Provider) keys(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	web.JSON(w, http.StatusOK, web.MaxAge(5*time.Minute), p.cfg.Keys.JWKS())
}
