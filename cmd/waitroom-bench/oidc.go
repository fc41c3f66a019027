package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync/atomic"
)

// The OIDC browser flow: a fresh browser (cookie jar) per visitor, the
// authorization-code flow with PKCE S256, every hop timed on its own.
// Against waitroom the browser passes the client's room; against a plain
// provider (-provider dex) it follows the redirects from /authorize to the
// client, every hop after the first timed as "callback".

const (
	stepDiscovery = "discovery"
	stepAuthorize = "authorize"
	stepRoom      = "room"
	stepStatus    = "room_status"
	stepAdmit     = "admit"
	stepCallback  = "callback"
	stepOIDCToken = "token"
	stepUserinfo  = "userinfo"
)

var oidcSteps = []string{stepAuthorize, stepRoom, stepStatus, stepAdmit, stepCallback, stepOIDCToken, stepUserinfo, stepIncrement}

// maxHops bounds the redirects of one login, so a redirect loop fails the
// flow instead of spinning.
const maxHops = 12

// discovery is the part of the provider metadata the flow uses.
type discovery struct {
	Issuer    string `json:"issuer"`
	Authorize string `json:"authorization_endpoint"`
	Token     string `json:"token_endpoint"`
	Userinfo  string `json:"userinfo_endpoint"`
}

type oidcFlow struct {
	cfg       Config
	transport http.RoundTripper
	client    *http.Client // for token and userinfo: no jar needed
	disc      discovery
	queue     *queueAPI              // the client's room
	admit     *admission             // admits visitors the room page holds back
	plain     bool                   // a provider without rooms: nothing to admit
	alg       atomic.Pointer[string] // "alg" of the first ID token seen

	tokens    []string // access tokens for the userinfo flood
	tokenNext atomic.Uint64
	browsers  []*login // logged-in browsers for the room-status flood
	statusURL string
}

func newOIDCFlow(cfg Config, t http.RoundTripper, room *queueAPI) *oidcFlow {
	return &oidcFlow{cfg: cfg, transport: t, queue: room, admit: newAdmission(room, 0), plain: cfg.plainProvider(),
		client: &http.Client{Transport: t, Timeout: cfg.Timeout, CheckRedirect: noRedirects}}
}

// discover fetches the provider metadata once.
func (f *oidcFlow) discover(ctx context.Context, rec *Recorder) error {
	if f.disc.Token != "" {
		return nil
	}
	req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(f.cfg.Issuer, "/")+"/.well-known/openid-configuration", nil)
	if err != nil {
		return err
	}
	a, err := send(ctx, f.client, rec.Step(stepDiscovery), req)
	if err != nil {
		return err
	}
	defer a.release()
	if a.Status != http.StatusOK {
		return &StatusError{Step: stepDiscovery, Status: a.Status}
	}
	var d discovery
	if err := a.decode(stepDiscovery, &d); err != nil {
		return err
	}
	if d.Authorize == "" || d.Token == "" || d.Userinfo == "" {
		return &StepError{Step: stepDiscovery, Cause: "body", Err: errMissing("authorization, token or userinfo endpoint")}
	}
	f.disc = d
	return nil
}

// login is one visitor's state through the flow.
type login struct {
	browser  *http.Client
	verifier string
	state    string
	nonce    string
}

func newLogin(f *oidcFlow) (*login, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	return &login{
		browser:  &http.Client{Transport: f.transport, Jar: jar, Timeout: f.cfg.Timeout, CheckRedirect: noRedirects},
		verifier: randomToken(32), state: randomToken(16), nonce: randomToken(16),
	}, nil
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics on a broken source)
	return base64.RawURLEncoding.EncodeToString(b)
}

func pkceChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorizeURL is the URL the relying party sends the browser to.
func (f *oidcFlow) authorizeURL(l *login) string {
	q := url.Values{
		"client_id": {f.cfg.ClientID}, "redirect_uri": {f.cfg.RedirectURI}, "response_type": {"code"},
		"scope": {f.cfg.Scope}, "state": {l.state}, "nonce": {l.nonce},
		"code_challenge": {pkceChallenge(l.verifier)}, "code_challenge_method": {"S256"},
	}
	sep := "?"
	if strings.Contains(f.disc.Authorize, "?") {
		sep = "&"
	}
	return f.disc.Authorize + sep + q.Encode()
}

// Flow runs one whole login and returns the access token. It ends with a
// userinfo request unless -userinfo=false.
func (f *oidcFlow) Flow(ctx context.Context, rec *Recorder) (string, error) {
	l, err := newLogin(f)
	if err != nil {
		return "", err
	}
	code, err := f.browse(ctx, rec, l)
	if err != nil {
		return "", err
	}
	access, err := f.exchange(ctx, rec, l, code)
	if err != nil || f.cfg.SkipUserinfo {
		return access, err
	}
	return access, f.userinfo(ctx, rec, access)
}

// browse follows the browser from /authorize through the room to the
// relying party's redirect URI and returns the authorization code.
func (f *oidcFlow) browse(ctx context.Context, rec *Recorder, l *login) (string, error) {
	next, step := f.authorizeURL(l), stepAuthorize
	for hop := 0; hop < maxHops; hop++ {
		if strings.HasPrefix(next, f.cfg.RedirectURI) {
			return l.codeFrom(next)
		}
		req, err := http.NewRequest(http.MethodGet, next, nil)
		if err != nil {
			return "", err
		}
		a, err := send(ctx, l.browser, rec.Step(step), req)
		if err != nil {
			return "", err
		}
		next, step, err = f.afterHop(ctx, rec, l, step, req.URL, a)
		a.release()
		if err != nil {
			return "", err
		}
	}
	return "", &StepError{Step: step, Cause: "redirect loop", Err: errors.New("too many hops")}
}

// afterHop decides where the browser goes after an answer: a redirect is
// followed; the room page is where the visitor waits and is admitted.
func (f *oidcFlow) afterHop(ctx context.Context, rec *Recorder, l *login, step string, at *url.URL, a answer) (string, string, error) {
	switch {
	case a.Status >= 300 && a.Status < 400 && a.Location != "":
		loc, err := at.Parse(a.Location)
		if err != nil {
			return "", "", &StepError{Step: step, Cause: "body", Err: err}
		}
		return loc.String(), f.stepOf(step, loc), nil
	case a.Status == http.StatusOK && step == stepRoom:
		// The room page held the visitor back: wait for admission, then
		// load the page again, which admits and redirects.
		if err := f.awaitAdmission(ctx, rec, l, at); err != nil {
			return "", "", err
		}
		return at.String(), stepAdmit, nil
	}
	return "", "", &StatusError{Step: step, Status: a.Status}
}

// stepOf names the hop to loc: the first redirect out of /authorize lands
// on the room page; a redirect from there (or from the admitting reload)
// that is not yet the relying party's is the provider's callback. A plain
// provider has no room: every hop after /authorize is its callback (dex:
// the connector, its callback, the skipped approval).
func (f *oidcFlow) stepOf(from string, loc *url.URL) string {
	if from == stepAuthorize && !f.plain {
		return stepRoom
	}
	return stepCallback
}

// roomStatus is what the room page polls.
type roomStatus struct {
	Position int64 `json:"position"`
	Ready    bool  `json:"ready"`
	Closed   bool  `json:"closed"`
}

// awaitAdmission polls the room's status (as the room page's script
// does) until the visitor may enter, telling the admitter its position.
func (f *oidcFlow) awaitAdmission(ctx context.Context, rec *Recorder, l *login, room *url.URL) error {
	status, err := room.Parse(f.statusPath())
	if err != nil {
		return err
	}
	for {
		st, err := f.status(ctx, rec, l, status.String())
		if err != nil || st.Ready {
			return err
		}
		if st.Closed {
			return &StepError{Step: stepStatus, Cause: "room closed", Err: errors.New("room closed")}
		}
		f.admit.queued(st.Position)
		if err := pause(ctx, f.cfg.PollInterval); err != nil {
			return err
		}
	}
}

// statusPath is the room status endpoint under the issuer.
func (f *oidcFlow) statusPath() string {
	iss, err := url.Parse(f.disc.Issuer)
	if err != nil {
		return "/queue/" + url.PathEscape(f.queue.room) + "/status"
	}
	return strings.TrimSuffix(iss.Path, "/") + "/queue/" + url.PathEscape(f.queue.room) + "/status"
}

func (f *oidcFlow) status(ctx context.Context, rec *Recorder, l *login, u string) (roomStatus, error) {
	var st roomStatus
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return st, err
	}
	a, err := send(ctx, l.browser, rec.Step(stepStatus), req)
	if err != nil {
		return st, err
	}
	defer a.release()
	if a.Status != http.StatusOK {
		return st, &StatusError{Step: stepStatus, Status: a.Status}
	}
	return st, a.decode(stepStatus, &st)
}

// codeFrom checks the state and returns the code of the final redirect.
func (l *login) codeFrom(redirect string) (string, error) {
	u, err := url.Parse(redirect)
	if err != nil {
		return "", &StepError{Step: stepCallback, Cause: "body", Err: err}
	}
	q := u.Query()
	if e := q.Get("error"); e != "" {
		return "", &StepError{Step: stepCallback, Cause: "oidc " + e, Err: errors.New(q.Get("error_description"))}
	}
	if q.Get("state") != l.state {
		return "", &StepError{Step: stepCallback, Cause: "state mismatch", Err: errors.New("state not echoed")}
	}
	if q.Get("code") == "" {
		return "", &StepError{Step: stepCallback, Cause: "body", Err: errMissing("code")}
	}
	return q.Get("code"), nil
}

// exchange trades the code for tokens (client_secret_basic, PKCE) and
// checks that the ID token carries the nonce.
func (f *oidcFlow) exchange(ctx context.Context, rec *Recorder, l *login, code string) (string, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {f.cfg.RedirectURI}, "code_verifier": {l.verifier}}
	req, err := http.NewRequest(http.MethodPost, f.disc.Token, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(f.cfg.ClientID), url.QueryEscape(f.cfg.ClientSecret))
	a, err := send(ctx, f.client, rec.Step(stepOIDCToken), req)
	if err != nil {
		return "", err
	}
	defer a.release()
	if a.Status != http.StatusOK {
		return "", &StatusError{Step: stepOIDCToken, Status: a.Status}
	}
	var out struct {
		Access string `json:"access_token"`
		ID     string `json:"id_token"`
	}
	if err := a.decode(stepOIDCToken, &out); err != nil {
		return "", err
	}
	if out.Access == "" {
		return "", &StepError{Step: stepOIDCToken, Cause: "body", Err: errMissing("access_token")}
	}
	if nonce, err := jwtClaim(out.ID, "nonce"); err != nil || nonce != l.nonce {
		return "", &StepError{Step: stepOIDCToken, Cause: "nonce mismatch", Err: fmt.Errorf("id token nonce %q: %v", nonce, err)}
	}
	f.noteAlg(out.ID)
	return out.Access, nil
}

// noteAlg keeps the signing algorithm of the first ID token, so that the
// results say what the provider actually signed with, whatever it was
// configured to do.
func (f *oidcFlow) noteAlg(idToken string) {
	if f.alg.Load() != nil {
		return
	}
	if alg, err := jwtHeader(idToken, "alg"); err == nil && alg != "" {
		f.alg.CompareAndSwap(nil, &alg)
	}
}

// idTokenAlg is the signing algorithm of the ID tokens seen, "" before any.
func (f *oidcFlow) idTokenAlg() string {
	if p := f.alg.Load(); p != nil {
		return *p
	}
	return ""
}

// jwtClaim reads one string claim of a JWT without verifying it: the
// generator checks the flow's bookkeeping, the server's signature checks
// belong to the server's own tests.
func jwtClaim(jwt, name string) (string, error) { return jwtPart(jwt, 1, name) }

// jwtHeader reads one string parameter of a JWT's protected header.
func jwtHeader(jwt, name string) (string, error) { return jwtPart(jwt, 0, name) }

func jwtPart(jwt string, part int, name string) (string, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "", errors.New("not a JWS compact serialization")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[part])
	if err != nil {
		return "", err
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		return "", err
	}
	v, _ := fields[name].(string)
	return v, nil
}

// userinfo asks for the visitor's claims with the access token.
func (f *oidcFlow) userinfo(ctx context.Context, rec *Recorder, access string) error {
	req, err := http.NewRequest(http.MethodGet, f.disc.Userinfo, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+access)
	a, err := send(ctx, f.client, rec.Step(stepUserinfo), req)
	if err != nil {
		return err
	}
	defer a.release()
	if a.Status != http.StatusOK {
		return &StatusError{Step: stepUserinfo, Status: a.Status}
	}
	var out struct {
		Sub string `json:"sub"`
	}
	if err := a.decode(stepUserinfo, &out); err != nil {
		return err
	}
	if out.Sub == "" {
		return &StepError{Step: stepUserinfo, Cause: "body", Err: errMissing("sub")}
	}
	return nil
}
