package oidc_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/oidc"
	"github.com/waitroom-idp/waitroom/oidc/clients"
	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/admission"
	"github.com/waitroom-idp/waitroom/waitroom/backend/backendtest"
)

// clock is real time plus an offset the test moves: tokens stay
// verifiable by the relying-party libraries (which use the real clock)
// while TTLs and max_hold can be travelled through.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// backend is what a test environment runs on.
type backend = backendtest.Factory

// redispgBackend runs on PostgreSQL and Redis, each test in its own schema
// and key prefix.
func redispgBackend() backend { return backend{Name: "redispg", Open: backendtest.RedisPG} }

func embeddedBackend() backend { return backend{Name: "embedded", Open: backendtest.Embedded} }

// env is a provider on an httptest server over one backend, with one room
// ("r1") and confidential clients of that room.
type env struct {
	t       testing.TB
	ctx     context.Context
	clock   *clock
	svc     *waitroom.Service
	eph     waitroom.Ephemeral
	backend *waitroom.Backend
	clients *clients.Registry
	prov    *oidc.Provider
	srv     *httptest.Server
	issuer  string
}

const (
	rpRedirect   = "https://rp.test/cb"
	rpLogout     = "https://rp.test/bye"
	rpInitiate   = "https://rp.test/login"
	rpSecret     = "rp1-secret-0123456789"
	room1        = "r1"
	wpRedirect   = "https://wp.test/wp-admin/admin-ajax.php?action=openid-connect-authorize"
	issuerPrefix = ""
)

type envOption func(*envConfig)

// flaky is an Ephemeral that can be switched off, to play a Redis outage.
type flaky struct {
	waitroom.Ephemeral
	down atomic.Bool
}

func (f *flaky) err() error {
	if f.down.Load() {
		return waitroom.Errorf(waitroom.CodeUnavailable, "redis is down")
	}
	return nil
}

func (f *flaky) Put(ctx context.Context, k string, v []byte, ttl time.Duration) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Ephemeral.Put(ctx, k, v, ttl)
}

func (f *flaky) Get(ctx context.Context, k string) ([]byte, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Ephemeral.Get(ctx, k)
}

func (f *flaky) Take(ctx context.Context, k string) ([]byte, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Ephemeral.Take(ctx, k)
}

func withFlaky(f *flaky) envOption { return func(c *envConfig) { c.flaky = f } }

type envConfig struct {
	demo    bool
	flaky   *flaky
	backend backend
	prefix  string
	clients []waitroom.Client
	startAt time.Duration
	alg     string
	gate    *waitroom.BotGate
}

func withBackend(b backend) envOption { return func(c *envConfig) { c.backend = b } }
func withPrefix(p string) envOption   { return func(c *envConfig) { c.prefix = p } }
func withClients(cl ...waitroom.Client) envOption {
	return func(c *envConfig) { c.clients = append(c.clients, cl...) }
}
func startingAt(d time.Duration) envOption { return func(c *envConfig) { c.startAt = d } }

func testClient(id string) waitroom.Client {
	return waitroom.Client{
		ID: id, Secret: id + "-secret-0123456789", Room: room1,
		RedirectURIs:           []string{rpRedirect, wpRedirect},
		PostLogoutRedirectURIs: []string{rpLogout},
		GrantTypes:             []string{waitroom.GrantAuthorizationCode, waitroom.GrantRefreshToken},
		Claims:                 map[string]string{"preferred_username": "visitor-{sub8}", "email": "{sub8}@visitors.invalid"},
	}
}

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	cfg := envConfig{backend: embeddedBackend()}
	for _, o := range opts {
		o(&cfg)
	}
	if len(cfg.clients) == 0 {
		cfg.clients = []waitroom.Client{testClient("rp1"), testClient("rp2")}
	}
	e := &env{t: t, ctx: context.Background(), clock: &clock{offset: cfg.startAt}}
	e.backend = cfg.backend.Open(t, e.clock.Now).Backend
	qs, eph := e.backend.Store, e.backend.Ephemeral
	if cfg.flaky != nil {
		cfg.flaky.Ephemeral = eph
		eph = cfg.flaky
	}
	e.eph = eph
	keys, err := waitroom.LoadKeys(e.ctx, qs, waitroom.KeyOptions{Algorithm: cfg.alg, Clock: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = waitroom.NewService(qs, keys, waitroom.Options{Clock: e.clock.Now})
	first := waitroom.NewRoom(room1, "Room one")
	first.BotGate = cfg.gate
	if _, err := e.svc.CreateRoom(e.ctx, first); err != nil {
		t.Fatal(err)
	}
	var handler http.Handler = http.NotFoundHandler()
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	e.issuer = e.srv.URL + cfg.prefix
	secret := []byte("0123456789abcdef0123456789abcdef-test")
	e.clients, err = clients.New(clients.Config{Fixed: cfg.clients, Store: e.backend.Clients, Secret: secret, Clock: e.clock.Now, Rooms: e.svc})
	if err != nil {
		t.Fatal(err)
	}
	conf := oidc.Config{Issuer: e.issuer, SecretKey: secret, Keys: keys, Clients: e.clients, Clock: e.clock.Now}
	if cfg.demo {
		conf.Demo = &oidc.DemoConfig{Room: "demo"}
	}
	if cfg.gate != nil {
		conf.Gate = admission.NewGate(admission.GateOptions{Key: []byte("gate-key-0123456789abcdef0123456"), Ephemeral: eph, Clock: e.clock.Now})
	}
	e.prov, err = oidc.New(conf, oidc.ServiceQueue{Service: e.svc}, eph, e.backend.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	handler = e.prov.Handler()
	return e
}

// serve lets everyone in who is queued now.
func (e *env) admitAll() {
	e.t.Helper()
	c, err := e.svc.Counters(e.ctx, room1)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.svc.SetServing(e.ctx, room1, c.Queue); err != nil {
		e.t.Fatal(err)
	}
}

// browser is a user agent with a cookie jar that stops at the relying
// party (any host other than the provider's).
type browser struct {
	t    testing.TB
	c    *http.Client
	host string
	lang string // Accept-Language, when set
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(e.srv.URL)
	b := &browser{t: e.t, host: u.Host}
	b.c = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != b.host {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

// page is what the browser ended on.
type page struct {
	status   int
	url      *url.URL // last URL fetched from the provider
	location *url.URL // redirect to the relying party, if any
	body     string
	header   http.Header
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := page{status: resp.StatusCode, url: resp.Request.URL, body: string(body), header: resp.Header}
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode/100 == 3 {
		p.location, _ = resp.Request.URL.Parse(loc)
	}
	return p
}

func (b *browser) get(raw string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, raw, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(raw string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, raw, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// pkce returns a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func randomString() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authParams are the usual parameters of a code-flow request.
func authParams(clientID, redirect string) url.Values {
	return url.Values{
		"client_id": {clientID}, "redirect_uri": {redirect}, "response_type": {"code"},
		"scope": {"openid profile offline_access"}, "state": {randomString()}, "nonce": {randomString()},
	}
}

func (e *env) authorizeURL(v url.Values) string { return e.issuer + "/authorize?" + v.Encode() }

// login runs /authorize in the browser, admits everyone and returns the
// redirect to the relying party.
func (e *env) login(b *browser, v url.Values) *url.URL {
	e.t.Helper()
	p := b.get(e.authorizeURL(v))
	if p.location == nil {
		e.admitAll()
		p = b.get(p.url.String())
	}
	if p.location == nil {
		e.t.Fatalf("no redirect to the relying party: %d %s", p.status, p.body)
	}
	return p.location
}

// code logs in and returns the code, checking state.
func (e *env) code(b *browser, v url.Values) string {
	e.t.Helper()
	loc := e.login(b, v)
	q := loc.Query()
	if q.Get("error") != "" {
		e.t.Fatalf("error redirect: %s", loc)
	}
	if q.Get("state") != v.Get("state") {
		e.t.Fatalf("state %q, want %q", q.Get("state"), v.Get("state"))
	}
	return q.Get("code")
}

// readCookieTicket reads the ticket id from a signed cookie's payload.
func readCookieTicket(t testing.TB, value string) string {
	t.Helper()
	payload, _, _ := strings.Cut(value, ".")
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		T string `json:"t"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c.T
}
