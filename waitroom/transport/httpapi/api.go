package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/admission"

	"github.com/waitroom-idp/waitroom/waitroom/transport/web"

	"github.com/waitroom-idp/waitroom/waitroom/transport/middleware"
)

// Options configure the APIs. Zero values take the defaults noted.
type Options struct {
	Service Service
	Keys    KeySet
	// Ready reports whether the backing stores answer (/readyz); nil means
	// always ready.
	Ready func(context.Context) error
	// Issuer is the public base URL, the "iss" of tokens from the public
	// /generate_token.
	Issuer string
	Logger *slog.Logger
	// Metrics is the registry to record into (a new one when nil).
	Metrics *Metrics
	// MetricsOnPublic serves /metrics on the public listener instead of the
	// admin listener; it needs a MetricsToken.
	MetricsOnPublic bool
	// MetricsToken is the bearer token /metrics requires. On the public
	// listener it is required; on the admin listener an admin key is
	// accepted too, and without a token /metrics is open there (the
	// listener is private).
	MetricsToken string

	// AdminKeys are the accepted admin keys (ParseAdminKeys). With none,
	// every admin call is refused.
	AdminKeys AdminKeys
	// CORSOrigins may call the public API from a browser ("*" for any).
	CORSOrigins []string
	// PublicHSTS and AdminHSTS send Strict-Transport-Security on every
	// answer of the listener (its public URL is https).
	PublicHSTS, AdminHSTS bool
	TrustedProxies        middleware.TrustedProxies
	// MaxBodyBytes bounds request bodies (default 16 KiB).
	MaxBodyBytes int64
	// MaxQueryBytes bounds the path and the query string (default 2048).
	MaxQueryBytes int

	// ServingMaxAge is the Cache-Control max-age of /serving_num and
	// /waiting_num (default 2s; AWS used 5s).
	ServingMaxAge time.Duration
	// QueueNumMaxAge is the max-age of /queue_num (default 24h).
	QueueNumMaxAge time.Duration
	// PublicKeyMaxAge is the max-age of /public_key (default 5m: short
	// enough that a rotated key reaches cached clients quickly).
	PublicKeyMaxAge time.Duration

	// AssignLimit is how many /assign_queue_num calls one client address
	// may make per AssignWindow (a token bucket: AssignLimit at once, then
	// one every AssignWindow/AssignLimit); 0 turns the limit off.
	// RateCounter (waitroom.Ephemeral) keeps the buckets, shared across
	// replicas.
	AssignLimit  int64
	AssignWindow time.Duration
	RateCounter  middleware.Buckets
	// Now is the clock of the rate limit (time.Now when nil).
	Now func() time.Time

	// Gate is the rooms' bot gate: /assign_queue_num asks it before taking
	// a place and /challenge hands out its challenges. nil: no room is
	// gated.
	Gate *admission.Gate

	// Deliveries lists rooms' webhook deliveries and Draws publishes
	// pre-queue draws (policies.go); nil answers 404 on those paths.
	Deliveries DeliveryLister
	Draws      DrawPublisher

	// Audit records every change made through the admin API (nil: none);
	// AuditTrail reads the trail for GET /v1/audit (nil: 404).
	Audit      waitroom.Auditor
	AuditTrail waitroom.AuditStore
}

// Mount is a handler served under a path prefix (and everything below it)
// next to the REST API (the OpenID provider, the control panel, the client
// API): tried after the API's routes, behind the same middleware.
type Mount struct {
	Prefix  string
	Handler http.Handler
	// AdminOnly puts the handler behind the admin-key check.
	AdminOnly bool
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 16 << 10
	}
	if o.MaxQueryBytes <= 0 {
		o.MaxQueryBytes = 2048
	}
	if o.ServingMaxAge <= 0 {
		o.ServingMaxAge = 2 * time.Second
	}
	if o.QueueNumMaxAge <= 0 {
		o.QueueNumMaxAge = 24 * time.Hour
	}
	if o.PublicKeyMaxAge <= 0 {
		o.PublicKeyMaxAge = 5 * time.Minute
	}
	if o.AssignWindow <= 0 {
		o.AssignWindow = time.Minute
	}
}

// API is the public and admin HTTP APIs of one server.
type API struct {
	opts    Options
	svc     Service
	keys    KeySet
	metrics *Metrics
	public  *routeTable
	admin   *routeTable
	specs   map[string][]byte

	// Cache-Control values, formatted once.
	servingCache, queueNumCache, publicKeyCache string
}

// Listener names, used in metric labels and logs.
const (
	PublicListener = "public"
	AdminListener  = "admin"
)

// New builds both APIs. It fails on options that cannot work (no service,
// malformed admin key hashes).
func New(opts Options) (*API, error) {
	opts.setDefaults()
	if opts.Service == nil || opts.Keys == nil {
		return nil, errors.New("httpapi: Service and Keys are required")
	}
	if opts.MetricsOnPublic && opts.MetricsToken == "" {
		return nil, errors.New("httpapi: /metrics on the public listener needs a MetricsToken")
	}
	a := &API{opts: opts, svc: opts.Service, keys: opts.Keys, metrics: opts.Metrics,
		servingCache: web.MaxAge(opts.ServingMaxAge), queueNumCache: web.MaxAge(opts.QueueNumMaxAge), publicKeyCache: web.MaxAge(opts.PublicKeyMaxAge)}
	var err error
	if a.specs, err = loadSpecs(opts.Issuer, opts.MetricsOnPublic); err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}
	a.metrics.addRooms(opts.Service, opts.Logger)
	a.public = a.newRouteTable()
	a.admin = a.newRouteTable()
	a.publicRoutes(a.public)
	a.adminRoutes(a.admin)
	a.policyRoutes(a.public, a.admin, func(h func(http.ResponseWriter, *http.Request) error) http.Handler {
		return a.requireAdmin(a.handle(h))
	})
	return a, nil
}

func (a *API) publicRoutes(t *routeTable) {
	assign := &middleware.RateLimit{Buckets: a.opts.RateCounter, Limit: a.opts.AssignLimit, Window: a.opts.AssignWindow,
		Prefix: "ratelimit:assign:", Now: a.opts.Now, OnError: web.Error}
	if a.opts.RateCounter == nil {
		assign = nil
	}
	t.add(http.MethodPost, "/assign_queue_num", assign.Wrap(a.handle(a.assignQueueNum)))
	t.add(http.MethodGet, "/challenge", a.handle(a.challenge))
	t.add(http.MethodGet, "/queue_num", a.handle(a.queueNum))
	t.add(http.MethodGet, "/serving_num", a.handle(a.servingNum))
	t.add(http.MethodGet, "/waiting_num", a.handle(a.waitingNum))
	t.add(http.MethodGet, "/queue_pos_expiry", a.handle(a.queuePosExpiry))
	t.add(http.MethodPost, "/generate_token", a.handle(a.generateToken))
	t.add(http.MethodGet, "/public_key", a.handle(a.publicKey))
	a.opsRoutes(t, PublicListener, a.opts.MetricsOnPublic)
}

func (a *API) adminRoutes(t *routeTable) {
	admin := func(h func(http.ResponseWriter, *http.Request) error) http.Handler {
		return a.requireAdmin(a.handle(h))
	}
	t.add(http.MethodPost, "/increment_serving_counter", admin(a.incrementServingCounter))
	t.add(http.MethodGet, "/num_active_tokens", admin(a.numActiveTokens))
	t.add(http.MethodGet, "/expired_tokens", admin(a.expiredTokens))
	t.add(http.MethodPost, "/update_session", admin(a.updateSession))
	t.add(http.MethodPost, "/generate_token", admin(a.adminGenerateToken))
	t.add(http.MethodPost, "/reset_initial_state", admin(a.resetInitialState))
	t.add(http.MethodGet, "/v1/rooms", admin(a.listRooms))
	t.add(http.MethodPost, "/v1/rooms", admin(a.createRoom))
	t.add(http.MethodGet, "/v1/rooms/{id}", admin(a.getRoom))
	t.add(http.MethodPatch, "/v1/rooms/{id}", admin(a.patchRoom))
	t.add(http.MethodDelete, "/v1/rooms/{id}", admin(a.deleteRoom))
	t.add(http.MethodGet, "/v1/rooms/{id}/counters", admin(a.roomCounters))
	t.add(http.MethodPut, "/v1/rooms/{id}/serving", admin(a.setServing))
	t.add(http.MethodPost, "/v1/rooms/{id}/reset", admin(a.resetRoom))
	t.add(http.MethodPost, "/v1/rooms/{id}/fill", admin(a.fillRoom))
	t.add(http.MethodPost, "/v1/rooms/{id}/advance", admin(a.advanceRoom))
	t.add(http.MethodGet, "/v1/audit", admin(a.auditTrail))
	a.opsRoutes(t, AdminListener, !a.opts.MetricsOnPublic)
}

// handle adapts an error-returning handler: its error is answered by
// writeError.
func (a *API) handle(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			web.Error(w, r, err)
		}
	})
}

// InProcess is the admin listener's router without its middleware, for the
// control panel, which calls the admin API in-process so that its changes
// are validated, answered and audited exactly as the API's: requests must
// carry the operator (web.WithActor), as the panel's signed-in ones do.
func (a *API) InProcess() http.Handler { return a.admin.router }

// PublicHandler is the public listener's handler: the API's routes, then
// mounts, behind the request id, access log, metrics, security headers,
// recovery, limits, CORS and clean-input (no NUL, only UTF-8) middleware.
func (a *API) PublicHandler(mounts ...Mount) http.Handler {
	return a.chain(PublicListener, a.compose(a.public, mounts), a.opts.CORSOrigins, middleware.Security(middleware.PublicCSP, a.opts.PublicHSTS))
}

// AdminHandler is the admin listener's handler (no CORS: the admin API is
// not for browsers on other origins).
func (a *API) AdminHandler(mounts ...Mount) http.Handler {
	return a.chain(AdminListener, a.compose(a.admin, mounts), nil, middleware.Security(middleware.AdminCSP, a.opts.AdminHSTS))
}

// compose routes to the API's routes first (a wrong method on one of its
// paths stays its 405), then to the mounts by prefix, else the API's 404.
// It builds a new router: the API's own is not changed.
func (a *API) compose(t *routeTable, mounts []Mount) http.Handler {
	if len(mounts) == 0 {
		return t.router
	}
	r := mux.NewRouter()
	r.MatcherFunc(t.owns).Handler(t.router)
	for _, m := range mounts {
		h := m.Handler
		if m.AdminOnly {
			h = a.requireAdmin(h)
		}
		r.PathPrefix(m.Prefix).Handler(labelRoute(h))
	}
	r.NotFoundHandler = t.router
	return r
}

// chain puts h behind the listener's middleware; security sets its
// security headers (middleware.Security) first, so that every answer,
// a refusal by another middleware included, carries them.
func (a *API) chain(listener string, h http.Handler, origins []string, security func(http.Handler) http.Handler) http.Handler {
	h = middleware.CleanInput(web.Error)(h)
	h = middleware.CORS(origins)(h)
	h = middleware.Limits(a.opts.MaxBodyBytes, a.opts.MaxQueryBytes, web.Error)(h)
	h = middleware.Recover(web.Error)(h)
	h = security(h)
	return middleware.Entry(a.opts.Logger.With("listener", listener), a.opts.TrustedProxies, a.metrics.observe(listener))(h)
}
