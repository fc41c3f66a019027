package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// plainProvider is a minimal OpenID provider without rooms, shaped like
// dex with a mock connector: /authorize redirects through two more hops
// (a login that sets a cookie, a callback that needs it) to the client,
// and the token endpoint checks the client's secret and the PKCE verifier.
type plainProvider struct {
	srv       *httptest.Server
	formFirst bool // /authorize answers a login form instead (a flow that cannot go through)

	mu      sync.Mutex
	pending map[string]url.Values // request id → the authorize parameters
	codes   map[string]url.Values // code → the authorize parameters
	tokens  map[string]bool       // issued access tokens
	next    int
}

const plainSecret = "plain-client-secret"

func startPlainProvider(t *testing.T, formFirst bool) *plainProvider {
	p := &plainProvider{formFirst: formFirst, pending: map[string]url.Values{}, codes: map[string]url.Values{}, tokens: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /idp/.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /idp/auth", p.authorize)
	mux.HandleFunc("GET /idp/login", p.login)
	mux.HandleFunc("GET /idp/callback", p.callback)
	mux.HandleFunc("POST /idp/token", p.token)
	mux.HandleFunc("GET /idp/userinfo", p.userinfo)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *plainProvider) issuer() string { return p.srv.URL + "/idp" }

// id is a fresh identifier; the caller holds p.mu.
func (p *plainProvider) id(prefix string) string {
	p.next++
	return fmt.Sprintf("%s%d", prefix, p.next)
}

func (p *plainProvider) discovery(w http.ResponseWriter, r *http.Request) {
	iss := p.issuer()
	json.NewEncoder(w).Encode(map[string]string{"issuer": iss, "authorization_endpoint": iss + "/auth",
		"token_endpoint": iss + "/token", "userinfo_endpoint": iss + "/userinfo"})
}

func (p *plainProvider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if p.formFirst {
		w.Write([]byte("<form>log in</form>"))
		return
	}
	if q.Get("client_id") != "bench" || q.Get("redirect_uri") != smokeRedirect || q.Get("response_type") != "code" ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	id := p.id("req")
	p.pending[id] = q
	p.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "login", Value: id, Path: "/idp"})
	http.Redirect(w, r, "login?req="+id, http.StatusFound)
}

// login stands for the connector: it needs the browser's cookie.
func (p *plainProvider) login(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie("login")
	if err != nil || c.Value != r.URL.Query().Get("req") {
		http.Error(w, "no login cookie", http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, p.issuer()+"/callback?req="+c.Value, http.StatusSeeOther)
}

func (p *plainProvider) callback(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	q, ok := p.pending[r.URL.Query().Get("req")]
	delete(p.pending, r.URL.Query().Get("req"))
	code := p.id("code")
	p.codes[code] = q
	p.mu.Unlock()
	if !ok {
		http.Error(w, "unknown request", http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusSeeOther)
}

func (p *plainProvider) token(w http.ResponseWriter, r *http.Request) {
	id, secret, _ := r.BasicAuth()
	p.mu.Lock()
	q, ok := p.codes[r.FormValue("code")]
	delete(p.codes, r.FormValue("code"))
	access := p.id("at")
	p.tokens[access] = true
	p.mu.Unlock()
	if id != "bench" || secret != plainSecret || !ok || r.FormValue("redirect_uri") != q.Get("redirect_uri") ||
		pkceChallenge(r.FormValue("code_verifier")) != q.Get("code_challenge") {
		http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
		return
	}
	enc := func(v map[string]string) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	idToken := enc(map[string]string{"alg": "ES256"}) + "." + enc(map[string]string{"nonce": q.Get("nonce"), "sub": "u1"}) + ".c2ln"
	json.NewEncoder(w).Encode(map[string]string{"access_token": access, "id_token": idToken, "token_type": "Bearer"})
}

func (p *plainProvider) userinfo(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	ok := p.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	p.mu.Unlock()
	if !ok {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	json.NewEncoder(w).Encode(map[string]string{"sub": "u1"})
}

// runPlain runs the generator in smoke mode against p as -provider plain.
func runPlain(t *testing.T, p *plainProvider, extra ...string) ([]Result, string, error) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "results.json")
	args := append([]string{"-smoke", "-q", "-duration", "300ms", "-provider", "plain", "-target", p.srv.URL, "-issuer", p.issuer(),
		"-client-id", "bench", "-client-secret", plainSecret, "-redirect-uri", smokeRedirect, "-json", out}, extra...)
	var stdout, stderr bytes.Buffer
	runErr := Main(context.Background(), args, &stdout, &stderr)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("%v (run: %v)\n%s", err, runErr, stderr.String())
	}
	var results []Result
	if err := json.Unmarshal(b, &results); err != nil {
		t.Fatal(err)
	}
	return results, stderr.String(), runErr
}

// TestPlainProviderFlow runs the login against a provider without rooms:
// the flow follows both redirects after /authorize, exchanges the code with
// PKCE and asks userinfo, and never touches a room or the admin API (the
// test provider serves neither).
func TestPlainProviderFlow(t *testing.T) {
	p := startPlainProvider(t, false)
	results, log, err := runPlain(t, p, "-scenario", "oidc-flow,userinfo")
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if len(results) != 2 {
		t.Fatalf("got %d results", len(results))
	}
	flow := results[0]
	if flow.Scenario != "oidc-flow" || flow.Ops == 0 || flow.Errors != 0 {
		t.Fatalf("oidc-flow: %d ops, %d errors %v", flow.Ops, flow.Errors, flow.ErrorsBy)
	}
	if flow.Provider != "plain" || flow.IDTokenAlg != "ES256" || !strings.Contains(flow.About, "no room") {
		t.Errorf("provider %q, alg %q, about %q", flow.Provider, flow.IDTokenAlg, flow.About)
	}
	steps := map[string]uint64{}
	for _, st := range flow.Steps {
		steps[st.Name] = st.Count
	}
	// Every measured flow made one authorize, two callback hops, one token
	// and one userinfo request (a flow cut by the end of the window may
	// have made fewer).
	a := steps[stepAuthorize]
	if a == 0 || steps[stepCallback] < 2*a-2 || steps[stepCallback] > 2*a || steps[stepOIDCToken] > a || steps[stepUserinfo] == 0 {
		t.Errorf("steps %v", steps)
	}
	for _, room := range []string{stepRoom, stepStatus, stepAdmit, stepIncrement} {
		if steps[room] != 0 {
			t.Errorf("a provider without rooms measured %s: %v", room, steps)
		}
	}
	if results[1].Scenario != "userinfo" || results[1].Ops == 0 || results[1].Errors != 0 {
		t.Errorf("userinfo: %d ops, %d errors %v", results[1].Ops, results[1].Errors, results[1].ErrorsBy)
	}
}

// TestPlainProviderFlowWithoutUserinfo stops each login at the token.
func TestPlainProviderFlowWithoutUserinfo(t *testing.T) {
	p := startPlainProvider(t, false)
	results, log, err := runPlain(t, p, "-scenario", "oidc-flow", "-userinfo=false")
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	for _, st := range results[0].Steps {
		if st.Name == stepUserinfo {
			t.Fatalf("userinfo asked with -userinfo=false: %v", results[0].Steps)
		}
	}
}

// TestPlainProviderThatStopsTheBrowser: a provider that answers /authorize
// with a page (a login form) instead of redirecting cannot be driven;
// every flow fails at authorize.
func TestPlainProviderThatStopsTheBrowser(t *testing.T) {
	p := startPlainProvider(t, true)
	results, _, err := runPlain(t, p, "-scenario", "oidc-flow")
	if err == nil || results[0].Errors == 0 || results[0].ErrorsBy["authorize 200"] == 0 {
		t.Fatalf("err %v, errors %v", err, results[0].ErrorsBy)
	}
}

func TestPlainProviderRejectsRoomScenarios(t *testing.T) {
	for _, args := range [][]string{
		{"-provider", "dex", "-scenario", "enqueue"},
		{"-provider", "dex", "-scenario", "room-status"},
		{"-provider", "dex", "-scenario", "oidc-flow", "-create-room"},
	} {
		if _, err := ParseConfig(args, &bytes.Buffer{}); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if _, err := ParseConfig([]string{"-provider", "dex", "-scenario", "oidc-flow,userinfo"}, &bytes.Buffer{}); err != nil {
		t.Errorf("oidc-flow,userinfo against a plain provider: %v", err)
	}
}
