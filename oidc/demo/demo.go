// Package demo is a tiny relying party for newcomers: it starts a login
// through a waiting room of the provider and shows the verified ID token
// and the userinfo claims. It is an ordinary OpenID Connect client (go-oidc
// and x/oauth2, discovery, PKCE, nonce, state) that happens to be served by
// the same binary.
package demo

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/waitroom-idp/waitroom/templates"
)

// Config says where the provider and the demo are.
type Config struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// BaseURL is the demo's own absolute URL (its callback is
	// BaseURL/callback), e.g. issuer + "/demo".
	BaseURL string
	// Room names the room the demo client queues in (shown on the page).
	Room string
	// AdvanceNote tells the visitor how the line moves.
	AdvanceNote string
	// Transport reaches the provider; in-process by default in waitroom.
	Transport http.RoundTripper
}

// RP is the demo relying party.
type RP struct {
	cfg  Config
	tmpl *template.Template
	key  []byte // signs the login-state cookie

	once     sync.Mutex
	provider *gooidc.Provider
}

// New returns the demo. Discovery happens on first use, so the provider
// may start after it.
func New(cfg Config) (*RP, error) {
	t, err := template.ParseFS(templates.FS, "layout.html", "demo.html")
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	return &RP{cfg: cfg, tmpl: t, key: key}, nil
}

// Handler serves the demo at "/", "/login" and "/callback"; mount it
// under BaseURL's path with http.StripPrefix.
func (d *RP) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", d.home)
	mux.HandleFunc("GET /login", d.login)
	mux.HandleFunc("GET /callback", d.callback)
	return d.onBaseHost(mux)
}

func (d *RP) ctx(ctx context.Context) context.Context {
	if d.cfg.Transport == nil {
		return ctx
	}
	return gooidc.ClientContext(ctx, &http.Client{Transport: d.cfg.Transport, Timeout: 10 * time.Second})
}

func (d *RP) discover(ctx context.Context) (*gooidc.Provider, error) {
	d.once.Lock()
	defer d.once.Unlock()
	if d.provider != nil {
		return d.provider, nil
	}
	p, err := gooidc.NewProvider(d.ctx(ctx), d.cfg.Issuer)
	if err != nil {
		return nil, err
	}
	d.provider = p
	return p, nil
}

func (d *RP) oauth(p *gooidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: d.cfg.ClientID, ClientSecret: d.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: d.cfg.BaseURL + "/callback", Scopes: []string{gooidc.ScopeOpenID, "profile", "email"}}
}

type pageData struct {
	Base, Title, Room, Advance, Message, Userinfo, Logout string
	// Static is where the provider serves the shared CSS.
	Static string
	// Lang is the page's language (the demo speaks English only).
	Lang   string
	Claims []claim
}

type claim struct{ Name, Value string }

func (d *RP) render(w http.ResponseWriter, status int, data pageData) {
	base, _ := url.Parse(d.cfg.Issuer)
	data.Base, data.Title, data.Room, data.Advance = strings.TrimSuffix(base.Path, "/")+"/demo", "waitroom demo", d.cfg.Room, d.cfg.AdvanceNote
	if b, err := url.Parse(d.cfg.BaseURL); err == nil {
		data.Base = b.Path
	}
	data.Static = strings.TrimSuffix(base.Path, "/") + "/static"
	data.Lang = "en"
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = d.tmpl.ExecuteTemplate(w, "demo.html", data)
}

func (d *RP) home(w http.ResponseWriter, r *http.Request) {
	d.render(w, http.StatusOK, pageData{Message: r.URL.Query().Get("msg")})
}

// loginState is what the demo remembers between /login and /callback.
type loginState struct {
	State, Nonce, Verifier string
}

const stateCookie = "wr_demo_state"

func (d *RP) login(w http.ResponseWriter, r *http.Request) {
	p, err := d.discover(r.Context())
	if err != nil {
		d.render(w, http.StatusBadGateway, pageData{Message: "The demo cannot reach the provider: " + err.Error()})
		return
	}
	st := loginState{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier()}
	d.setState(w, st)
	http.Redirect(w, r, d.oauth(p).AuthCodeURL(st.State, gooidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)), http.StatusFound)
}

func (d *RP) callback(w http.ResponseWriter, r *http.Request) {
	fail := func(msg string) { d.render(w, http.StatusBadRequest, pageData{Message: msg}) }
	st, ok := d.readState(r)
	q := r.URL.Query()
	switch {
	case q.Get("error") != "":
		fail("The provider answered " + q.Get("error") + ": " + q.Get("error_description"))
		return
	case !ok || q.Get("state") != st.State:
		fail("The login state does not match (did the wait outlive this page's cookie?). Start again.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Path: d.cookiePath(), MaxAge: -1})
	p, err := d.discover(r.Context())
	if err != nil {
		fail(err.Error())
		return
	}
	ctx := d.ctx(r.Context())
	conf := d.oauth(p)
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		fail("Code exchange failed: " + err.Error())
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&gooidc.Config{ClientID: d.cfg.ClientID}).Verify(ctx, raw)
	if err != nil || idt.Nonce != st.Nonce {
		fail(fmt.Sprintf("ID token rejected: %v", err))
		return
	}
	var claims map[string]any
	_ = idt.Claims(&claims)
	info, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		fail("Userinfo failed: " + err.Error())
		return
	}
	var infoClaims map[string]any
	_ = info.Claims(&infoClaims)
	pretty, _ := json.MarshalIndent(infoClaims, "", "  ")
	logout := strings.TrimSuffix(d.cfg.Issuer, "/") + "/end_session?" + url.Values{
		"id_token_hint": {raw}, "post_logout_redirect_uri": {d.cfg.BaseURL + "/"}, "state": {"signed-out"}}.Encode()
	d.render(w, http.StatusOK, pageData{Claims: sortedClaims(claims), Userinfo: string(pretty), Logout: logout})
}

func sortedClaims(m map[string]any) []claim {
	out := make([]claim, 0, len(m))
	for k, v := range m {
		s := fmt.Sprint(v)
		if f, ok := v.(float64); ok {
			s = fmt.Sprintf("%.0f", f)
			if strings.HasSuffix(k, "_at") || k == "iat" || k == "exp" || k == "auth_time" {
				s += "  (" + time.Unix(int64(f), 0).UTC().Format(time.RFC3339) + ")"
			}
		}
		out = append(out, claim{k, s})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (d *RP) cookiePath() string {
	u, _ := url.Parse(d.cfg.BaseURL)
	return u.Path + "/"
}

func (d *RP) setState(w http.ResponseWriter, st loginState) {
	b, _ := json.Marshal(st)
	p := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: p + "." + d.sign(p), Path: d.cookiePath(),
		MaxAge: 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func (d *RP) readState(r *http.Request) (loginState, bool) {
	var st loginState
	c, err := r.Cookie(stateCookie)
	if err != nil {
		return st, false
	}
	p, sig, ok := strings.Cut(c.Value, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(d.sign(p))) {
		return st, false
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	return st, err == nil && json.Unmarshal(b, &st) == nil
}

func (d *RP) sign(s string) string {
	m := hmac.New(sha256.New, d.key)
	m.Write([]byte(s))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func random() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
