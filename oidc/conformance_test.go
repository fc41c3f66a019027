package oidc_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// Tests named after the conformance-style assertions of
// docs: oidc-reference.md (OpenID Foundation Basic/Config OP plans).

// answer is a JSON endpoint's answer.
type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func (a answer) str(k string) string { s, _ := a.body[k].(string); return s }

func (e *env) call(method, path string, form url.Values, mod func(*http.Request)) answer {
	e.t.Helper()
	var body *strings.Reader
	target := e.issuer + path
	if method == http.MethodGet && form != nil {
		target += "?" + form.Encode()
		form = nil
	}
	body = strings.NewReader(form.Encode())
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if mod != nil {
		mod(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, header: resp.Header, body: map[string]any{}}
	_ = json.NewDecoder(resp.Body).Decode(&a.body)
	return a
}

func basic(id, secret string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(id, secret) }
}

func bearer(token string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

// exchange redeems a code with client_secret_basic.
func (e *env) exchange(clientID, code, redirect, verifier string) answer {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	return e.call(http.MethodPost, "/oauth/token", form, basic(clientID, clientID+"-secret-0123456789"))
}

func wantOAuthError(t *testing.T, a answer, status int, code string) {
	t.Helper()
	if a.status != status || a.str("error") != code {
		t.Fatalf("got %d %v, want %d %s", a.status, a.body, status, code)
	}
}

func TestDiscoveryAndJWKS(t *testing.T) {
	for _, prefix := range []string{"", "/idp"} {
		e := newEnv(t, withPrefix(prefix))
		d := e.call(http.MethodGet, "/.well-known/openid-configuration", nil, nil)
		if d.status != 200 || d.str("issuer") != e.issuer || strings.HasSuffix(d.str("issuer"), "/") {
			t.Fatalf("issuer %q, want %q", d.str("issuer"), e.issuer)
		}
		for _, k := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
			"revocation_endpoint", "introspection_endpoint", "end_session_endpoint"} {
			if !strings.HasPrefix(d.str(k), e.issuer+"/") {
				t.Errorf("%s = %q, not absolute under the issuer", k, d.str(k))
			}
		}
		list := func(k string) []string {
			var out []string
			for _, v := range d.body[k].([]any) {
				out = append(out, v.(string))
			}
			return out
		}
		if !slices.Contains(list("id_token_signing_alg_values_supported"), "RS256") ||
			!slices.Equal(list("response_types_supported"), []string{"code"}) ||
			!slices.Equal(list("code_challenge_methods_supported"), []string{"S256"}) ||
			!slices.Contains(list("token_endpoint_auth_methods_supported"), "client_secret_basic") ||
			!slices.Contains(list("token_endpoint_auth_methods_supported"), "client_secret_post") {
			t.Fatalf("discovery: %v", d.body)
		}
		resp, err := http.Get(d.str("jwks_uri"))
		if err != nil {
			t.Fatal(err)
		}
		var set jose.JSONWebKeySet
		_ = json.NewDecoder(resp.Body).Decode(&set)
		resp.Body.Close()
		if resp.Header.Get("Cache-Control") == "" || len(set.Keys) == 0 {
			t.Fatalf("jwks: cache-control %q, %d keys", resp.Header.Get("Cache-Control"), len(set.Keys))
		}
		kids := map[string]bool{}
		for _, k := range set.Keys {
			if k.KeyID == "" || k.Use != "sig" || k.Algorithm == "" || kids[k.KeyID] {
				t.Fatalf("jwk %+v", k)
			}
			kids[k.KeyID] = true
		}
	}
}

func TestAuthorizeBadClientOrRedirectShowsPage(t *testing.T) {
	e := newEnv(t)
	for name, v := range map[string]url.Values{
		"unregistered redirect_uri": {"client_id": {"rp1"}, "redirect_uri": {"https://evil.test/cb"}, "response_type": {"code"}, "scope": {"openid"}},
		"missing redirect_uri":      {"client_id": {"rp1"}, "response_type": {"code"}, "scope": {"openid"}},
		"unknown client":            {"client_id": {"nobody"}, "redirect_uri": {rpRedirect}, "response_type": {"code"}, "scope": {"openid"}},
		"redirect_uri with extra":   {"client_id": {"rp1"}, "redirect_uri": {rpRedirect + "?x=1"}, "response_type": {"code"}, "scope": {"openid"}},
	} {
		p := e.browser().get(e.authorizeURL(v))
		if p.status != http.StatusBadRequest || p.location != nil || !strings.Contains(p.header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d location=%v", name, p.status, p.location)
		}
	}
}

func TestAuthorizeErrorsRedirect(t *testing.T) {
	e := newEnv(t)
	cases := map[string]struct {
		mod  func(url.Values)
		want string
	}{
		"missing response_type": {func(v url.Values) { v.Del("response_type") }, "invalid_request"},
		"pkce plain": {func(v url.Values) {
			v.Set("code_challenge", strings.Repeat("a", 43))
			v.Set("code_challenge_method", "plain")
		}, "invalid_request"},
		"pkce no method": {func(v url.Values) { v.Set("code_challenge", strings.Repeat("a", 43)) }, "invalid_request"},
		"missing scope":  {func(v url.Values) { v.Del("scope") }, "invalid_request"},
	}
	for name, c := range cases {
		v := authParams("rp1", rpRedirect)
		c.mod(v)
		p := e.browser().get(e.authorizeURL(v))
		if p.location == nil || p.location.Query().Get("error") != c.want || p.location.Query().Get("state") != v.Get("state") {
			t.Errorf("%s: %d %v", name, p.status, p.location)
		}
		if p.location != nil && p.location.Query().Get("code") != "" {
			t.Errorf("%s: a code with an error", name)
		}
	}
}

func TestAuthorizeStateEchoedAndCodeLength(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for _, state := range []string{"s p/a+c=e&é", ""} {
		v := authParams("rp1", rpRedirect)
		if state == "" {
			v.Del("state")
		} else {
			v.Set("state", state)
		}
		v.Set("unknown_param", "ignored")
		v.Set("scope", "offline_access profile openid") // order is irrelevant
		loc := e.login(b, v)
		if _, has := loc.Query()["state"]; loc.Query().Get("state") != state || (state == "" && has) {
			t.Fatalf("state %q echoed as %v", state, loc.Query()["state"])
		}
		if code := loc.Query().Get("code"); len(code) < 43 {
			t.Fatalf("code %q is shorter than 256 bits", code)
		}
	}
}

func TestAuthorizePOST(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.admitAll()
	_, _ = e.svc.AdvanceServing(e.ctx, room1, 5)
	v := authParams("rp1", rpRedirect)
	p := b.post(e.issuer+"/authorize", v)
	if p.location == nil || p.location.Query().Get("code") == "" {
		t.Fatalf("POST /authorize: %d %v", p.status, p.location)
	}
}

func TestFormPost(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	v := authParams("rp1", rpRedirect)
	v.Set("response_mode", "form_post")
	p := b.get(e.authorizeURL(v))
	e.admitAll()
	p = b.get(p.url.String())
	if p.status != 200 || p.header.Get("Cache-Control") != "no-store" || !strings.Contains(p.body, `action="`+rpRedirect+`"`) ||
		!strings.Contains(p.body, `name="code"`) || !strings.Contains(p.body, v.Get("state")) {
		t.Fatalf("form_post: %d %q %s", p.status, p.header.Get("Cache-Control"), p.body)
	}
}

func TestRedirectURIWithQueryStringRoundTrips(t *testing.T) {
	e := newEnv(t)
	v := authParams("rp1", wpRedirect)
	v.Del("nonce") // WordPress sends neither nonce nor PKCE
	loc := e.login(e.browser(), v)
	if loc.Query().Get("action") != "openid-connect-authorize" || loc.Path != "/wp-admin/admin-ajax.php" {
		t.Fatalf("redirect %s lost the query string", loc)
	}
	// WordPress posts the secret in the body and adds a scope.
	a := e.call(http.MethodPost, "/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {wpRedirect}, "client_id": {"rp1"}, "client_secret": {"rp1-secret-0123456789"}, "scope": {"openid email"}}, nil)
	if a.status != 200 || a.str("id_token") == "" {
		t.Fatalf("token: %d %v", a.status, a.body)
	}
	if nonce := idTokenClaims(t, a.str("id_token"))["nonce"]; nonce != nil {
		t.Fatalf("nonce %v in an ID token of a request without nonce", nonce)
	}
}

func TestPromptNone(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	v := authParams("rp1", rpRedirect)
	v.Set("prompt", "none")
	p := b.get(e.authorizeURL(v))
	if p.location == nil || p.location.Query().Get("error") != "login_required" || p.location.Query().Get("code") != "" ||
		p.location.Query().Get("state") != v.Get("state") {
		t.Fatalf("prompt=none without admission: %v", p.location)
	}
	if c, _ := e.svc.Counters(e.ctx, room1); c.Queue != 0 {
		t.Fatal("prompt=none enqueued the browser")
	}
	e.code(b, authParams("rp1", rpRedirect)) // admitted once
	v = authParams("rp2", rpRedirect)        // another client of the same room
	v.Set("prompt", "none")
	p = b.get(e.authorizeURL(v))
	if p.location == nil || p.location.Query().Get("code") == "" {
		t.Fatalf("prompt=none with admission: %d %v", p.status, p.location)
	}
}

func TestTokenClientAuthentication(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	// client_secret_basic
	a := e.exchange("rp1", e.code(b, authParams("rp1", rpRedirect)), rpRedirect, "")
	if a.status != 200 || a.str("token_type") != "Bearer" || a.body["expires_in"] == nil || a.str("id_token") == "" ||
		a.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("basic: %d %v %v", a.status, a.body, a.header)
	}
	// client_secret_post
	code := e.code(b, authParams("rp1", rpRedirect))
	a = e.call(http.MethodPost, "/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {rpRedirect}, "client_id": {"rp1"}, "client_secret": {"rp1-secret-0123456789"}}, nil)
	if a.status != 200 || a.str("token_type") != "Bearer" {
		t.Fatalf("post: %d %v", a.status, a.body)
	}
	// wrong secret, both ways
	code = e.code(b, authParams("rp1", rpRedirect))
	a = e.call(http.MethodPost, "/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {rpRedirect}}, basic("rp1", "wrong-secret-0123456789"))
	wantOAuthError(t, a, 401, "invalid_client")
	if a.header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 to Basic without WWW-Authenticate")
	}
	a = e.call(http.MethodPost, "/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {rpRedirect}, "client_id": {"rp1"}, "client_secret": {"wrong"}}, nil)
	wantOAuthError(t, a, 401, "invalid_client")
	// the code survives a failed client authentication
	if a := e.exchange("rp1", code, rpRedirect, ""); a.status != 200 {
		t.Fatalf("code lost after a bad secret: %d %v", a.status, a.body)
	}
	// unknown grant
	a = e.call(http.MethodPost, "/oauth/token", url.Values{"grant_type": {"password"}}, basic("rp1", "rp1-secret-0123456789"))
	wantOAuthError(t, a, 400, "unsupported_grant_type")
}

func TestCodeReuseRevokesFirstTokens(t *testing.T) {
	e := newEnv(t)
	code := e.code(e.browser(), authParams("rp1", rpRedirect))
	first := e.exchange("rp1", code, rpRedirect, "")
	if first.status != 200 {
		t.Fatalf("first: %d %v", first.status, first.body)
	}
	wantOAuthError(t, e.exchange("rp1", code, rpRedirect, ""), 400, "invalid_grant")
	ui := e.call(http.MethodGet, "/userinfo", nil, bearer(first.str("access_token")))
	if ui.status != 401 {
		t.Fatalf("access token of the first use still works: %d", ui.status)
	}
	r := e.call(http.MethodPost, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.str("refresh_token")}},
		basic("rp1", "rp1-secret-0123456789"))
	wantOAuthError(t, r, 400, "invalid_grant")
}

func TestConcurrentCodeExchangeExactlyOneWins(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, withBackend(be))
			code := e.code(e.browser(), authParams("rp1", rpRedirect))
			const n = 12
			var wg sync.WaitGroup
			statuses := make([]int, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					statuses[i] = e.exchange("rp1", code, rpRedirect, "").status
				}()
			}
			wg.Wait()
			wins := 0
			for _, s := range statuses {
				if s == 200 {
					wins++
				} else if s != 400 {
					t.Errorf("status %d", s)
				}
			}
			if wins != 1 {
				t.Fatalf("%d exchanges won (%v), want exactly 1", wins, statuses)
			}
			if c, _ := e.svc.Counters(e.ctx, room1); c.Tokens != 1 {
				t.Fatalf("tokens counter %d", c.Tokens)
			}
		})
	}
}

func TestCodeBindings(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	verifier, challenge := pkce()
	withPKCE := func() url.Values {
		v := authParams("rp1", rpRedirect)
		v.Set("code_challenge", challenge)
		v.Set("code_challenge_method", "S256")
		return v
	}
	wantOAuthError(t, e.exchange("rp1", e.code(b, withPKCE()), rpRedirect, "wrong-verifier-"+verifier), 400, "invalid_grant")
	wantOAuthError(t, e.exchange("rp1", e.code(b, withPKCE()), rpRedirect, ""), 400, "invalid_grant")
	wantOAuthError(t, e.exchange("rp1", e.code(b, withPKCE()), wpRedirect, verifier), 400, "invalid_grant")
	wantOAuthError(t, e.exchange("rp2", e.code(b, withPKCE()), rpRedirect, verifier), 400, "invalid_grant")
	if a := e.exchange("rp1", e.code(b, withPKCE()), rpRedirect, verifier); a.status != 200 {
		t.Fatalf("good verifier: %d %v", a.status, a.body)
	}
}

func TestExpiredCode(t *testing.T) {
	e := newEnv(t, startingAt(-5*time.Minute))
	code := e.code(e.browser(), authParams("rp1", rpRedirect))
	e.clock.Advance(61 * time.Second)
	wantOAuthError(t, e.exchange("rp1", code, rpRedirect, ""), 400, "invalid_grant")
}

func TestIDTokenClaims(t *testing.T) {
	e := newEnv(t)
	v := authParams("rp1", rpRedirect)
	a := e.exchange("rp1", e.code(e.browser(), v), rpRedirect, "")
	c := idTokenClaims(t, a.str("id_token"))
	now := float64(time.Now().Unix())
	sub, _ := c["sub"].(string)
	aud, _ := c["aud"].([]any)
	if c["iss"] != e.issuer || len(aud) == 0 || aud[0] != "rp1" || c["azp"] != "rp1" || c["nonce"] != v.Get("nonce") ||
		sub == "" || len(sub) > 255 || c["auth_time"] == nil || c["at_hash"] == nil ||
		c["exp"].(float64) <= now || c["iat"].(float64) < now-300 || c["iat"].(float64) > now+300 ||
		c["room"] != room1 || c["queue_position"] != float64(1) || c["queued_at"] == nil || c["admitted_at"] == nil {
		t.Fatalf("id token claims: %v", c)
	}
}

// idTokenClaims reads an ID token's payload (signature checked by the
// library-driven flow tests).
func idTokenClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	_ = json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c)
	return c
}

func TestUserinfoMethods(t *testing.T) {
	e := newEnv(t)
	a := e.exchange("rp1", e.code(e.browser(), authParams("rp1", rpRedirect)), rpRedirect, "")
	at, sub := a.str("access_token"), idTokenClaims(t, a.str("id_token"))["sub"]
	if strings.Contains(at, ".") {
		t.Fatalf("the default access token is not opaque: %s", at)
	}
	for name, ans := range map[string]answer{
		"GET bearer":  e.call(http.MethodGet, "/userinfo", nil, bearer(at)),
		"POST bearer": e.call(http.MethodPost, "/userinfo", url.Values{}, bearer(at)),
		"POST body":   e.call(http.MethodPost, "/userinfo", url.Values{"access_token": {at}}, nil),
	} {
		if ans.status != 200 || ans.body["sub"] != sub || ans.str("room") != room1 || !strings.HasPrefix(ans.str("preferred_username"), "visitor-") ||
			!strings.HasSuffix(ans.str("email"), "@visitors.invalid") {
			t.Errorf("%s: %d %v", name, ans.status, ans.body)
		}
	}
	bad := e.call(http.MethodGet, "/userinfo", nil, bearer("not-a-token"))
	if bad.status != 401 || !strings.Contains(bad.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("bad token: %d %q", bad.status, bad.header.Get("WWW-Authenticate"))
	}
	none := e.call(http.MethodGet, "/userinfo", nil, nil)
	if none.status != 401 || none.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("no token: %d %q", none.status, none.header.Get("WWW-Authenticate"))
	}
}

func TestOpaqueAccessTokenAndIntrospection(t *testing.T) {
	c := testClient("opaque")
	c.AccessTokenFormat = waitroom.TokenFormatOpaque
	e := newEnv(t, withClients(c, testClient("rp1")))
	a := e.exchange("opaque", e.code(e.browser(), authParams("opaque", rpRedirect)), rpRedirect, "")
	at := a.str("access_token")
	if strings.Count(at, ".") == 2 && !strings.HasPrefix(at, "ey") {
		t.Fatalf("opaque token looks like a JWT: %s", at)
	}
	if ui := e.call(http.MethodGet, "/userinfo", nil, bearer(at)); ui.status != 200 {
		t.Fatalf("userinfo with opaque token: %d", ui.status)
	}
	in := e.call(http.MethodPost, "/oauth/introspect", url.Values{"token": {at}}, basic("opaque", "opaque-secret-0123456789"))
	if in.body["active"] != true || in.str("client_id") != "opaque" || in.str("room") != room1 {
		t.Fatalf("introspection: %v", in.body)
	}
	other := e.call(http.MethodPost, "/oauth/introspect", url.Values{"token": {at}}, basic("rp1", "rp1-secret-0123456789"))
	if other.body["active"] != false {
		t.Fatalf("another client sees the token: %v", other.body)
	}
}

func TestRefreshRules(t *testing.T) {
	noRefresh := testClient("norefresh")
	noRefresh.GrantTypes = []string{waitroom.GrantAuthorizationCode}
	e := newEnv(t, withClients(testClient("rp1"), testClient("rp2"), noRefresh))
	b := e.browser()
	if a := e.exchange("norefresh", e.code(b, authParams("norefresh", rpRedirect)), rpRedirect, ""); a.str("refresh_token") != "" {
		t.Fatal("refresh token for a client without the grant")
	}
	a := e.exchange("rp1", e.code(b, authParams("rp1", rpRedirect)), rpRedirect, "")
	rt := a.str("refresh_token")
	refresh := func(id, token string) answer {
		return e.call(http.MethodPost, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}},
			basic(id, id+"-secret-0123456789"))
	}
	wantOAuthError(t, refresh("norefresh", rt), 400, "unauthorized_client")
	wantOAuthError(t, refresh("rp2", rt), 400, "invalid_grant")
	next := refresh("rp1", rt)
	if next.status != 200 || next.str("refresh_token") == "" {
		t.Fatalf("refresh: %d %v", next.status, next.body)
	}
	// once the admission ends (session completed by the site), refresh stops
	sub := idTokenClaims(t, a.str("id_token"))
	_ = sub
	tc := ticketOf(t, e, b)
	if err := e.svc.UpdateSession(e.ctx, room1, tc, waitroom.SessionCompleted); err != nil {
		t.Fatal(err)
	}
	wantOAuthError(t, refresh("rp1", next.str("refresh_token")), 400, "invalid_grant")
}

// TestRefreshReuseRevokesTheGrant: a rotated refresh token presented
// again revokes its whole grant (RFC 9700 §4.14.2): the token the rotation
// issued stops working, and so do the grant's access tokens. Another
// client presenting it revokes nothing.
func TestRefreshReuseRevokesTheGrant(t *testing.T) {
	e := newEnv(t, withClients(testClient("rp1"), testClient("rp2")))
	b := e.browser()
	a := e.exchange("rp1", e.code(b, authParams("rp1", rpRedirect)), rpRedirect, "")
	refresh := func(id, token string) answer {
		return e.call(http.MethodPost, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}},
			basic(id, id+"-secret-0123456789"))
	}
	next := refresh("rp1", a.str("refresh_token"))
	if next.status != 200 || next.str("refresh_token") == "" {
		t.Fatalf("refresh: %d %v", next.status, next.body)
	}
	wantOAuthError(t, refresh("rp2", a.str("refresh_token")), 400, "invalid_grant")
	if u := e.call(http.MethodGet, "/userinfo", nil, bearer(next.str("access_token"))); u.status != 200 {
		t.Fatalf("another client's replay revoked the grant: userinfo %d", u.status)
	}
	reuse := refresh("rp1", a.str("refresh_token"))
	wantOAuthError(t, reuse, 400, "invalid_grant")
	if d := reuse.str("error_description"); !strings.Contains(d, "revoked") {
		t.Fatalf("reuse: description %q does not say the grant is revoked", d)
	}
	wantOAuthError(t, refresh("rp1", next.str("refresh_token")), 400, "invalid_grant")
	for _, token := range []string{a.str("access_token"), next.str("access_token")} {
		if u := e.call(http.MethodGet, "/userinfo", nil, bearer(token)); u.status != http.StatusUnauthorized {
			t.Fatalf("userinfo after the reuse: %d, want 401", u.status)
		}
	}
}

// ticketOf returns the ticket id the browser holds in room1.
func ticketOf(t *testing.T, e *env, b *browser) string {
	t.Helper()
	u, _ := url.Parse(e.issuer + "/")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "wr_a_"+room1 {
			return readCookieTicket(t, c.Value)
		}
	}
	t.Fatal("no admission cookie")
	return ""
}

// TestReturnAfterAdmissionEnded: a browser whose admission expired (the
// site's session outlived it) is told so and may join again; no code is
// issued for a dead admission.
func TestReturnAfterAdmissionEnded(t *testing.T) {
	e := newEnv(t, startingAt(-3*time.Hour))
	b := e.browser()
	e.code(b, authParams("rp1", rpRedirect))
	e.clock.Advance(waitroom.DefaultTokenValidity + time.Minute)
	p := b.get(e.authorizeURL(authParams("rp1", rpRedirect)))
	if p.status != http.StatusGone || p.location != nil || !strings.Contains(p.body, "/rejoin") {
		t.Fatalf("want the expired page, got %d %v", p.status, p.location)
	}
	i := strings.Index(p.body, `action="`) + len(`action="`)
	p = b.post(e.srv.URL+p.body[i:i+strings.Index(p.body[i:], `"`)], url.Values{})
	if p.status != 200 || !strings.Contains(p.body, "You are in line") {
		t.Fatalf("rejoin: %d", p.status)
	}
	if c, _ := e.svc.Counters(e.ctx, room1); c.Queue != 2 {
		t.Fatalf("queue %d after rejoining, want 2", c.Queue)
	}
	e.admitAll()
	p = b.get(p.url.String())
	if p.location == nil || p.location.Query().Get("code") == "" {
		t.Fatalf("after rejoining: %d %v", p.status, p.location)
	}
}

func TestRefreshRefusedAfterAdmissionExpires(t *testing.T) {
	e := newEnv(t, startingAt(-2*time.Hour))
	a := e.exchange("rp1", e.code(e.browser(), authParams("rp1", rpRedirect)), rpRedirect, "")
	e.clock.Advance(waitroom.DefaultTokenValidity + time.Minute)
	r := e.call(http.MethodPost, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {a.str("refresh_token")}},
		basic("rp1", "rp1-secret-0123456789"))
	wantOAuthError(t, r, 400, "invalid_grant")
}

func TestRevocation(t *testing.T) {
	e := newEnv(t)
	auth := basic("rp1", "rp1-secret-0123456789")
	if a := e.call(http.MethodPost, "/revoke", url.Values{"token": {"unknown"}}, auth); a.status != 200 {
		t.Fatalf("unknown token: %d", a.status)
	}
	if a := e.call(http.MethodPost, "/revoke", url.Values{"token": {"x"}}, basic("rp1", "bad")); a.status != 401 {
		t.Fatalf("bad client: %d", a.status)
	}
	a := e.exchange("rp1", e.code(e.browser(), authParams("rp1", rpRedirect)), rpRedirect, "")
	if r := e.call(http.MethodPost, "/revoke", url.Values{"token": {a.str("refresh_token")}}, auth); r.status != 200 {
		t.Fatalf("revoke: %d", r.status)
	}
	if ui := e.call(http.MethodGet, "/userinfo", nil, bearer(a.str("access_token"))); ui.status != 401 {
		t.Fatalf("access token alive after revoking its grant: %d", ui.status)
	}
	if c, _ := e.svc.Counters(e.ctx, room1); c.Completed != 1 {
		t.Fatalf("revocation did not complete the session: %+v", c)
	}
}

func TestMaxHoldRestartsLoginAtInitiateLoginURI(t *testing.T) {
	wp := testClient("wp")
	wp.MaxHold = waitroom.Duration(180 * time.Second)
	wp.InitiateLoginURI = rpInitiate
	e := newEnv(t, withClients(wp), startingAt(-10*time.Minute))
	b := e.browser()
	v := authParams("wp", wpRedirect)
	p := b.get(e.authorizeURL(v))
	if p.status != 200 {
		t.Fatalf("room page: %d", p.status)
	}
	e.clock.Advance(10 * time.Minute) // a long wait: the RP forgot its state
	e.admitAll()
	p = b.get(p.url.String())
	if p.location == nil || !strings.HasPrefix(p.location.String(), rpInitiate) || p.location.Query().Get("iss") != e.issuer {
		t.Fatalf("want the initiate_login_uri, got %d %v", p.status, p.location)
	}
	// The RP starts a fresh login: it completes at once on the admission.
	fresh := authParams("wp", wpRedirect)
	p = b.get(e.authorizeURL(fresh))
	if p.location == nil || p.location.Query().Get("code") == "" || p.location.Query().Get("state") != fresh.Get("state") {
		t.Fatalf("fresh login: %d %v", p.status, p.location)
	}
	if a := e.exchange("wp", p.location.Query().Get("code"), wpRedirect, ""); a.status != 200 {
		t.Fatalf("exchange: %d %v", a.status, a.body)
	}
}

func TestSubjectPolicies(t *testing.T) {
	pw := testClient("pw")
	pw.Subject = waitroom.SubjectPairwise
	e := newEnv(t, withClients(pw, testClient("rp1")))
	sub := func(b *browser, id string) string {
		a := e.exchange(id, e.code(b, authParams(id, rpRedirect)), rpRedirect, "")
		return idTokenClaims(t, a.str("id_token"))["sub"].(string)
	}
	b1, b2 := e.browser(), e.browser()
	p1 := sub(b1, "pw")
	if again := sub(b1, "pw"); again != p1 {
		t.Fatal("pairwise sub changed for the same browser")
	}
	if other := sub(b2, "pw"); other == p1 {
		t.Fatal("pairwise sub shared by two browsers")
	}
	if ticket := sub(b1, "rp1"); ticket == p1 {
		t.Fatal("ticket sub equals the pairwise sub")
	}
}

func TestMaxAgeRenewsAuthTime(t *testing.T) {
	e := newEnv(t, startingAt(-10*time.Minute))
	b := e.browser()
	first := idTokenClaims(t, e.exchange("rp1", e.code(b, authParams("rp1", rpRedirect)), rpRedirect, "").str("id_token"))
	e.clock.Advance(5 * time.Minute)
	v := authParams("rp1", rpRedirect)
	v.Set("max_age", "60")
	second := idTokenClaims(t, e.exchange("rp1", e.code(b, v), rpRedirect, "").str("id_token"))
	if second["auth_time"].(float64) < first["auth_time"].(float64)+290 {
		t.Fatalf("auth_time %v not renewed (was %v)", second["auth_time"], first["auth_time"])
	}
	if second["queue_position"] != first["queue_position"] {
		t.Fatal("max_age re-queued the browser")
	}
}

func TestSecondTabKeepsPlace(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.browser().get(e.authorizeURL(authParams("rp1", rpRedirect))) // someone else first
	p1 := b.get(e.authorizeURL(authParams("rp1", rpRedirect)))
	p2 := b.get(e.authorizeURL(authParams("rp2", rpRedirect)))
	if p1.status != 200 || p2.status != 200 {
		t.Fatalf("%d %d", p1.status, p2.status)
	}
	if c, _ := e.svc.Counters(e.ctx, room1); c.Queue != 2 {
		t.Fatalf("queue %d, want 2", c.Queue)
	}
	st := e.browserStatus(b)
	if st["position"] != float64(2) || st["ahead"] != float64(1) || st["ready"] != false {
		t.Fatalf("status %v", st)
	}
}

func (e *env) browserStatus(b *browser) map[string]any {
	p := b.get(e.issuer + "/queue/" + room1 + "/status")
	var st map[string]any
	_ = json.Unmarshal([]byte(p.body), &st)
	return st
}

func TestStoreOutageOnTokenEndpoint(t *testing.T) {
	f := &flaky{}
	e := newEnv(t, withFlaky(f))
	code := e.code(e.browser(), authParams("rp1", rpRedirect))
	f.down.Store(true)
	a := e.exchange("rp1", code, rpRedirect, "")
	if a.status != http.StatusServiceUnavailable || a.str("error") != "temporarily_unavailable" ||
		a.header.Get("Retry-After") == "" || a.str("access_token") != "" || a.str("id_token") != "" {
		t.Fatalf("outage: %d %v %v", a.status, a.header, a.body)
	}
	if c, _ := e.svc.Counters(e.ctx, room1); c.Tokens != 1 {
		t.Fatalf("tokens counter %d, want the one admission", c.Tokens)
	}
	f.down.Store(false)
	if a := e.exchange("rp1", code, rpRedirect, ""); a.status != 200 {
		t.Fatalf("retry after the outage: %d %v", a.status, a.body)
	}
}

func urlValues(grant, code string) url.Values {
	return url.Values{"grant_type": {grant}, "code": {code}, "redirect_uri": {rpRedirect}}
}

func TestIDTokenHint(t *testing.T) {
	e := newEnv(t)
	b1, b2 := e.browser(), e.browser()
	hint1 := e.exchange("rp1", e.code(b1, authParams("rp1", rpRedirect)), rpRedirect, "").str("id_token")
	hint2 := e.exchange("rp1", e.code(b2, authParams("rp1", rpRedirect)), rpRedirect, "").str("id_token")
	silent := func(hint string) *url.URL {
		v := authParams("rp1", rpRedirect)
		v.Set("prompt", "none")
		v.Set("id_token_hint", hint)
		return b1.get(e.authorizeURL(v)).location
	}
	if loc := silent(hint1); loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("own hint: %v", loc)
	}
	if loc := silent(hint2); loc == nil || loc.Query().Get("error") != "login_required" {
		t.Fatalf("another visitor's hint: %v", loc)
	}
	if loc := silent("not.a.token"); loc == nil || loc.Query().Get("error") != "login_required" {
		t.Fatalf("bad hint: %v", loc)
	}
}

// TestUserinfoRefusesRevokedAndExpiredTokens: userinfo answers a token
// again and again (a JWT is verified once and then remembered), and still
// refuses it as soon as its grant is revoked or it expires.
func TestUserinfoRefusesRevokedAndExpiredTokens(t *testing.T) {
	for _, be := range backends(t) {
		for _, format := range []string{waitroom.TokenFormatJWT, waitroom.TokenFormatOpaque} {
			t.Run(be.Name+"/"+format, func(t *testing.T) {
				c := testClient("rp1")
				c.AccessTokenFormat = format
				e := newEnv(t, withBackend(be), withClients(c))
				login := func() string {
					a := e.exchange("rp1", e.code(e.browser(), authParams("rp1", rpRedirect)), rpRedirect, "")
					if a.status != 200 {
						t.Fatalf("exchange: %d %v", a.status, a.body)
					}
					return a.str("access_token")
				}
				userinfo := func(token string) int {
					return e.call(http.MethodGet, "/userinfo", nil, bearer(token)).status
				}
				revoked, expiring := login(), login()
				for range 3 {
					if s1, s2 := userinfo(revoked), userinfo(expiring); s1 != 200 || s2 != 200 {
						t.Fatalf("userinfo: %d %d", s1, s2)
					}
				}
				if r := e.call(http.MethodPost, "/revoke", url.Values{"token": {revoked}}, basic("rp1", "rp1-secret-0123456789")); r.status != 200 {
					t.Fatalf("revoke: %d", r.status)
				}
				if s := userinfo(revoked); s != 401 {
					t.Fatalf("revoked token: %d", s)
				}
				if s := userinfo(expiring); s != 200 {
					t.Fatalf("revoking one login touched another: %d", s)
				}
				e.clock.Advance(waitroom.DefaultAccessTokenLifetime)
				if s := userinfo(expiring); s != 401 {
					t.Fatalf("expired token: %d", s)
				}
			})
		}
	}
}

// TestOpaqueTokenTampering: an opaque token altered in one character, or
// made for another provider key, is refused.
func TestOpaqueTokenTampering(t *testing.T) {
	c := testClient("rp1")
	c.AccessTokenFormat = waitroom.TokenFormatOpaque
	e := newEnv(t, withClients(c))
	at := e.exchange("rp1", e.code(e.browser(), authParams("rp1", rpRedirect)), rpRedirect, "").str("access_token")
	if s := e.call(http.MethodGet, "/userinfo", nil, bearer(at)).status; s != 200 {
		t.Fatalf("userinfo: %d", s)
	}
	for i := range len(at) {
		b := []byte(at)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		if a := e.call(http.MethodGet, "/userinfo", nil, bearer(string(b))); a.status != 401 {
			t.Fatalf("token altered at %d: %d", i, a.status)
		}
	}
}

// TestRefreshRestoresALostGrant: a grant's record lost with the Ephemeral
// store (Redis restarted empty) stops its access tokens; a refresh writes
// it again.
func TestRefreshRestoresALostGrant(t *testing.T) {
	e := newEnv(t)
	a := e.exchange("rp1", e.code(e.browser(), authParams("rp1", rpRedirect)), rpRedirect, "")
	sid, _ := idTokenClaims(t, a.str("id_token"))["sid"].(string)
	if err := e.eph.Delete(e.ctx, "oidc:grant:"+sid); err != nil { // the provider's key for a grant
		t.Fatal(err)
	}
	if s := e.call(http.MethodGet, "/userinfo", nil, bearer(a.str("access_token"))).status; s != 401 {
		t.Fatalf("token of a lost grant: %d", s)
	}
	r := e.call(http.MethodPost, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {a.str("refresh_token")}},
		basic("rp1", "rp1-secret-0123456789"))
	if r.status != 200 {
		t.Fatalf("refresh: %d %v", r.status, r.body)
	}
	if s := e.call(http.MethodGet, "/userinfo", nil, bearer(r.str("access_token"))).status; s != 200 {
		t.Fatalf("token after refresh: %d", s)
	}
}

// TestJWTAccessToken: a client may ask for JWT access tokens, signed by a
// key of the JWKS, naming the visitor and the admission.
func TestJWTAccessToken(t *testing.T) {
	c := testClient("rp1")
	c.AccessTokenFormat = waitroom.TokenFormatJWT
	e := newEnv(t, withClients(c))
	a := e.exchange("rp1", e.code(e.browser(), authParams("rp1", rpRedirect)), rpRedirect, "")
	payload, err := gooidc.NewRemoteKeySet(e.ctx, e.issuer+"/keys").VerifySignature(e.ctx, a.str("access_token"))
	if err != nil {
		t.Fatalf("access token: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	idt := idTokenClaims(t, a.str("id_token"))
	exp, _ := m["exp"].(float64)
	if m["iss"] != e.issuer || m["sub"] != idt["sub"] || m["jti"] == "" || m["room"] != room1 || m["client_id"] != "rp1" ||
		int64(exp) <= time.Now().Unix() {
		t.Fatalf("claims: %v", m)
	}
	if ui := e.call(http.MethodGet, "/userinfo", nil, bearer(a.str("access_token"))); ui.status != 200 || ui.body["sub"] != idt["sub"] {
		t.Fatalf("userinfo: %d %v", ui.status, ui.body)
	}
}

// TestIDTokenClaimSet: the ID token carries exactly the registered claims,
// sid, the waitroom claims and the client's static claims (placeholders
// filled), after a code exchange and after a refresh (which has no nonce
// and no c_hash), and at_hash and c_hash are right.
func TestIDTokenClaimSet(t *testing.T) {
	c := testClient("rp1")
	c.Claims = map[string]string{"preferred_username": "visitor-{sub8}", "email": "{sub8}@visitors.invalid",
		"email_verified": "true", "name": "Visitor {position}", "locale": "en", "zz_room": "{room}", "aa": "x"}
	e := newEnv(t, withClients(c))
	v := authParams("rp1", rpRedirect)
	code := e.code(e.browser(), v)
	a := e.exchange("rp1", code, rpRedirect, "")
	r := e.call(http.MethodPost, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {a.str("refresh_token")}},
		basic("rp1", "rp1-secret-0123456789"))
	common := []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "azp", "client_id", "at_hash", "sid",
		"room", "queue_position", "queued_at", "admitted_at",
		"preferred_username", "name", "email", "email_verified", "locale", "zz_room", "aa"}
	for name, tc := range map[string]struct {
		ans   answer
		extra []string
	}{
		"code":    {a, []string{"nonce", "c_hash"}},
		"refresh": {r, nil},
	} {
		claims := idTokenClaims(t, tc.ans.str("id_token"))
		got := slices.Sorted(maps.Keys(claims))
		want := slices.Sorted(slices.Values(append(slices.Clone(common), tc.extra...)))
		if !slices.Equal(got, want) {
			t.Errorf("%s: claims %v, want %v", name, got, want)
		}
		sub, _ := claims["sub"].(string)
		if claims["email_verified"] != true || claims["name"] != "Visitor 1" || claims["zz_room"] != room1 || claims["aa"] != "x" ||
			claims["preferred_username"] != "visitor-"+sub[:8] || claims["sid"] == "" || claims["client_id"] != "rp1" {
			t.Errorf("%s: %v", name, claims)
		}
		if h, _ := zoidc.ClaimHash(tc.ans.str("access_token"), jose.RS256); claims["at_hash"] != h {
			t.Errorf("%s: at_hash %v, want %s", name, claims["at_hash"], h)
		}
	}
	if h, _ := zoidc.ClaimHash(code, jose.RS256); idTokenClaims(t, a.str("id_token"))["c_hash"] != h {
		t.Error("c_hash does not match the code")
	}
	if n := idTokenClaims(t, a.str("id_token"))["nonce"]; n != v.Get("nonce") {
		t.Errorf("nonce %v, want %s", n, v.Get("nonce"))
	}
	// userinfo: the same profile
	ui := e.call(http.MethodGet, "/userinfo", nil, bearer(r.str("access_token")))
	want := []string{"sub", "room", "queue_position", "queued_at", "admitted_at",
		"preferred_username", "name", "email", "email_verified", "locale", "zz_room", "aa"}
	if got := slices.Sorted(maps.Keys(ui.body)); ui.status != 200 || !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Fatalf("userinfo: %d %v", ui.status, got)
	}
	idt := idTokenClaims(t, r.str("id_token"))
	for _, k := range want {
		if !reflect.DeepEqual(ui.body[k], idt[k]) {
			t.Errorf("userinfo %s = %v, ID token %v", k, ui.body[k], idt[k])
		}
	}
	if ui.header.Get("Content-Type") != "application/json" || ui.header.Get("Cache-Control") != "no-store" {
		t.Errorf("userinfo headers: %v", ui.header)
	}
}

// TestForgedCodeDoesNotRevoke: a code names its grant (the sid), so a
// made-up code with a live grant's name must be refused without touching
// the grant; only the code that was redeemed revokes it when replayed.
func TestForgedCodeDoesNotRevoke(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, withBackend(be))
			code := e.code(e.browser(), authParams("rp1", rpRedirect))
			a := e.exchange("rp1", code, rpRedirect, "")
			sid, _ := idTokenClaims(t, a.str("id_token"))["sid"].(string)
			if sid == "" || !strings.HasPrefix(code, sid+".") {
				t.Fatalf("code %q does not name its grant %q", code, sid)
			}
			for _, forged := range []string{sid + "." + randomString(), sid + ".", sid, code + "x", code[:len(code)-1]} {
				wantOAuthError(t, e.exchange("rp1", forged, rpRedirect, ""), 400, "invalid_grant")
			}
			if ui := e.call(http.MethodGet, "/userinfo", nil, bearer(a.str("access_token"))); ui.status != 200 {
				t.Fatalf("a forged code revoked the grant: %d", ui.status)
			}
			wantOAuthError(t, e.exchange("rp1", code, rpRedirect, ""), 400, "invalid_grant")
			if ui := e.call(http.MethodGet, "/userinfo", nil, bearer(a.str("access_token"))); ui.status != 401 {
				t.Fatalf("replaying the redeemed code left the grant alive: %d", ui.status)
			}
		})
	}
}
