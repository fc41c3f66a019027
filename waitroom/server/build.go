package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/pprof"
	"net/url"
	"strings"
	"time"

	"github.com/waitroom-idp/waitroom/oidc"
	"github.com/waitroom-idp/waitroom/oidc/clients"
	"github.com/waitroom-idp/waitroom/static"
	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/admission"
	"github.com/waitroom-idp/waitroom/waitroom/transport/gate"
	"github.com/waitroom-idp/waitroom/waitroom/transport/httpapi"
	"github.com/waitroom-idp/waitroom/waitroom/transport/middleware"
	"github.com/waitroom-idp/waitroom/waitroom/transport/panel"
	"github.com/waitroom-idp/waitroom/waitroom/transport/roompage"
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// panelSampleEvery is how often the control panel's chart samples every
// room's counters.
const panelSampleEvery = 10 * time.Second

func newMetrics() *httpapi.Metrics { return httpapi.NewMetrics() }

// build wires the queue core, the admission policies, the OpenID provider,
// the control panel and both HTTP APIs, in the order they depend on each
// other: nothing is changed once built.
func (s *Server) build(ctx context.Context, metrics *httpapi.Metrics) error {
	cfg := s.cfg
	secret, err := s.deploymentSecret(ctx)
	if err != nil {
		return err
	}
	keys, err := waitroom.LoadKeys(ctx, s.backend.Store, waitroom.KeyOptions{Algorithm: cfg.SigningAlgorithm, RotateEvery: cfg.KeyRotation.D()})
	if err != nil {
		return fmt.Errorf("loading signing keys: %w", err)
	}
	svc := waitroom.NewService(s.backend.Store, keys, waitroom.Options{Logger: s.logger, PollTTL: cfg.PollCache.D()})
	work := leaderWork{svc: svc, keys: keys, every: cfg.ExpiryInterval.D(), rotate: cfg.KeyRotation.D() > 0, logger: s.logger.With("job", "admission")}
	pol := newPolicies(s.backend, svc, work, s.logger)
	demo, err := ensureRooms(ctx, cfg, svc)
	if err != nil {
		return err
	}
	gate := s.botGate(secret, svc)
	audit := auditTrail{store: s.backend.Audit, rooms: svc.Room, events: pol.dispatcher, logger: s.logger}
	registry, err := clients.New(clients.Config{Fixed: cfg.Clients, Store: s.backend.Clients, Secret: secret, Audit: audit, Rooms: svc})
	if err != nil {
		return fmt.Errorf("clients: %w", err)
	}
	provider, err := oidc.New(oidc.Config{Issuer: s.issuer, SecretKey: secret, Keys: keys, Clients: registry,
		Logger: s.logger, TemplateDir: cfg.TemplateDir, Demo: demo.provider(), Gate: gate}, pol.guarded, s.backend.Ephemeral, s.backend.Refresh)
	if err != nil {
		return fmt.Errorf("openid provider: %w", err)
	}
	siteGate, err := newGate(s, secret, keys, pol.guarded)
	if err != nil {
		return fmt.Errorf("gate: %w", err)
	}
	hashes, generated := adminKeyHashes(cfg)
	s.adminKey = generated
	adminKeys, err := httpapi.ParseAdminKeys(hashes)
	if err != nil {
		return fmt.Errorf("admin_key_hashes: %w", err)
	}
	proxies, _ := middleware.ParseTrustedProxies(cfg.TrustedProxies)
	api, err := httpapi.New(httpapi.Options{
		Metrics: metrics, Service: pol.guarded, Deliveries: s.backend.Outbox, Draws: pol.prequeue, Keys: keys,
		Ready: s.backend.Store.Ping, Issuer: s.issuer, Logger: s.logger, MetricsOnPublic: cfg.MetricsListener == "public", MetricsToken: cfg.MetricsToken,
		AdminKeys: adminKeys, CORSOrigins: cfg.CORSOrigins, TrustedProxies: proxies,
		MaxBodyBytes: cfg.MaxBodyBytes, MaxQueryBytes: cfg.MaxQueryBytes, ServingMaxAge: cfg.ServingCache.D(),
		AssignLimit: cfg.AssignRateLimit, AssignWindow: cfg.AssignRateWindow.D(), RateCounter: s.backend.Ephemeral,
		Audit: audit, AuditTrail: s.backend.Audit, Gate: gate,
		PublicHSTS: strings.HasPrefix(s.issuer, "https://"), AdminHSTS: s.adminCert != nil,
	})
	if err != nil {
		return err
	}
	sampler := panel.NewSampler(svc, panelSampleEvery, time.Now, s.logger)
	controlPanel, err := panel.New(panel.Options{
		Service: svc, Admin: api.InProcess(), Clients: registry.Handler(), Identify: adminKeys.Identify, Issuer: s.issuer,
		Sampler: sampler, SessionSecret: waitroom.DeriveKey(secret, "derived:panel-session"), TemplateDir: cfg.TemplateDir,
		SecureCookies: s.adminCert != nil, Logger: s.logger,
		RoomState: func(ctx context.Context, room string) (string, bool) {
			return admission.PublishedState(ctx, s.backend.Ephemeral, room)
		},
	})
	if err != nil {
		return err
	}
	issuer, _ := url.Parse(s.issuer) // validated with the configuration
	public := api.PublicHandler(httpapi.Mount{Prefix: issuer.Path + "/gate/", Handler: siteGate.Handler()},
		httpapi.Mount{Prefix: issuer.Path + "/", Handler: provider.Handler()})
	admin := api.AdminHandler(s.adminMounts(registry, controlPanel)...)
	s.routes = s.listRoutes(api, provider, siteGate, registry, controlPanel)
	s.public = s.httpServer(public, "public", s.publicCert)
	s.admin = s.httpServer(admin, "admin", s.adminCert)
	s.starts = []func(context.Context){
		pol.run,
		func(ctx context.Context) {
			reloadKeys(ctx, keys, min(keyReloadEvery, cfg.ExpiryInterval.D()), s.logger.With("job", "background"))
		},
		sampler.Run,
		func(ctx context.Context) { provider.RunPurge(ctx, time.Hour) },
	}
	for _, cert := range []*certificate{s.publicCert, s.adminCert} {
		if cert != nil {
			s.starts = append(s.starts, func(ctx context.Context) { cert.watch(ctx, s.certCheckEvery) })
		}
	}
	s.links = s.bannerLinks(demo)
	return nil
}

// newGate builds the forward-auth gate: the room page for websites behind
// a reverse proxy (package gate).
func newGate(s *Server, secret []byte, keys *waitroom.Keys, queue gate.Queue) (*gate.Gate, error) {
	issuer, _ := url.Parse(s.issuer) // validated with the configuration
	page, err := roompage.New(roompage.Options{TemplateDir: s.cfg.TemplateDir, StaticPrefix: issuer.Path + "/static", Logger: s.logger})
	if err != nil {
		return nil, err
	}
	return gate.New(gate.Options{Issuer: s.issuer, SecretKey: secret, Keys: keys, Queue: queue,
		Handoffs: s.backend.Ephemeral, Page: page})
}

// botGate is the rooms' bot gate: challenges signed with a key derived
// from the deployment secret (the same on every replica), used solutions
// and visitors' places kept in Ephemeral, and the configured CAPTCHA
// providers.
func (s *Server) botGate(secret []byte, svc *waitroom.Service) *admission.Gate {
	providers := map[string]admission.CaptchaProvider{}
	for name, c := range s.cfg.CaptchaProviders() {
		providers[name] = admission.CaptchaProvider{SiteKey: c.SiteKey, Secret: c.Secret, VerifyURL: c.VerifyURL}
	}
	return admission.NewGate(admission.GateOptions{
		Key: waitroom.DeriveKey(secret, "derived:bot-gate"), Ephemeral: s.backend.Ephemeral, Counters: svc.Counters,
		Captcha: admission.NewCaptcha(providers, &http.Client{Timeout: s.cfg.CaptchaTimeout.D()}),
	})
}

// listRoutes is every route of both listeners: the APIs', the OpenID
// provider's, the client API's, the control panel's, the static files'.
func (s *Server) listRoutes(api *httpapi.API, provider *oidc.Provider, siteGate *gate.Gate, registry *clients.Registry, controlPanel *panel.Panel) [2][]web.Route {
	public := append(api.Routes(httpapi.PublicListener), provider.Routes()...)
	public = append(public, siteGate.Routes()...)
	admin := append(api.Routes(httpapi.AdminListener), registry.Routes()...)
	admin = append(admin, controlPanel.Routes()...)
	admin = append(admin, web.Route{Method: http.MethodGet, Path: "/static/"})
	if s.cfg.Pprof {
		admin = append(admin, web.Route{Method: http.MethodGet, Path: "/debug/pprof/"})
	}
	return [2][]web.Route{public, admin}
}

// adminMounts are the handlers of the admin listener besides the REST API:
// the client API and the profiles behind the admin key, the control panel
// (its own sign-in) and its static files.
func (s *Server) adminMounts(registry *clients.Registry, controlPanel http.Handler) []httpapi.Mount {
	mounts := []httpapi.Mount{
		{Prefix: "/v1/clients", Handler: registry.Handler(), AdminOnly: true},
		{Prefix: "/panel", Handler: controlPanel},
		{Prefix: "/static/", Handler: static.Handler("/static/")},
	}
	if s.cfg.Pprof {
		mounts = append(mounts, httpapi.Mount{Prefix: "/debug/pprof", Handler: profiles(), AdminOnly: true})
	}
	return mounts
}

func (s *Server) bannerLinks(demo demoSetup) []string {
	adminURL := s.AdminURL()
	links := []string{"OpenID:      " + s.issuer + "/.well-known/openid-configuration"}
	if demo.on {
		room := fmt.Sprintf("room %q", demoRoomID)
		if demo.created {
			room += " created now"
		}
		links = append(links, fmt.Sprintf("Demo:        on (%s): %s, client %q", demo.why, room, oidc.DemoClientID),
			"Demo login:  "+s.issuer+"/demo/   (a relying party that signs in through the demo room)")
	} else {
		links = append(links, "Demo:        off ("+demo.why+")")
	}
	links = append(links, "Control panel: "+adminURL+"/panel/")
	if s.cfg.Pprof {
		links = append(links, "Profiles:      "+adminURL+"/debug/pprof/ (admin key)")
	}
	return links
}

// deploymentSecret is the configured secret_key, or the backend's stored
// secret; on the production backend the stored fallback earns one warning.
func (s *Server) deploymentSecret(ctx context.Context) ([]byte, error) {
	if s.cfg.SecretKey != "" {
		key, err := decodeSecretKey(s.cfg.SecretKey)
		if err != nil {
			return nil, fmt.Errorf("secret_key: %w", err) // validated already; never the value
		}
		return key, nil
	}
	if !s.cfg.Embedded() {
		s.logger.Warn(secretKeyWarning)
	}
	key, err := s.backend.Store.DeploymentSecret(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the deployment secret: %w", err)
	}
	return key, nil
}

// profiles serves the runtime profiles of net/http/pprof. Its handlers are
// mounted explicitly (not through the package's DefaultServeMux side
// effect) so that nothing reaches them without the admin key.
func profiles() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("/debug/pprof/", pprof.Index)
	m.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	m.HandleFunc("/debug/pprof/profile", pprof.Profile)
	m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	m.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return m
}
