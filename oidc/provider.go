package oidc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/waitroom-idp/waitroom/oidc/demo"
	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/transport/roompage"
)

// Config configures the provider.
type Config struct {
	// Issuer is the provider's absolute URL without a trailing slash; it
	// may have a path (https://example.com/idp). http is accepted (for
	// development) and then cookies are not marked Secure.
	Issuer string
	// SecretKey (at least 32 bytes) signs cookies, keys client-secret
	// hashes and subjects, and encrypts opaque tokens. Every replica needs
	// the same key; changing it invalidates stored client secrets. Empty:
	// the store's provider key (Store.ProviderKey) is used.
	SecretKey []byte
	// Keys signs ID tokens and JWT access tokens (waitroom.Keys).
	Keys KeySource
	// Clients come from the config file; they are read-only through the
	// admin API. Secrets are given in clear and hashed at start.
	Clients []Client
	// AuthRequestTTL is how long a waiting visitor's login stays valid.
	AuthRequestTTL time.Duration
	// AdmissionTTL is how long an admission cookie completes new logins.
	AdmissionTTL time.Duration
	// ClientCacheTTL bounds how stale a client read from the store may be.
	ClientCacheTTL time.Duration
	// StatusPoll is how often the room page asks for news.
	StatusPoll time.Duration
	// TemplateDir holds operator templates that override the built-in
	// waiting-room page (room.html, error.html, partials.html).
	TemplateDir string
	// Demo, when set, registers the demo client and serves the demo
	// relying party under <issuer>/demo/.
	Demo   *DemoConfig
	Clock  func() time.Time
	Logger *slog.Logger
}

// Defaults for Config.
const (
	DefaultAuthRequestTTL = 12 * time.Hour
	DefaultAdmissionTTL   = 30 * time.Minute
	DefaultClientCacheTTL = 5 * time.Second
	DefaultStatusPoll     = 3 * time.Second
)

func (c Config) withDefaults() Config {
	c.Issuer = strings.TrimSuffix(c.Issuer, "/")
	if c.AuthRequestTTL == 0 {
		c.AuthRequestTTL = DefaultAuthRequestTTL
	}
	if c.AdmissionTTL == 0 {
		c.AdmissionTTL = DefaultAdmissionTTL
	}
	if c.ClientCacheTTL == 0 {
		c.ClientCacheTTL = DefaultClientCacheTTL
	}
	if c.StatusPoll == 0 {
		c.StatusPoll = DefaultStatusPoll
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func (c Config) validate() (*url.URL, error) {
	var p []string
	u, err := url.Parse(c.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		p = append(p, "issuer: an absolute http(s) URL without query or fragment")
	}
	if len(c.SecretKey) < 32 {
		p = append(p, "secret key: at least 32 bytes")
	}
	if c.Keys == nil {
		p = append(p, "keys: required")
	}
	seen := map[string]bool{}
	for _, cl := range c.Clients {
		if err := cl.WithDefaults().Validate(); err != nil {
			p = append(p, fmt.Sprintf("client %q: %s", cl.ID, waitroom.ErrorMessage(err)))
		}
		if seen[cl.ID] {
			p = append(p, fmt.Sprintf("client %q: defined twice", cl.ID))
		}
		seen[cl.ID] = true
	}
	return u, problems(p)
}

// DemoConfig configures the built-in demo relying party.
type DemoConfig struct {
	// Room the demo client queues in ("demo" by default). It must exist;
	// demo.EnsureRoom creates it.
	Room string
	// AdvanceNote is shown on the demo page to say how the line moves.
	AdvanceNote string
}

// DemoClientID is the client id of the built-in demo relying party.
const DemoClientID = "demo"

// Provider is the OpenID provider with its room pages.
type Provider struct {
	cfg     Config
	issuer  *url.URL
	queue   Queue
	store   Store
	clients *clientRegistry
	storage *storage
	op      *op.Provider
	kr      keyring
	cookies cookieJar
	pages   *pages
	room    *roompage.Page
	log     *slog.Logger
	handler http.Handler
	demo    http.Handler
	// verified remembers JWT access tokens already verified.
	verified *verifiedTokens
	signers  signerCache
}

// New builds the provider. queue is the queue core, eph keeps auth
// requests, codes and access tokens, store keeps API clients and refresh
// tokens.
func New(ctx context.Context, cfg Config, queue Queue, eph waitroom.Ephemeral, store Store) (*Provider, error) {
	cfg = cfg.withDefaults()
	if len(cfg.SecretKey) == 0 {
		key, err := store.ProviderKey(ctx)
		if err != nil {
			return nil, err
		}
		cfg.SecretKey = key
	}
	issuer, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	p := &Provider{cfg: cfg, issuer: issuer, queue: queue, store: store, kr: newKeyring(cfg.SecretKey), log: cfg.Logger,
		verified: newVerifiedTokens(verifiedTokensPerGeneration)}
	p.cookies = cookieJar{key: p.kr.cookies, path: issuer.Path + "/", secure: issuer.Scheme == "https"}
	p.clients = newClientRegistry(p.fixedClients(), store, cfg.ClientCacheTTL, cfg.Clock)
	p.storage = &storage{
		eph: ephemeralJSON{eph}, store: store, queue: queue, clients: p.clients, keys: cfg.Keys,
		kr: p.kr, now: cfg.Clock, issuer: cfg.Issuer, loginURL: p.loginURL, authTTL: cfg.AuthRequestTTL,
	}
	if p.op, err = p.newOP(); err != nil {
		return nil, err
	}
	p.storage.resolveToken = p.resolveAccessToken
	if p.pages, err = newPages(); err != nil {
		return nil, err
	}
	p.room, err = roompage.New(roompage.Options{
		TemplateDir: cfg.TemplateDir, StaticPrefix: issuer.Path + "/static", Clock: cfg.Clock, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	if p.demo, err = p.newDemo(); err != nil {
		return nil, err
	}
	p.handler = p.routes()
	return p, nil
}

// demoClient is the client of the built-in demo; its secret is new at every
// start (it only ever travels inside the process).
func (p *Provider) demoClient(secret string) Client {
	room := p.cfg.Demo.Room
	if room == "" {
		room = "demo"
	}
	return Client{
		ID: DemoClientID, Name: "waitroom demo", Secret: secret, Room: room,
		RedirectURIs:           []string{p.cfg.Issuer + "/demo/callback"},
		PostLogoutRedirectURIs: []string{p.cfg.Issuer + "/demo/"},
		Subject:                SubjectPairwise,
		Claims:                 map[string]string{"preferred_username": "visitor-{sub8}", "email": "{sub8}@visitors.invalid"},
	}
}

func (p *Provider) newDemo() (http.Handler, error) {
	if p.cfg.Demo == nil {
		return nil, nil
	}
	c := p.demoClient(randomToken(24)).WithDefaults()
	rp, err := demo.New(demo.Config{Issuer: p.cfg.Issuer, ClientID: c.ID, ClientSecret: c.Secret,
		BaseURL: p.cfg.Issuer + "/demo", Room: c.Room, AdvanceNote: p.cfg.Demo.AdvanceNote,
		Transport: inProcess{p}})
	if err != nil {
		return nil, err
	}
	c.SecretHash, c.Secret, c.Source = p.kr.hashSecret(c.Secret), "", SourceConfig
	p.clients.fixed[c.ID] = c
	return http.StripPrefix("/demo", rp.Handler()), nil
}

// inProcess carries the demo's back-channel calls (discovery, token,
// userinfo, keys) straight to the provider's handler, so the demo works
// whatever the network sees of the issuer.
type inProcess struct{ p *Provider }

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.p.handler.ServeHTTP(rec, req)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

func (p *Provider) fixedClients() []Client {
	out := make([]Client, 0, len(p.cfg.Clients))
	for _, c := range p.cfg.Clients {
		c = c.WithDefaults()
		c.SecretHash, c.Secret = p.kr.hashSecret(c.Secret), ""
		c.Source = SourceConfig
		out = append(out, c)
	}
	return out
}

func (p *Provider) newOP() (*op.Provider, error) {
	conf := &op.Config{
		CryptoKey:             p.kr.crypto,
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedClaims:       supportedClaims,
		// end_session without a registered post_logout_redirect_uri lands
		// on the provider's own page.
		DefaultLogoutRedirectURI: p.cfg.Issuer + "/logged-out",
	}
	crypto, err := newTokenCrypto(p.kr.crypto)
	if err != nil {
		return nil, err
	}
	opts := []op.Option{op.WithCrypto(crypto)}
	if p.issuer.Scheme == "http" {
		opts = append(opts, op.WithAllowInsecure())
	}
	return op.NewProvider(conf, p.storage, op.StaticIssuer(p.cfg.Issuer), opts...)
}

// Issuer returns the issuer URL.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

// Handler serves the provider, the room pages and their static files. It
// expects full paths (with the issuer's path prefix, if any).
func (p *Provider) Handler() http.Handler { return p.handler }

func (p *Provider) loginURL(id string) string { return p.cfg.Issuer + "/login/" + id }

func (p *Provider) routes() http.Handler {
	r := mux.NewRouter()
	r.HandleFunc(oidc.DiscoveryEndpoint, p.discovery).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/keys", p.keys).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/authorize", p.authorize).Methods(http.MethodGet, http.MethodPost)
	r.Handle("/oauth/token", p.endpoint(p.token)).Methods(http.MethodPost)
	r.Handle("/userinfo", p.endpoint(p.userinfo)).Methods(http.MethodGet, http.MethodPost)
	r.Handle("/oauth/introspect", p.endpoint(p.introspect)).Methods(http.MethodPost)
	r.Handle("/revoke", p.endpoint(p.revoke)).Methods(http.MethodPost)
	r.Handle("/end_session", p.page(p.endSession)).Methods(http.MethodGet, http.MethodPost)
	r.Handle("/logged-out", p.page(p.loggedOut)).Methods(http.MethodGet)
	r.Handle("/login/{id}", p.page(p.login)).Methods(http.MethodGet)
	r.Handle("/login/{id}/rejoin", p.page(p.rejoin)).Methods(http.MethodPost)
	r.Handle("/queue/{room}/status", p.endpoint(p.status)).Methods(http.MethodGet)
	r.PathPrefix("/static/").Handler(staticHandler())
	if p.demo != nil {
		r.Handle("/demo", http.RedirectHandler(p.cfg.Issuer+"/demo/", http.StatusFound))
		r.PathPrefix("/demo/").Handler(p.demo)
	}
	r.NotFoundHandler = http.HandlerFunc(p.notFound)
	var h http.Handler = limitBody(r)
	h = op.NewIssuerInterceptor(p.op.IssuerFromRequest).Handler(h)
	if prefix := p.issuer.Path; prefix != "" {
		h = http.StripPrefix(prefix, h)
	}
	return h
}

// limitBody caps request bodies: nothing the provider accepts is large.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		}
		next.ServeHTTP(w, r)
	})
}

func (p *Provider) notFound(w http.ResponseWriter, r *http.Request) {
	p.renderError(w, r, http.StatusNotFound, "oidc.not_found.title", "oidc.not_found.body")
}

// oauthError is an error answered as an OAuth JSON error.
type oauthError struct {
	status int
	code   string
	desc   string
	header http.Header
}

func (e *oauthError) Error() string { return e.code + ": " + e.desc }

// endpoint adapts a JSON handler that returns an error; writeJSONError
// is the one place that turns it into a status.
func (p *Provider) endpoint(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			p.writeJSONError(w, r, err)
		}
	})
}

// writeJSONError maps an error to an OAuth-style JSON answer: library
// errors keep their type, queue-core errors their meaning, outages become
// 503 with Retry-After, internals are logged and never shown.
func (p *Provider) writeJSONError(w http.ResponseWriter, r *http.Request, err error) {
	e := p.toOAuthError(r, err)
	for k, v := range e.header {
		w.Header()[k] = v
	}
	body := map[string]string{"error": e.code}
	if e.desc != "" {
		body["error_description"] = e.desc
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, e.status, body)
}

func (p *Provider) toOAuthError(r *http.Request, err error) *oauthError {
	var oe *oauthError
	if errors.As(err, &oe) {
		return oe
	}
	var le *oidc.Error
	if errors.As(err, &le) {
		status := http.StatusBadRequest
		switch le.ErrorType {
		case oidc.InvalidClient:
			status = http.StatusUnauthorized
		case oidc.ServerError:
			p.log.ErrorContext(r.Context(), "oidc server error", "path", r.URL.Path, "error", err)
			return &oauthError{status: http.StatusInternalServerError, code: "server_error"}
		}
		return &oauthError{status: status, code: string(le.ErrorType), desc: le.Description}
	}
	switch waitroom.ErrorCode(err) {
	case waitroom.CodeUnavailable:
		p.log.WarnContext(r.Context(), "store unavailable", "path", r.URL.Path, "error", err)
		return &oauthError{status: http.StatusServiceUnavailable, code: "temporarily_unavailable",
			desc: "try again shortly", header: http.Header{"Retry-After": {"2"}}}
	case waitroom.CodeNotFound:
		return &oauthError{status: http.StatusBadRequest, code: "invalid_grant", desc: waitroom.ErrorMessage(err)}
	}
	p.log.ErrorContext(r.Context(), "oidc internal error", "path", r.URL.Path, "error", err)
	return &oauthError{status: http.StatusInternalServerError, code: "server_error"}
}

// PurgeExpired deletes refresh tokens that have expired (the Ephemeral
// values expire by themselves). Safe to run on every replica.
func (p *Provider) PurgeExpired(ctx context.Context) (int64, error) {
	return p.store.DeleteExpiredRefreshTokens(ctx, p.cfg.Clock())
}

// RunPurge calls PurgeExpired every `every` until ctx ends.
func (p *Provider) RunPurge(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := p.PurgeExpired(ctx); err != nil {
				p.log.WarnContext(ctx, "purge expired refresh tokens", "error", err)
			} else if n > 0 {
				p.log.InfoContext(ctx, "purged expired refresh tokens", "count", n)
			}
		}
	}
}
