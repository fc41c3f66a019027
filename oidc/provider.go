package oidc

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/waitroom-idp/waitroom/oidc/clients"
	"github.com/waitroom-idp/waitroom/oidc/demo"
	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/admission"
	"github.com/waitroom-idp/waitroom/waitroom/transport/roompage"
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// Config configures the provider.
type Config struct {
	// Issuer is the provider's absolute URL without a trailing slash; it
	// may have a path (https://example.com/idp). http is accepted (for
	// development) and then cookies are not marked Secure.
	Issuer string
	// SecretKey (at least 32 bytes, the same on every replica) signs
	// cookies, keys subjects and token hashes, and encrypts opaque tokens.
	SecretKey []byte
	// Keys signs ID tokens and JWT access tokens (waitroom.Keys).
	Keys KeySource
	// Clients are the registered relying parties.
	Clients *clients.Registry
	// AuthRequestTTL is how long a waiting visitor's login stays valid.
	AuthRequestTTL time.Duration
	// AdmissionTTL is how long an admission cookie completes new logins.
	AdmissionTTL time.Duration
	// StatusPoll is how often the room page asks for news.
	StatusPoll time.Duration
	// TemplateDir holds operator templates that override the built-in
	// waiting-room page (room.html, error.html, partials.html).
	TemplateDir string
	// Demo, when set, registers the demo client and serves the demo
	// relying party under <issuer>/demo/.
	Demo *DemoConfig
	// Gate is the rooms' bot gate: a browser without a place passes it
	// before the room page enqueues it. nil: no room is gated.
	Gate   *admission.Gate
	Clock  func() time.Time
	Logger *slog.Logger
}

// Defaults for Config.
const (
	DefaultAuthRequestTTL = 12 * time.Hour
	DefaultAdmissionTTL   = 30 * time.Minute
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
	if c.Clients == nil {
		p = append(p, "clients: required")
	}
	return u, waitroom.Problems(p)
}

// DemoConfig configures the built-in demo relying party.
type DemoConfig struct {
	// Room the demo client queues in ("demo" by default). It must exist.
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
	clients *clients.Registry
	grants  *grants
	op      *op.Provider
	kr      keyring
	crypto  tokenCrypto
	cookies cookieJar
	room    *roompage.Page
	log     *slog.Logger
	handler http.Handler
	// router is handler's router, without the issuer's path (Routes).
	router *mux.Router
	demo   http.Handler
	// verified remembers JWT access tokens already verified.
	verified *verifiedTokens
	signers  signerCache
}

// New builds the provider. queue is the queue core, eph keeps auth
// requests, codes and grants, refresh keeps refresh tokens.
func New(cfg Config, queue Queue, eph waitroom.Ephemeral, refresh waitroom.RefreshStore) (*Provider, error) {
	cfg = cfg.withDefaults()
	issuer, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	p := &Provider{cfg: cfg, issuer: issuer, queue: queue, clients: cfg.Clients, kr: newKeyring(cfg.SecretKey),
		log: cfg.Logger, verified: newVerifiedTokens(verifiedTokensPerGeneration)}
	p.cookies = cookieJar{key: p.kr.cookies, path: issuer.Path + "/", secure: issuer.Scheme == "https"}
	p.grants = &grants{
		eph: ephemeralJSON{eph}, refresh: refresh, queue: queue, kr: p.kr, now: cfg.Clock, issuer: cfg.Issuer,
		authTTL: cfg.AuthRequestTTL, resolveToken: p.resolveAccessToken,
	}
	if p.crypto, err = newTokenCrypto(p.kr.crypto); err != nil {
		return nil, err
	}
	if p.op, err = p.newOP(); err != nil {
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
func (p *Provider) demoClient(secret string) waitroom.Client {
	room := p.cfg.Demo.Room
	if room == "" {
		room = "demo"
	}
	return waitroom.Client{
		ID: DemoClientID, Name: "waitroom demo", Secret: secret, Room: room,
		RedirectURIs:           []string{p.cfg.Issuer + "/demo/callback"},
		PostLogoutRedirectURIs: []string{p.cfg.Issuer + "/demo/"},
		Subject:                waitroom.SubjectPairwise,
		Claims:                 map[string]string{"preferred_username": "visitor-{sub8}", "email": "{sub8}@visitors.invalid"},
	}
}

func (p *Provider) newDemo() (http.Handler, error) {
	if p.cfg.Demo == nil {
		return nil, nil
	}
	c := p.demoClient(randomToken(24))
	rp, err := demo.New(demo.Config{Issuer: p.cfg.Issuer, ClientID: c.ID, ClientSecret: c.Secret,
		BaseURL: p.cfg.Issuer + "/demo", Room: c.Room, AdvanceNote: p.cfg.Demo.AdvanceNote,
		Transport: inProcess{p}})
	if err != nil {
		return nil, err
	}
	if err := p.clients.RegisterBuiltIn(c, p.origin()); err != nil {
		return nil, err
	}
	return http.StripPrefix("/demo", rp.Handler()), nil
}

// origin is the issuer's scheme and host, without its path.
func (p *Provider) origin() string { return p.issuer.Scheme + "://" + p.issuer.Host }

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
	opts := []op.Option{op.WithCrypto(p.crypto)}
	if p.issuer.Scheme == "http" {
		opts = append(opts, op.WithAllowInsecure())
	}
	storage := &opStorage{grants: p.grants, clients: p.clients, keys: p.cfg.Keys, loginURL: p.loginURL}
	return op.NewProvider(conf, storage, op.StaticIssuer(p.cfg.Issuer), opts...)
}

// Issuer returns the issuer URL.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

// Routes lists every route of Handler, under the issuer's path.
func (p *Provider) Routes() []web.Route {
	routes := web.MuxRoutes(p.router)
	for i := range routes {
		routes[i].Path = p.issuer.Path + routes[i].Path
	}
	return routes
}

// Handler serves the provider, the room pages and their static files. It
// expects full paths (with the issuer's path prefix, if any).
func (p *Provider) Handler() http.Handler { return p.handler }

func (p *Provider) loginURL(id string) string { return p.cfg.Issuer + "/login/" + id }

func (p *Provider) routes() http.Handler {
	r := mux.NewRouter()
	// The room page's status poll first: it is the most frequent request
	// by far, and mux tries the routes in order (the templates do not
	// overlap, so the order changes nothing else).
	r.Handle("/queue/{room}/status", web.JSONHandler(p.status)).Methods(http.MethodGet)
	r.HandleFunc(oidc.DiscoveryEndpoint, p.discovery).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/keys", p.keys).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/authorize", p.page(p.authorize)).Methods(http.MethodGet, http.MethodPost)
	r.Handle("/oauth/token", oauthHandler(p.token)).Methods(http.MethodPost)
	r.Handle("/userinfo", oauthHandler(p.userinfo)).Methods(http.MethodGet, http.MethodPost)
	r.Handle("/oauth/introspect", oauthHandler(p.introspect)).Methods(http.MethodPost)
	r.Handle("/revoke", oauthHandler(p.revoke)).Methods(http.MethodPost)
	r.Handle("/end_session", p.page(p.endSession)).Methods(http.MethodGet, http.MethodPost)
	r.Handle("/logged-out", p.page(p.loggedOut)).Methods(http.MethodGet)
	r.Handle("/login/{id}", p.page(p.login)).Methods(http.MethodGet, http.MethodPost)
	r.Handle("/login/{id}/rejoin", p.page(p.rejoin)).Methods(http.MethodPost)
	r.PathPrefix("/static/").Handler(staticHandler())
	if p.demo != nil {
		r.Handle("/demo", http.RedirectHandler(p.cfg.Issuer+"/demo/", http.StatusFound))
		r.PathPrefix("/demo/").Handler(p.demo)
	}
	r.NotFoundHandler = p.page(func(http.ResponseWriter, *http.Request) error { return errPageNotFound })
	r.MethodNotAllowedHandler = http.HandlerFunc(p.methodNotAllowed)
	p.router = r
	var h http.Handler = limitBody(r)
	h = op.NewIssuerInterceptor(p.op.IssuerFromRequest).Handler(h)
	if prefix := p.issuer.Path; prefix != "" {
		h = http.StripPrefix(prefix, h)
	}
	return h
}

// methodNotAllowed answers a known path asked with a method it does not
// serve: 405, with the methods it does serve in Allow (RFC 9110 §15.5.6).
func (p *Provider) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		var match mux.RouteMatch
		if p.router.Match(probe, &match) && match.MatchErr == nil {
			allowed = append(allowed, m)
		}
	}
	allow := strings.Join(allowed, ", ")
	web.Error(w, r, &web.Problem{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
		Message: r.Method + " is not allowed here; allowed: " + allow, OAuth: "invalid_request",
		Header: http.Header{"Allow": {allow}}})
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

// oauth turns an error of the library (*oidc.Error) into the boundary's
// Problem; other errors pass unchanged.
func oauth(err error) error {
	var le *oidc.Error
	if !errors.As(err, &le) {
		return err
	}
	status := http.StatusBadRequest
	switch le.ErrorType {
	case oidc.InvalidClient:
		status = http.StatusUnauthorized
	case oidc.ServerError:
		return &web.Problem{Status: http.StatusInternalServerError, Code: string(waitroom.CodeInternal),
			Message: "internal error", OAuth: string(le.ErrorType), Cause: err}
	}
	return &web.Problem{Status: status, Code: string(le.ErrorType), Message: le.Description, OAuth: string(le.ErrorType), Cause: err}
}

// PurgeExpired deletes refresh tokens that have expired (the Ephemeral
// values expire by themselves). Safe to run on every replica.
func (p *Provider) PurgeExpired(ctx context.Context) (int64, error) {
	return p.grants.refresh.DeleteExpiredRefreshTokens(ctx, p.cfg.Clock())
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
