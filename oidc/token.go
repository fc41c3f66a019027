package oidc

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/waitroom-idp/waitroom/oidc/clients"
	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// oauthHandler serves h, answering its errors (the library's included) as
// OAuth 2 errors. A request that repeats a parameter is refused before h
// sees it (RFC 6749 §3.1, §3.2: none may appear twice, and which copy
// counts would be a guess).
func oauthHandler(h web.Handler) http.Handler {
	return web.OAuthHandler(func(w http.ResponseWriter, r *http.Request) error {
		if err := singleValued(r); err != nil {
			return oauth(err)
		}
		return oauth(h(w, r))
	})
}

// singleValued refuses a request whose query and form body together give
// a parameter twice.
func singleValued(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return oidc.ErrInvalidRequest().WithDescription("cannot parse the form")
	}
	if name := repeated(r.Form); name != "" {
		return oidc.ErrInvalidRequest().WithDescription("the parameter %s is given more than once", name)
	}
	return nil
}

// token is the token endpoint: authorization_code and refresh_token.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return oidc.ErrInvalidRequest().WithDescription("cannot parse the form")
	}
	switch grant := r.PostForm.Get("grant_type"); grant {
	case waitroom.GrantAuthorizationCode:
		return p.codeExchange(w, r)
	case waitroom.GrantRefreshToken:
		return p.refreshExchange(w, r)
	case "":
		return oidc.ErrInvalidRequest().WithDescription("grant_type missing")
	default:
		return oidc.ErrUnsupportedGrantType().WithDescription("grant_type %q is not supported", grant)
	}
}

// invalidClient is the answer to failed client authentication; a client
// that tried HTTP Basic is told to retry with it (RFC 6749 §5.2).
func invalidClient(desc string) *web.Problem {
	return &web.Problem{Status: http.StatusUnauthorized, Code: "invalid_client", OAuth: "invalid_client", Message: desc,
		Header: http.Header{"Www-Authenticate": {`Basic realm="waitroom"`}}}
}

// clientAuth authenticates the client by client_secret_basic or
// client_secret_post (not both at once). The check itself is the client
// registry's (constant time, same work for unknown ids).
func (p *Provider) clientAuth(r *http.Request) (waitroom.Client, error) {
	id, secret, basic := r.BasicAuth()
	if basic {
		if r.PostForm.Get("client_secret") != "" {
			return waitroom.Client{}, oidc.ErrInvalidRequest().WithDescription("use one client authentication method")
		}
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return waitroom.Client{}, invalidClient(clients.ErrInvalidCredentials.Error())
		}
		if formID := r.PostForm.Get("client_id"); formID != "" && formID != id {
			return waitroom.Client{}, invalidClient(clients.ErrInvalidCredentials.Error())
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" || secret == "" {
		return waitroom.Client{}, invalidClient("client authentication required")
	}
	c, err := p.clients.Authenticate(r.Context(), id, secret)
	if errors.Is(err, clients.ErrInvalidCredentials) {
		return c, invalidClient(err.Error())
	}
	return c, err
}

// codeExchange redeems a code. The client is authenticated first, then the
// code is consumed in one atomic step: of concurrent exchanges exactly one
// gets it, a replay revokes what the first one issued.
func (p *Provider) codeExchange(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := p.clientAuth(r)
	if err != nil {
		return err
	}
	code := r.PostForm.Get("code")
	if code == "" {
		return oidc.ErrInvalidRequest().WithDescription("code missing")
	}
	ar, codeID, err := p.grants.consumeCode(ctx, code)
	if err != nil {
		return err
	}
	if err := checkCodeRequest(r, c, ar); err != nil {
		return err
	}
	if ar.Grant == nil {
		return oidc.ErrInvalidGrant().WithDescription("invalid code")
	}
	// The grant's record comes first: the tokens about to be minted are
	// valid only while it exists.
	err = p.grants.rememberGrant(ctx, ar.Grant, codeID)
	var resp *oidc.AccessTokenResponse
	if err == nil {
		withRefresh := slices.Contains(ar.Scopes, oidc.ScopeOfflineAccess) && c.AllowsGrant(waitroom.GrantRefreshToken)
		resp, err = p.mint(r, ar.Grant, c, ar.Nonce, code, withRefresh)
	}
	if err != nil {
		if waitroom.ErrorCode(err) == waitroom.CodeUnavailable {
			p.grants.restoreCode(ctx, codeID, ar)
		}
		return err
	}
	return writeTokenResponse(w, resp)
}

// checkCodeRequest binds the code to its client, redirect_uri and PKCE
// verifier. Every mismatch is invalid_grant; the code stays consumed.
func checkCodeRequest(r *http.Request, c waitroom.Client, ar *authRequest) error {
	if ar.ClientID != c.ID {
		return oidc.ErrInvalidGrant().WithDescription("the code was issued to another client")
	}
	if r.PostForm.Get("redirect_uri") != ar.RedirectURI {
		return oidc.ErrInvalidGrant().WithDescription("redirect_uri does not match the authorization request")
	}
	verifier := r.PostForm.Get("code_verifier")
	if ar.CodeChallenge == "" {
		if verifier != "" {
			return oidc.ErrInvalidGrant().WithDescription("code_verifier sent for a request without code_challenge")
		}
		return nil
	}
	got := oidc.NewSHACodeChallenge(verifier)
	if verifier == "" || subtle.ConstantTimeCompare([]byte(got), []byte(ar.CodeChallenge)) != 1 {
		return oidc.ErrInvalidGrant().WithDescription("code_verifier does not match code_challenge")
	}
	return nil
}

// refreshExchange rotates a refresh token; refused once the admission has
// ended.
func (p *Provider) refreshExchange(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := p.clientAuth(r)
	if err != nil {
		return err
	}
	if !c.AllowsGrant(waitroom.GrantRefreshToken) {
		return oidc.ErrUnauthorizedClient().WithDescription("refresh_token is not allowed for this client")
	}
	token := r.PostForm.Get("refresh_token")
	if token == "" {
		return oidc.ErrInvalidRequest().WithDescription("refresh_token missing")
	}
	req, err := p.grants.refreshRequest(ctx, token, c.ID)
	if err != nil {
		return err
	}
	if scope := r.PostForm.Get("scope"); scope != "" {
		if err := op.ValidateRefreshTokenScopes(strings.Fields(scope), req); err != nil {
			return err
		}
	}
	// The grant's record holds its access tokens alive; put it back if
	// the Ephemeral store lost it (never over a revocation).
	if err := p.grants.restoreGrant(ctx, &req.grant); err != nil {
		return err
	}
	if err := p.grants.rotate(ctx, req.tokenID, req.grant); err != nil {
		return err
	}
	resp, err := p.mint(r, &req.grant, c, "", "", true)
	if err != nil {
		return err
	}
	return writeTokenResponse(w, resp)
}

func writeTokenResponse(w http.ResponseWriter, resp *oidc.AccessTokenResponse) error {
	w.Header().Set("Pragma", "no-cache")
	web.JSON(w, http.StatusOK, web.NoStore, resp)
	return nil
}

// bearerToken reads the access token from the Authorization header or, for
// POST, the form body (RFC 6750 §2.1, §2.2).
func bearerToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(token)
		}
		return ""
	}
	if r.Method == http.MethodPost && r.ParseForm() == nil {
		return r.PostForm.Get("access_token")
	}
	return ""
}

// userinfo answers GET and POST, token in the header or the body.
func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) error {
	token := bearerToken(r)
	if token == "" {
		return &web.Problem{Status: http.StatusUnauthorized, Code: "invalid_request", OAuth: "invalid_request",
			Message: "access token missing", Header: http.Header{"Www-Authenticate": {`Bearer realm="waitroom"`}}}
	}
	rec, err := p.grants.accessRecordOf(r.Context(), token)
	if waitroom.ErrorCode(err) == waitroom.CodeNotFound {
		return &web.Problem{Status: http.StatusUnauthorized, Code: "invalid_token", OAuth: "invalid_token",
			Message: "the access token is invalid or expired",
			Header:  http.Header{"Www-Authenticate": {`Bearer realm="waitroom", error="invalid_token"`}}}
	}
	if err != nil {
		return err
	}
	c, err := p.clients.Get(r.Context(), rec.Grant.ClientID)
	if err != nil {
		return err
	}
	// The profile marshals once (oidc.UserInfo merges extra claims by
	// marshalling, decoding into a map and marshalling again).
	profile, extra := newProfile(&rec.Grant, c)
	body, err := marshalProfile(profile, extra, &rec.Grant, c)
	if err != nil {
		return waitroom.Wrap(waitroom.CodeInternal, err, "encode userinfo")
	}
	web.RawJSON(w, http.StatusOK, web.NoStore, body)
	return nil
}

// introspect (RFC 7662) lets the site's own APIs check an access token.
// The caller authenticates as a client; a token of another client is
// reported inactive.
func (p *Provider) introspect(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return oidc.ErrInvalidRequest().WithDescription("cannot parse the form")
	}
	c, err := p.clientAuth(r)
	if err != nil {
		return err
	}
	resp := new(oidc.IntrospectionResponse)
	rec, err := p.grants.accessRecordOf(r.Context(), r.PostForm.Get("token"))
	if err != nil && waitroom.ErrorCode(err) != waitroom.CodeNotFound {
		return err
	}
	if err == nil && rec.Grant.ClientID == c.ID {
		fillIntrospection(resp, rec, p.cfg.Issuer)
	}
	web.JSON(w, http.StatusOK, web.NoStore, resp)
	return nil
}

// revoke (RFC 7009) revokes the grant of an access or refresh token and
// completes the visitor's session. Unknown tokens answer 200.
func (p *Provider) revoke(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return oidc.ErrInvalidRequest().WithDescription("cannot parse the form")
	}
	c, err := p.clientAuth(r)
	if err != nil {
		return err
	}
	token := r.PostForm.Get("token")
	if token == "" {
		return oidc.ErrInvalidRequest().WithDescription("token missing")
	}
	if err := p.grants.revokeToken(r.Context(), token, c.ID); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", web.NoStore)
	w.WriteHeader(http.StatusOK)
	return nil
}
