package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/transport/httpapi"
	"github.com/waitroom-idp/waitroom/waitroom/transport/httpapi/middleware"
)

// server is a running waitroom: two listeners, the background jobs and the
// store they share.
type server struct {
	logger   *slog.Logger
	stdout   io.Writer
	timeout  time.Duration
	backend  *backend
	public   *http.Server
	admin    *http.Server
	publicLn net.Listener
	adminLn  net.Listener
	issuer   string
	adminKey string // generated for this run, "" when configured

	policies *policies // admission policies (policies.go)

	// jobs runs every background goroutine (leader loop, key reload,
	// panel sampler, purges), so shutdown stops and waits for all of them
	// before the store closes.
	jobs   *background
	failed chan error
	once   sync.Once
	err    error
}

// serve opens the store, builds the service and both APIs, and starts
// listening. It returns once the server accepts connections.
func (m *Main) serve(ctx context.Context) error {
	m.logger = newLogger(m.Stderr, m.Config)
	s := &server{logger: m.logger, stdout: m.Stdout, timeout: m.Config.ShutdownTimeout.D(), failed: make(chan error, 2),
		jobs: newBackground()}
	if err := s.start(ctx, m.Config); err != nil {
		s.jobs.stop()
		s.closeStore()
		return err
	}
	m.server = s
	return nil
}

func (s *server) start(ctx context.Context, cfg Config) error {
	var err error
	if s.backend, err = openBackend(ctx, cfg, s.logger); err != nil {
		return err
	}
	// Listen before building anything that prints URLs, so that ":0" (tests)
	// resolves to a real port and a busy port fails before any work.
	if s.publicLn, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return fmt.Errorf("http_addr: %w", err)
	}
	if s.adminLn, err = net.Listen("tcp", cfg.AdminAddr); err != nil {
		s.publicLn.Close()
		return fmt.Errorf("admin_addr: %w", err)
	}
	s.issuer = cfg.Issuer
	if s.issuer == "" {
		s.issuer = localURL(s.publicLn.Addr().String())
	}
	app, links, err := s.build(ctx, cfg)
	if err != nil {
		s.publicLn.Close()
		s.adminLn.Close()
		return err
	}
	s.startJobs(app, cfg)
	go s.run(s.public, s.publicLn, "public")
	go s.run(s.admin, s.adminLn, "admin")
	s.banner(cfg, links)
	return nil
}

// build wires the service, the keys, the rooms and both HTTP APIs.
func (s *server) build(ctx context.Context, cfg Config) (*App, []string, error) {
	keys, err := waitroom.LoadKeys(ctx, s.backend.Store, waitroom.KeyOptions{Algorithm: cfg.SigningAlgorithm, RotateEvery: cfg.KeyRotation.D()})
	if err != nil {
		return nil, nil, fmt.Errorf("loading signing keys: %w", err)
	}
	svc := waitroom.NewService(s.backend.Store, keys, waitroom.Options{Logger: s.logger, PollTTL: cfg.PollCache.D()})
	work := leaderWork{svc: svc, keys: keys, every: cfg.ExpiryInterval.D(), rotate: cfg.KeyRotation.D() > 0, logger: s.logger.With("job", "admission")}
	s.policies = newPolicies(s.backend, svc, work, s.logger)
	app := &App{Config: cfg, Issuer: s.issuer, Service: svc, Queue: s.policies.guarded, Keys: keys, Store: s.backend.Store,
		Ephemeral: s.backend.Ephemeral, Backend: s.backend, Logger: s.logger, Go: s.jobs.goRun}
	demo, err := ensureRooms(ctx, cfg, svc)
	if err != nil {
		return nil, nil, err
	}
	var links []string
	if demo {
		links = append(links, fmt.Sprintf("Demo room:   %q (created because no room is configured)", demoRoomID))
		more, err := setupDemo(ctx, app)
		if err != nil {
			return nil, nil, err
		}
		links = append(links, more...)
	}
	api, err := s.newAPI(cfg, app)
	if err != nil {
		return nil, nil, err
	}
	app.MountAdmin = api.MountAdmin
	mounted, err := mountPublic(ctx, api.PublicRouter(), app)
	if err != nil {
		return nil, nil, err
	}
	panelLinks, err := mountAdmin(api, app, localURL(s.adminLn.Addr().String()))
	if err != nil {
		return nil, nil, err
	}
	mounted = append(mounted, panelLinks...)
	s.public = s.httpServer(cfg, api.PublicHandler(), "public")
	s.admin = s.httpServer(cfg, api.AdminHandler(), "admin")
	return app, append(links, mounted...), nil
}

func (s *server) newAPI(cfg Config, app *App) (*httpapi.API, error) {
	hashes, generated := adminKeyHashes(cfg)
	s.adminKey = generated
	proxies, _ := middleware.ParseTrustedProxies(cfg.TrustedProxies) // validated already
	metrics := httpapi.NewMetrics()
	observeBatches(s.backend.Store, metrics)
	return httpapi.New(httpapi.Options{
		Metrics:         metrics,
		Service:         s.policies.guarded,
		Deliveries:      s.policies.outbox,
		Draws:           s.policies.prequeue,
		Keys:            app.Keys,
		Ready:           app.Store.Ping,
		Issuer:          s.issuer,
		Logger:          s.logger,
		MetricsOnPublic: cfg.MetricsListener == "public",
		AdminKeyHashes:  hashes,
		CORSOrigins:     cfg.CORSOrigins,
		TrustedProxies:  proxies,
		MaxBodyBytes:    cfg.MaxBodyBytes,
		MaxQueryBytes:   cfg.MaxQueryBytes,
		ServingMaxAge:   cfg.ServingCache.D(),
		AssignLimit:     cfg.AssignRateLimit,
		AssignWindow:    cfg.AssignRateWindow.D(),
		RateCounter:     app.Ephemeral,
	})
}

// batchObservable is implemented by stores that group enqueues into
// commits and can report each commit's size.
type batchObservable interface {
	ObserveEnqueueBatches(func(size int))
}

// observeBatches feeds waitroom_enqueue_batch_size when the store can.
func observeBatches(store waitroom.Store, metrics *httpapi.Metrics) {
	if o, ok := store.(batchObservable); ok {
		o.ObserveEnqueueBatches(metrics.ObserveEnqueueBatch)
	}
}

func (s *server) httpServer(cfg Config, h http.Handler, name string) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.logger.With("listener", name).Handler(), slog.LevelWarn),
	}
}

func (s *server) run(srv *http.Server, ln net.Listener, name string) {
	s.logger.Info("listening", "listener", name, "addr", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.logger.Error("listener failed", "listener", name, "err", err)
		s.failed <- fmt.Errorf("%s listener: %w", name, err)
	}
}

// banner tells a person at the terminal what to open. It goes to stdout,
// not the log, because it may hold the admin key generated for this run.
func (s *server) banner(cfg Config, links []string) {
	adminURL := localURL(s.adminLn.Addr().String())
	var b strings.Builder
	fmt.Fprintf(&b, "\nwaitroom is running (%s store).\n", s.backend.Kind)
	fmt.Fprintf(&b, "  Public API:  %s   e.g. %s/serving_num?event_id=%s\n", s.issuer, s.issuer, demoRoomID)
	fmt.Fprintf(&b, "  Admin API:   %s   e.g. %s/v1/rooms\n", adminURL, adminURL)
	fmt.Fprintf(&b, "  API docs:    %s/openapi.json and %s/openapi.json\n", s.issuer, adminURL)
	for _, l := range links {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	if s.adminKey != "" {
		fmt.Fprintf(&b, "  Admin key for this run (no WAITROOM_ADMIN_KEY_HASHES set): %s\n", s.adminKey)
		fmt.Fprintf(&b, "    curl -H 'Authorization: Bearer %s' %s/v1/rooms\n", s.adminKey, adminURL)
	}
	fmt.Fprintln(s.stdout, b.String())
}

// Failed delivers an error if a listener stops on its own.
func (m *Main) Failed() <-chan error {
	if m.server == nil {
		return nil
	}
	return m.server.failed
}

// shutdown stops accepting connections, lets in-flight requests finish
// within the shutdown timeout, stops the background jobs and closes the
// store, which flushes its group-commit buffers.
func (s *server) shutdown() error {
	s.once.Do(func() {
		s.logger.Info("shutting down", "timeout", s.timeout)
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		defer cancel()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, srv := range []*http.Server{s.public, s.admin} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := srv.Shutdown(ctx); err != nil {
					errs[i] = fmt.Errorf("requests still running after %s were cut: %w", s.timeout, err)
					srv.Close()
				}
			}()
		}
		wg.Wait()
		s.jobs.stop()
		errs = append(errs, s.closeStore())
		s.err = errors.Join(errs...)
		s.logger.Info("stopped")
	})
	return s.err
}

func (s *server) closeStore() error {
	if s.backend == nil {
		return nil
	}
	if err := s.backend.Store.Close(); err != nil {
		return fmt.Errorf("closing the store: %w", err)
	}
	return nil
}
