// Package server assembles a waitroom server from its configuration: it
// opens the backend the configuration names (one place), builds the queue
// core, the admission policies, the OpenID provider, both HTTP APIs and
// the control panel, and runs them with their background jobs until Close.
// cmd/waitroom only reads the configuration and calls Open, Start and
// Close.
package server

import (
	"net"
	"strings"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// Config is everything the server can be told. cmd/waitroom binds each
// field to a setting, read from the YAML file, a WAITROOM_* environment
// variable and a flag, in increasing order of precedence (its settings.go
// names and documents them).
type Config struct {
	HTTPAddr  string
	AdminAddr string
	Issuer    string
	// TLSCertFile and TLSKeyFile (PEM) make the public listener serve
	// https (HTTP/2 and HTTP/1.1); AdminTLSCertFile and AdminTLSKeyFile do
	// the same for the admin listener. The files are reread when they
	// change.
	TLSCertFile      string
	TLSKeyFile       string
	AdminTLSCertFile string
	AdminTLSKeyFile  string
	SecretKey        string // never logged, no flag (command lines are visible to all)
	RedisURL         string
	RedisCluster     bool
	RedisKeyPrefix   string
	DatabaseURL      string
	// DatabaseReadURL is an optional read replica of DatabaseURL for
	// the reads that tolerate lag (position lookups).
	DatabaseReadURL  string
	DatabaseMaxConns int
	// DataDir holds the embedded store's files (keys.json, the signing
	// keys). cmd/waitroom fills in the default ($XDG_STATE_HOME/waitroom);
	// empty here keeps the keys in memory.
	DataDir          string
	AdminKeyHashes   []string
	LogLevel         string
	LogFormat        string
	CORSOrigins      []string
	TrustedProxies   []string
	AssignRateLimit  int64
	AssignRateWindow waitroom.Duration
	// Turnstile, HCaptcha and ReCaptcha are the CAPTCHA providers a room's
	// bot gate may name (bot_gate.captcha); a provider without keys fails
	// closed for rooms that name it.
	Turnstile      CaptchaConfig
	HCaptcha       CaptchaConfig
	ReCaptcha      CaptchaConfig
	CaptchaTimeout waitroom.Duration
	MaxBodyBytes   int64
	MaxHeaderBytes int
	MaxQueryBytes  int
	// ReadHeaderTimeout bounds the wait for a request's headers, and
	// ReadTimeout for the whole request with its body: a client that
	// sends slowly, or less than it announced, is cut off then.
	ReadHeaderTimeout waitroom.Duration
	ReadTimeout       waitroom.Duration
	ServingCache      waitroom.Duration
	PollCache         waitroom.Duration
	MetricsListener   string
	// MetricsToken, when set, is the bearer token /metrics requires (on
	// the admin listener an admin key also does); it is required when
	// /metrics is on the public listener. Never logged, no flag.
	MetricsToken     string
	ShutdownTimeout  waitroom.Duration
	SigningAlgorithm string
	KeyRotation      waitroom.Duration
	ExpiryInterval   waitroom.Duration
	// Demo turns the demo room, demo client and /demo/ relying party on
	// or off; nil decides from the backend (see DemoOn).
	Demo        *bool
	TemplateDir string
	Pprof       bool

	// Rooms are created at start-up when missing (an existing room keeps
	// the settings it was given through the admin API). Each entry has the
	// fields of the admin API's room JSON; only the file can set them.
	Rooms []map[string]any
	// Clients are the OpenID clients (relying parties) of the file; see
	// README.md for their schema. Read-only through the admin API.
	Clients []waitroom.Client
}

// CaptchaConfig is one CAPTCHA provider's keys. VerifyURL overrides the
// provider's siteverify URL (empty: the provider's own).
type CaptchaConfig struct {
	SiteKey   string
	Secret    string // never logged, no flag
	VerifyURL string
}

// DefaultConfig is the configuration with nothing set: the embedded store,
// the public API on :8080, the admin API on 127.0.0.1:8081.
func DefaultConfig() Config {
	return Config{
		HTTPAddr:         ":8080",
		AdminAddr:        "127.0.0.1:8081",
		DatabaseMaxConns: 32,
		LogLevel:         "info",
		LogFormat:        "text",
		AssignRateLimit:  30,
		AssignRateWindow: waitroom.Duration(time.Minute),
		CaptchaTimeout:   waitroom.Duration(5 * time.Second),
		MaxBodyBytes:     16 << 10,
		MaxHeaderBytes:   16 << 10,
		MaxQueryBytes:    2048,
		// Every request waitroom accepts is small: a few KiB at most.
		ReadHeaderTimeout: waitroom.Duration(5 * time.Second),
		ReadTimeout:       waitroom.Duration(10 * time.Second),
		ServingCache:      waitroom.Duration(2 * time.Second),
		PollCache:         waitroom.Duration(500 * time.Millisecond),
		MetricsListener:   "admin",
		ShutdownTimeout:   waitroom.Duration(15 * time.Second),
		SigningAlgorithm:  "RS256",
		ExpiryInterval:    waitroom.Duration(time.Minute),
	}
}

// DemoOn says whether this configuration serves the demo (the room
// "demo", its client and the /demo/ relying party) and why, for the
// banner: as the demo setting says when it is set; otherwise on with the
// embedded store when the file configures no rooms (a first run), and
// never on Redis + PostgreSQL, where a demo nobody asked for would be a
// public room and a client in production.
func (c Config) DemoOn() (on bool, why string) {
	switch {
	case c.Demo != nil && *c.Demo:
		return true, "demo: true"
	case c.Demo != nil:
		return false, "demo: false"
	case !c.Embedded():
		return false, "Redis + PostgreSQL; demo: true turns it on"
	case len(c.Rooms) > 0:
		return false, "rooms are configured; demo: true adds it"
	default:
		return true, "embedded store, no rooms configured; demo: false turns it off"
	}
}

// TLS reports whether the public listener serves https itself.
func (c Config) TLS() bool { return c.TLSCertFile != "" }

// AdminTLS reports whether the admin listener serves https itself.
func (c Config) AdminTLS() bool { return c.AdminTLSCertFile != "" }

// Embedded reports whether the server runs on the in-process store.
func (c Config) Embedded() bool { return c.RedisURL == "" && c.DatabaseURL == "" }

// PublicURL is the issuer, or one derived from the HTTP address
// (":8080" gives http://localhost:8080, https:// with TLS).
func (c Config) PublicURL() string {
	if c.Issuer != "" {
		return strings.TrimSuffix(c.Issuer, "/")
	}
	return LocalURL(c.HTTPAddr, c.TLS())
}

// LocalURL turns a listen address into a URL a browser on this machine can
// open: http, or https when the listener serves TLS.
func LocalURL(addr string, tls bool) string {
	scheme, defaultPort := "http", "80"
	if tls {
		scheme, defaultPort = "https", "443"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return scheme + "://localhost"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	if port == defaultPort {
		return scheme + "://" + host
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}
