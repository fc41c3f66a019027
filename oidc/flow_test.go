package oidc_test

import (
	"net/http"
	"net/url"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// backends lists the backends the whole-flow tests run on.
func backends(t *testing.T) []backend {
	return []backend{embeddedBackend(), redispgBackend()}
}

// waitroomClaims is what both libraries read from the ID token.
type waitroomClaims struct {
	Sub        string `json:"sub"`
	Room       string `json:"room"`
	Position   int64  `json:"queue_position"`
	QueuedAt   int64  `json:"queued_at"`
	AdmittedAt int64  `json:"admitted_at"`
	AuthTime   int64  `json:"auth_time"`
	Username   string `json:"preferred_username"`
	SID        string `json:"sid"`
}

// TestFlowGoOIDC runs the whole browser flow driven by go-oidc and
// x/oauth2: discovery, authorize, room, admission, callback, token, ID
// token verification, userinfo, refresh, logout.
func TestFlowGoOIDC(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			for _, prefix := range []string{"", "/idp"} {
				e := newEnv(t, withBackend(be), withPrefix(prefix))
				runGoOIDCFlow(t, e)
			}
			// ES256, with JWT access tokens (the default is opaque)
			jwt := testClient("rp1")
			jwt.AccessTokenFormat = waitroom.TokenFormatJWT
			es := newEnv(t, withBackend(be), withClients(jwt), func(c *envConfig) { c.alg = "ES256" })
			runGoOIDCFlow(t, es)
		})
	}
}

func runGoOIDCFlow(t *testing.T, e *env) {
	ctx := e.ctx
	provider, err := gooidc.NewProvider(ctx, e.issuer)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: "rp1", ClientSecret: "rp1-secret-0123456789", RedirectURL: rpRedirect,
		Endpoint: provider.Endpoint(), Scopes: []string{gooidc.ScopeOpenID, "profile", gooidc.ScopeOfflineAccess}}
	verifier := oauth2.GenerateVerifier()
	state, nonce := randomString(), randomString()
	authURL := conf.AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))

	b := e.browser()
	p := b.get(authURL)
	if p.status != http.StatusOK || p.location != nil {
		t.Fatalf("want the room page, got %d %v", p.status, p.location)
	}
	again := b.get(p.url.String()) // a reload keeps the place
	if again.status != http.StatusOK {
		t.Fatalf("reload: %d", again.status)
	}
	if q, _ := e.svc.Counters(ctx, room1); q.Queue != 1 {
		t.Fatalf("queue = %d after a reload, want 1", q.Queue)
	}
	if _, err := e.svc.AdvanceServing(ctx, room1, 1); err != nil {
		t.Fatal(err)
	}
	p = b.get(p.url.String())
	if p.location == nil || p.location.Query().Get("state") != state {
		t.Fatalf("want a redirect with state, got %d %v", p.status, p.location)
	}
	tok, err := conf.Exchange(ctx, p.location.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&gooidc.Config{ClientID: "rp1"}).Verify(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	if idt.Nonce != nonce {
		t.Fatalf("nonce %q, want %q", idt.Nonce, nonce)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Fatalf("at_hash: %v", err)
	}
	var claims waitroomClaims
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Room != room1 || claims.Position != 1 || claims.AdmittedAt == 0 || claims.QueuedAt == 0 || claims.AuthTime != claims.AdmittedAt || claims.SID == "" {
		t.Fatalf("claims: %+v", claims)
	}
	if c, _ := e.svc.Counters(ctx, room1); c.Tokens != 1 {
		t.Fatalf("tokens counter %d, want 1", c.Tokens)
	}

	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	var uic waitroomClaims
	if err := ui.Claims(&uic); err != nil {
		t.Fatal(err)
	}
	if ui.Subject != idt.Subject || uic.Room != room1 || uic.Username == "" {
		t.Fatalf("userinfo %+v, id token sub %s", uic, idt.Subject)
	}

	if tok.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	refreshed, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatal(err)
	}
	if refreshed.AccessToken == tok.AccessToken || refreshed.RefreshToken == tok.RefreshToken {
		t.Fatal("refresh did not rotate")
	}

	// RP-initiated logout with id_token_hint and a registered URI.
	logout := e.issuer + "/end_session?" + url.Values{"id_token_hint": {raw},
		"post_logout_redirect_uri": {rpLogout}, "state": {"bye-state"}}.Encode()
	p = b.get(logout)
	if p.location == nil || p.location.Host != "rp.test" || p.location.Query().Get("state") != "bye-state" {
		t.Fatalf("logout: %d %v %s", p.status, p.location, p.body)
	}
	if c, _ := e.svc.Counters(ctx, room1); c.Completed != 1 {
		t.Fatalf("completed counter %d, want 1", c.Completed)
	}
	if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(refreshed)); err == nil {
		t.Fatal("userinfo works after logout")
	}
}

// TestFlowZitadelRP runs the same flow with zitadel's relying-party
// package, secret sent in the POST body (client_secret_post).
func TestFlowZitadelRP(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, withBackend(be))
			ctx := e.ctx
			party, err := rp.NewRelyingPartyOIDC(ctx, e.issuer, "rp2", "rp2-secret-0123456789", rpRedirect,
				[]string{zoidc.ScopeOpenID, zoidc.ScopeOfflineAccess}, rp.WithAuthStyle(oauth2.AuthStyleInParams))
			if err != nil {
				t.Fatal(err)
			}
			verifier, challenge := pkce()
			authURL := rp.AuthURL("st-1", party, rp.WithCodeChallenge(challenge))
			b := e.browser()
			p := b.get(authURL)
			e.admitAll()
			p = b.get(p.url.String())
			if p.location == nil {
				t.Fatalf("no redirect: %d %s", p.status, p.body)
			}
			tokens, err := rp.CodeExchange[*zoidc.IDTokenClaims](ctx, p.location.Query().Get("code"), party, rp.WithCodeVerifier(verifier))
			if err != nil {
				t.Fatal(err)
			}
			if tokens.IDTokenClaims.Claims["room"] != room1 {
				t.Fatalf("room claim: %v", tokens.IDTokenClaims.Claims)
			}
			info, err := rp.Userinfo[*zoidc.UserInfo](ctx, tokens.AccessToken, tokens.TokenType, tokens.IDTokenClaims.Subject, party)
			if err != nil {
				t.Fatal(err)
			}
			if info.Subject != tokens.IDTokenClaims.Subject {
				t.Fatalf("userinfo sub %q != id token sub %q", info.Subject, tokens.IDTokenClaims.Subject)
			}
			newTokens, err := rp.RefreshTokens[*zoidc.IDTokenClaims](ctx, party, tokens.RefreshToken, "", "")
			if err != nil {
				t.Fatal(err)
			}
			if newTokens.RefreshToken == "" || newTokens.RefreshToken == tokens.RefreshToken {
				t.Fatal("refresh did not rotate")
			}
			end, err := rp.EndSession(ctx, party, tokens.IDToken, rpLogout, "st-2", "", nil)
			if err != nil {
				t.Fatal(err)
			}
			// The library calls end_session itself and returns where it
			// redirects: no browser cookies, so only the login's tokens end.
			if end.Host != "rp.test" || end.Query().Get("state") != "st-2" {
				t.Fatalf("logout redirect: %v", end)
			}
			if _, err := rp.RefreshTokens[*zoidc.IDTokenClaims](ctx, party, newTokens.RefreshToken, "", ""); err == nil {
				t.Fatal("refresh works after logout")
			}
			if c, _ := e.svc.Counters(ctx, room1); c.Completed != 1 {
				t.Fatalf("back-channel logout did not complete the session: %+v", c)
			}
		})
	}
}
