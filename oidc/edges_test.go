package oidc_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// authorizeRaw runs /authorize with a raw query string (repeated keys
// need one) and returns where the browser was sent, or the page.
func (e *env) authorizeRaw(query string) page {
	e.t.Helper()
	return e.browser().get(e.issuer + "/authorize?" + query)
}

// errorRedirect checks that p redirects to the client's redirect URI with
// error code and, when state is not "", that state; it returns the
// error_description.
func errorRedirect(t *testing.T, p page, code, state string) string {
	t.Helper()
	if p.location == nil || !strings.HasPrefix(p.location.String(), rpRedirect) {
		t.Fatalf("want an error redirect to the client, got %d %v: %.300s", p.status, p.location, p.body)
	}
	q := p.location.Query()
	if q.Get("error") != code || q.Get("state") != state || len(q["state"]) > 1 {
		t.Fatalf("redirect %s: want error %s with state %q", p.location, code, state)
	}
	return q.Get("error_description")
}

// TestAuthorizeRefusesRepeatedParameters: RFC 6749 §3.1 forbids a
// parameter twice. A repeated client_id or redirect_uri is a page (no one
// address to send the error to); any other goes back as invalid_request,
// without a state when the state itself was repeated.
func TestAuthorizeRefusesRepeatedParameters(t *testing.T) {
	e := newEnv(t)
	base := authParams("rp1", rpRedirect)
	state := base.Get("state")
	for _, name := range []string{"client_id", "redirect_uri"} {
		p := e.authorizeRaw(base.Encode() + "&" + name + "=" + url.QueryEscape(base.Get(name)))
		if p.status != http.StatusBadRequest || p.location != nil || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") {
			t.Fatalf("repeated %s: %d %v, want an error page", name, p.status, p.location)
		}
	}
	for _, extra := range []string{"scope=openid", "nonce=n2", "response_type=code", "code_challenge_method=S256", "prompt=none"} {
		name, _, _ := strings.Cut(extra, "=")
		if base.Get(name) == "" {
			extra += "&" + extra // a parameter the base lacks: give it twice
		}
		desc := errorRedirect(t, e.authorizeRaw(base.Encode()+"&"+extra), "invalid_request", state)
		if !strings.Contains(desc, name) {
			t.Errorf("repeated %s: description %q does not name it", name, desc)
		}
	}
	errorRedirect(t, e.authorizeRaw(base.Encode()+"&state=other"), "invalid_request", "")
	// Nothing was stored: no auth request waits for the visitor.
	if c, _ := e.svc.Counters(e.ctx, room1); c.Queue != 0 {
		t.Fatalf("refused requests queued %d visitors", c.Queue)
	}
}

// TestAuthorizeResponseTypeAndRequestObjects: a missing response_type is
// invalid_request, one other than code is unsupported_response_type;
// request_uri is request_uri_not_supported and request
// request_not_supported, as discovery announces. All go back to the
// client's registered redirect URI with its state.
func TestAuthorizeResponseTypeAndRequestObjects(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		change func(url.Values)
		code   string
	}{
		{func(v url.Values) { v.Del("response_type") }, "invalid_request"},
		{func(v url.Values) { v.Set("response_type", "token") }, "unsupported_response_type"},
		{func(v url.Values) { v.Set("response_type", "id_token") }, "unsupported_response_type"},
		{func(v url.Values) { v.Set("response_type", "code id_token") }, "unsupported_response_type"},
		{func(v url.Values) { v.Set("request_uri", "https://rp.example/request.jwt") }, "request_uri_not_supported"},
		{func(v url.Values) { v.Set("request", "eyJhbGciOiJub25lIn0.e30.") }, "request_not_supported"},
	}
	for _, c := range cases {
		v := authParams("rp1", rpRedirect)
		c.change(v)
		if desc := errorRedirect(t, e.browser().get(e.authorizeURL(v)), c.code, v.Get("state")); desc == "" {
			t.Errorf("%s: no error_description", c.code)
		}
	}
	d := e.call(http.MethodGet, "/.well-known/openid-configuration", nil, nil)
	// request_parameter_supported defaults to false when absent; the
	// request_uri one defaults to true, so it must be there.
	if d.body["request_uri_parameter_supported"] != false || d.body["request_parameter_supported"] == true {
		t.Fatalf("discovery: request_uri_parameter_supported %v, request_parameter_supported %v",
			d.body["request_uri_parameter_supported"], d.body["request_parameter_supported"])
	}
}

// TestAuthorizeErrorsInTheAskedResponseMode: an error goes back in the
// fragment when the client asked for it, encoded once (decoding the
// fragment once gives the description back), and by a posted form for
// form_post, the page submitting it from a script file.
func TestAuthorizeErrorsInTheAskedResponseMode(t *testing.T) {
	e := newEnv(t)
	v := authParams("rp1", rpRedirect)
	v.Set("response_mode", "fragment")
	p := e.browser().get(e.authorizeURL(v))
	if p.location == nil || p.location.RawQuery != "" {
		t.Fatalf("fragment: %d %v", p.status, p.location)
	}
	frag, err := url.ParseQuery(p.location.EscapedFragment())
	if err != nil || frag.Get("error") != "invalid_request" || frag.Get("state") != v.Get("state") {
		t.Fatalf("fragment %q: %v %v", p.location.EscapedFragment(), frag, err)
	}
	if desc := frag.Get("error_description"); desc != "response_mode: query or form_post" {
		t.Fatalf("fragment description %q: encoded more than once?", desc)
	}

	v = authParams("rp1", rpRedirect)
	v.Set("response_mode", "form_post")
	v.Set("response_type", "token")
	p = e.browser().get(e.authorizeURL(v))
	body := p.body
	if p.status != 200 || !strings.Contains(body, `action="`+rpRedirect+`"`) || !strings.Contains(body, `name="error" value="unsupported_response_type"`) ||
		!strings.Contains(body, `value="`+v.Get("state")+`"`) || !strings.Contains(body, "/static/js/form_post.js") || strings.Contains(body, "onload") {
		t.Fatalf("form_post error page: %d\n%s", p.status, body)
	}
}

// TestOpenIDEndpointsAnswerAWrongMethodWith405: each endpoint names the
// methods it serves in Allow, with a JSON body.
func TestOpenIDEndpointsAnswerAWrongMethodWith405(t *testing.T) {
	e := newEnv(t, withPrefix("/idp"))
	cases := map[string][2]string{
		"/.well-known/openid-configuration": {http.MethodPost, "GET, HEAD"},
		"/keys":                             {http.MethodDelete, "GET, HEAD"},
		"/authorize":                        {http.MethodPut, "GET, POST"},
		"/oauth/token":                      {http.MethodGet, "POST"},
		"/userinfo":                         {http.MethodDelete, "GET, POST"},
		"/oauth/introspect":                 {http.MethodGet, "POST"},
		"/revoke":                           {http.MethodGet, "POST"},
		"/end_session":                      {http.MethodPatch, "GET, POST"},
	}
	for path, c := range cases {
		a := e.call(c[0], path, nil, nil)
		if a.status != http.StatusMethodNotAllowed || a.header.Get("Allow") != c[1] ||
			!strings.HasPrefix(a.header.Get("Content-Type"), "application/json") || a.str("error") != "method_not_allowed" {
			t.Errorf("%s %s: %d Allow %q %v, want 405 Allow %q with a JSON error", c[0], path, a.status, a.header.Get("Allow"), a.body, c[1])
		}
	}
}

// TestOAuthEndpointsRefuseRepeatedParameters: token, revocation,
// introspection and userinfo refuse a repeated parameter with
// invalid_request, before using either copy; so does end_session, with a
// page.
func TestOAuthEndpointsRefuseRepeatedParameters(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	code := e.code(b, authParams("rp1", rpRedirect))
	auth := basic("rp1", "rp1-secret-0123456789")
	twice := url.Values{"grant_type": {"authorization_code", "authorization_code"}, "code": {code}, "redirect_uri": {rpRedirect}}
	wantOAuthError(t, e.call(http.MethodPost, "/oauth/token", twice, auth), 400, "invalid_request")
	twice = url.Values{"grant_type": {"authorization_code"}, "code": {code, "other"}, "redirect_uri": {rpRedirect}}
	wantOAuthError(t, e.call(http.MethodPost, "/oauth/token", twice, auth), 400, "invalid_request")
	// The code was not spent by the refused calls.
	a := e.exchange("rp1", code, rpRedirect, "")
	if a.str("access_token") == "" {
		t.Fatalf("exchange after refused calls: %d %v", a.status, a.body)
	}
	token := a.str("access_token")
	for _, path := range []string{"/revoke", "/oauth/introspect"} {
		wantOAuthError(t, e.call(http.MethodPost, path, url.Values{"token": {token, token}}, auth), 400, "invalid_request")
	}
	wantOAuthError(t, e.call(http.MethodPost, "/userinfo", url.Values{"access_token": {token, token}}, nil), 400, "invalid_request")
	if u := e.call(http.MethodGet, "/userinfo", nil, bearer(token)); u.status != 200 {
		t.Fatalf("the refused revocation revoked the token: userinfo %d", u.status)
	}
	p := e.browser().get(e.issuer + "/end_session?" + "id_token_hint=" + a.str("id_token") + "&id_token_hint=x")
	if p.status != http.StatusBadRequest || p.location != nil {
		t.Fatalf("end_session with a repeated parameter: %d %v", p.status, p.location)
	}
}
