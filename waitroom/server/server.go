package server

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
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// Server is a waitroom: two listeners, the background jobs and the backend
// they share. Open builds it, Start serves, Close stops it.
type Server struct {
	cfg      Config
	logger   *slog.Logger
	stdout   io.Writer
	backend  *waitroom.Backend
	public   *http.Server
	admin    *http.Server
	publicLn net.Listener
	adminLn  net.Listener
	issuer   string
	adminKey string // generated for this run, "" when configured
	links    []string
	routes   [2][]web.Route // of the public and the admin listener
	// publicCert and adminCert are the listeners' certificates, nil for
	// plain http.
	publicCert, adminCert *certificate
	certCheckEvery        time.Duration

	// jobs runs every background goroutine (leader loop, key reload,
	// panel sampler, purges), so that Close stops and waits for all of
	// them before the backend closes.
	jobs    *background
	starts  []func(ctx context.Context)
	failed  chan error
	once    sync.Once
	err     error
	started bool
}

// Options are where a server writes: the banner (a person at a terminal;
// it may hold an admin key generated for the run, so it is not the log)
// and the log.
type Options struct {
	Stdout io.Writer
	Logger *slog.Logger
	// CertCheckEvery is how often the TLS certificate files are checked
	// for a change (DefaultCertCheckEvery when 0).
	CertCheckEvery time.Duration
}

// Open opens the backend, listens on both addresses (so that ":0" resolves
// and a busy port fails before any work) and builds everything. It serves
// nothing until Start.
func Open(ctx context.Context, cfg Config, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = NewLogger(io.Discard, cfg)
	}
	s := &Server{cfg: cfg, logger: opts.Logger, stdout: opts.Stdout, failed: make(chan error, 2), jobs: newBackground(),
		certCheckEvery: opts.CertCheckEvery}
	if s.stdout == nil {
		s.stdout = io.Discard
	}
	if s.certCheckEvery <= 0 {
		s.certCheckEvery = DefaultCertCheckEvery
	}
	if err := s.open(ctx); err != nil {
		s.closeListeners()
		s.closeBackend()
		return nil, err
	}
	return s, nil
}

func (s *Server) open(ctx context.Context) error {
	var err error
	metrics := newMetrics()
	if s.backend, err = openBackend(ctx, s.cfg, s.logger, metrics.ObserveEnqueueBatch); err != nil {
		return err
	}
	if s.publicLn, err = net.Listen("tcp", s.cfg.HTTPAddr); err != nil {
		return fmt.Errorf("http_addr: %w", err)
	}
	if s.adminLn, err = net.Listen("tcp", s.cfg.AdminAddr); err != nil {
		return fmt.Errorf("admin_addr: %w", err)
	}
	if err := s.loadCertificates(); err != nil {
		return err
	}
	s.issuer = s.cfg.Issuer
	if s.issuer == "" {
		s.issuer = LocalURL(s.publicLn.Addr().String(), s.publicCert != nil)
	}
	return s.build(ctx, metrics)
}

// loadCertificates reads the listeners' key pairs (validated with the
// configuration; read again here, as the files may have changed since).
func (s *Server) loadCertificates() error {
	var err error
	if s.cfg.TLS() {
		if s.publicCert, err = loadCertificate("public", s.cfg.TLSCertFile, s.cfg.TLSKeyFile, s.logger); err != nil {
			return fmt.Errorf("tls_cert_file and tls_key_file: %w", err)
		}
	}
	if s.cfg.AdminTLS() {
		if s.adminCert, err = loadCertificate("admin", s.cfg.AdminTLSCertFile, s.cfg.AdminTLSKeyFile, s.logger); err != nil {
			return fmt.Errorf("admin_tls_cert_file and admin_tls_key_file: %w", err)
		}
	}
	return nil
}

// Start serves both listeners and starts the background jobs; it prints
// the banner once the server accepts connections.
func (s *Server) Start() {
	if s.started {
		return
	}
	s.started = true
	for _, fn := range s.starts {
		s.jobs.goRun(fn)
	}
	go s.run(s.public, s.publicLn, "public")
	go s.run(s.admin, s.adminLn, "admin")
	s.banner()
}

// Issuer is the public base URL the server answers as.
func (s *Server) Issuer() string { return s.issuer }

// PublicAddr is the address the public listener accepts on.
func (s *Server) PublicAddr() string { return s.publicLn.Addr().String() }

// AdminURL is the base URL of the admin listener.
func (s *Server) AdminURL() string { return LocalURL(s.adminLn.Addr().String(), s.adminCert != nil) }

// Handlers are the handlers of the public and the admin listener, for a
// program that embeds the server and serves them itself (and for
// benchmarks that time the server's work without the network).
func (s *Server) Handlers() (public, admin http.Handler) { return s.public.Handler, s.admin.Handler }

// Routes lists every route of the public and of the admin listener (the
// method and path template of each), so that a test can reach them all.
func (s *Server) Routes() (public, admin []web.Route) { return s.routes[0], s.routes[1] }

// Failed delivers an error if a listener stops on its own.
func (s *Server) Failed() <-chan error { return s.failed }

// httpServer is one listener's server; with a certificate it serves TLS
// (HTTP/2 and HTTP/1.1, the certificate reread when its files change).
func (s *Server) httpServer(h http.Handler, name string, cert *certificate) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout.D(),
		ReadTimeout:       s.cfg.ReadTimeout.D(),
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.logger.With("listener", name).Handler(), slog.LevelWarn),
	}
	if cert != nil {
		srv.TLSConfig = cert.config()
	}
	return srv
}

func (s *Server) run(srv *http.Server, ln net.Listener, name string) {
	var err error
	if srv.TLSConfig != nil {
		s.logger.Info("listening", "listener", name, "addr", ln.Addr().String(), "tls", true)
		// ServeTLS, unlike Serve on a TLS listener, sets up HTTP/2; the
		// certificate comes from TLSConfig.GetCertificate.
		err = srv.ServeTLS(ln, "", "")
	} else {
		s.logger.Info("listening", "listener", name, "addr", ln.Addr().String())
		err = srv.Serve(ln)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.logger.Error("listener failed", "listener", name, "err", err)
		s.failed <- fmt.Errorf("%s listener: %w", name, err)
	}
}

// banner tells a person at the terminal what to open. It goes to stdout,
// not the log, because it may hold the admin key generated for this run.
func (s *Server) banner() {
	adminURL := s.AdminURL()
	var b strings.Builder
	fmt.Fprintf(&b, "\nwaitroom is running (%s store).\n", s.backend.Name)
	fmt.Fprintf(&b, "  Public API:  %s   e.g. %s/serving_num?event_id=%s\n", s.issuer, s.issuer, demoRoomID)
	fmt.Fprintf(&b, "  Admin API:   %s   e.g. %s/v1/rooms\n", adminURL, adminURL)
	fmt.Fprintf(&b, "  API docs:    %s/openapi.json and %s/openapi.json\n", s.issuer, adminURL)
	for _, l := range s.links {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	if s.adminKey != "" {
		fmt.Fprintf(&b, "  Admin key for this run (no WAITROOM_ADMIN_KEY_HASHES set): %s\n", s.adminKey)
		fmt.Fprintf(&b, "    curl -H 'Authorization: Bearer %s' %s/v1/rooms\n", s.adminKey, adminURL)
	}
	fmt.Fprintln(s.stdout, b.String())
}

// Close stops accepting connections, lets in-flight requests finish
// within the shutdown timeout, stops the background jobs and closes the
// backend, which flushes its group-commit buffers.
func (s *Server) Close() error {
	s.once.Do(func() {
		timeout := s.cfg.ShutdownTimeout.D()
		s.logger.Info("shutting down", "timeout", timeout)
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, srv := range []*http.Server{s.public, s.admin} {
			wg.Go(func() {
				if !s.started {
					return
				}
				if err := srv.Shutdown(ctx); err != nil {
					errs[i] = fmt.Errorf("requests still running after %s were cut: %w", timeout, err)
					srv.Close()
				}
			})
		}
		wg.Wait()
		if !s.started {
			s.closeListeners()
		}
		s.jobs.stop()
		errs = append(errs, s.closeBackend())
		s.err = errors.Join(errs...)
		s.logger.Info("stopped")
	})
	return s.err
}

func (s *Server) closeListeners() {
	for _, ln := range []net.Listener{s.publicLn, s.adminLn} {
		if ln != nil {
			ln.Close()
		}
	}
}

func (s *Server) closeBackend() error {
	if s.backend == nil {
		return nil
	}
	if err := s.backend.Store.Close(); err != nil {
		return fmt.Errorf("closing the store: %w", err)
	}
	return nil
}
