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
	key  []byte // signs the login-state and session cookies

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
	q := r.URL.Query()
	if q.Get("state") == "signed-out" {
		// Back from the provider's end_session.
		http.SetCookie(w, d.cookie(sessionCookie, "", -1))
		d.render(w, http.StatusOK, pageData{Message: "You are signed out, here and at the provider."})
		return
	}
	if s, ok := d.readSession(r); ok {
		if data, ok := d.signedIn(r.Context(), s); ok {
			d.render(w, http.StatusOK, data)
			return
		}
		http.SetCookie(w, d.cookie(sessionCookie, "", -1))
	}
	d.render(w, http.StatusOK, pageData{Message: q.Get("msg")})
}

// loginState is what the demo remembers between /login and /callback.
// Each login has its own cookie, named after its state, so that logins
// started in two tabs both finish.
type loginState struct {
	State, Nonce, Verifier string
}

// session is what the demo keeps of a finished login: the ID token (for
// its claims and the sign-out link) and the userinfo answer.
type session struct {
	IDToken  string          `json:"id_token"`
	Userinfo json.RawMessage `json:"userinfo"`
}

const (
	stateCookiePrefix = "wr_demo_state_"
	sessionCookie     = "wr_demo_session"
	stateKeyLen       = 12 // characters of the state naming its cookie
)

func (d *RP) login(w http.ResponseWriter, r *http.Request) {
	p, err := d.discover(r.Context())
	if err != nil {
		d.render(w, http.StatusBadGateway, pageData{Message: "The demo cannot reach the provider: " + err.Error()})
		return
	}
	st := loginState{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier()}
	http.SetCookie(w, d.cookie(stateCookiePrefix+st.State[:stateKeyLen], d.seal(st), 3600))
	http.Redirect(w, r, d.oauth(p).AuthCodeURL(st.State, gooidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)), http.StatusFound)
}

// callback finishes a login and sends the browser on to the demo's home
// page, which shows the result: a refresh or a second visit of the
// callback address then finds the finished login, not a used code.
func (d *RP) callback(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, msg string) { d.render(w, status, pageData{Message: msg}) }
	q := r.URL.Query()
	if q.Get("error") != "" {
		fail(http.StatusBadRequest, "The provider answered "+q.Get("error")+": "+q.Get("error_description"))
		return
	}
	state := q.Get("state")
	var st loginState
	name := ""
	if len(state) >= stateKeyLen {
		name = stateCookiePrefix + state[:stateKeyLen]
	}
	if c, err := r.Cookie(name); name == "" || err != nil || !d.open(c.Value, &st) || st.State != state {
		if _, ok := d.readSession(r); ok {
			http.Redirect(w, r, d.cfg.BaseURL+"/", http.StatusSeeOther) // this login already finished
			return
		}
		fail(http.StatusBadRequest, "This sign-in was not started in this browser, or it started more than an hour ago. Start again.")
		return
	}
	http.SetCookie(w, d.cookie(name, "", -1))
	p, err := d.discover(r.Context())
	if err != nil {
		fail(http.StatusBadGateway, err.Error())
		return
	}
	ctx := d.ctx(r.Context())
	tok, err := d.oauth(p).Exchange(ctx, q.Get("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		fail(http.StatusBadGateway, "Code exchange failed: "+err.Error())
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&gooidc.Config{ClientID: d.cfg.ClientID}).Verify(ctx, raw)
	if err != nil || idt.Nonce != st.Nonce {
		fail(http.StatusBadGateway, fmt.Sprintf("ID token rejected: %v", err))
		return
	}
	info, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		fail(http.StatusBadGateway, "Userinfo failed: "+err.Error())
		return
	}
	var infoClaims map[string]any
	_ = info.Claims(&infoClaims)
	infoJSON, _ := json.Marshal(infoClaims)
	http.SetCookie(w, d.cookie(sessionCookie, d.seal(session{IDToken: raw, Userinfo: infoJSON}), int(time.Until(idt.Expiry).Seconds())))
	http.Redirect(w, r, d.cfg.BaseURL+"/", http.StatusSeeOther)
}

// signedIn describes a finished login, its ID token checked again (false
// once it has expired).
func (d *RP) signedIn(ctx context.Context, s session) (pageData, bool) {
	p, err := d.discover(ctx)
	if err != nil {
		return pageData{}, false
	}
	idt, err := p.Verifier(&gooidc.Config{ClientID: d.cfg.ClientID}).Verify(d.ctx(ctx), s.IDToken)
	if err != nil {
		return pageData{}, false
	}
	var claims map[string]any
	_ = idt.Claims(&claims)
	var info any
	_ = json.Unmarshal(s.Userinfo, &info)
	pretty, _ := json.MarshalIndent(info, "", "  ")
	logout := strings.TrimSuffix(d.cfg.Issuer, "/") + "/end_session?" + url.Values{
		"id_token_hint": {s.IDToken}, "post_logout_redirect_uri": {d.cfg.BaseURL + "/"}, "state": {"signed-out"}}.Encode()
	return pageData{Claims: sortedClaims(claims), Userinfo: string(pretty), Logout: logout}, true
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

func (d *RP) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: d.cookiePath(), MaxAge: maxAge, HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

// seal encodes v and signs it, for a cookie.
func (d *RP) seal(v any) string {
	b, _ := json.Marshal(v)
	p := base64.RawURLEncoding.EncodeToString(b)
	return p + "." + d.sign(p)
}

// open checks a sealed value and decodes it into v.
func (d *RP) open(sealed string, v any) bool {
	p, sig, ok := strings.Cut(sealed, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(d.sign(p))) {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	return err == nil && json.Unmarshal(b, v) == nil
}

func (d *RP) readSession(r *http.Request) (session, bool) {
	var s session
	c, err := r.Cookie(sessionCookie)
	return s, err == nil && d.open(c.Value, &s) && s.IDToken != ""
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
