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

// Config is everything the server can be told. cmd/waitroom reads each
// field from the YAML file, a WAITROOM_* environment variable and a flag,
// in increasing order of precedence.
type Config struct {
	HTTPAddr         string            `yaml:"http_addr"`
	AdminAddr        string            `yaml:"admin_addr"`
	Issuer           string            `yaml:"issuer"`
	SecretKey        string            `yaml:"secret_key"` // never logged, no flag (command lines are visible to all)
	RedisURL         string            `yaml:"redis_url"`
	RedisCluster     bool              `yaml:"redis_cluster"`
	RedisKeyPrefix   string            `yaml:"redis_key_prefix"`
	DatabaseURL      string            `yaml:"database_url"`
	DatabaseMaxConns int               `yaml:"database_max_conns"`
	AdminKeyHashes   []string          `yaml:"admin_key_hashes"`
	LogLevel         string            `yaml:"log_level"`
	LogFormat        string            `yaml:"log_format"`
	CORSOrigins      []string          `yaml:"cors_origins"`
	TrustedProxies   []string          `yaml:"trusted_proxies"`
	AssignRateLimit  int64             `yaml:"assign_rate_limit"`
	AssignRateWindow waitroom.Duration `yaml:"assign_rate_window"`
	MaxBodyBytes     int64             `yaml:"max_body_bytes"`
	MaxHeaderBytes   int               `yaml:"max_header_bytes"`
	MaxQueryBytes    int               `yaml:"max_query_bytes"`
	ServingCache     waitroom.Duration `yaml:"serving_cache"`
	PollCache        waitroom.Duration `yaml:"poll_cache"`
	MetricsListener  string            `yaml:"metrics_listener"`
	ShutdownTimeout  waitroom.Duration `yaml:"shutdown_timeout"`
	SigningAlgorithm string            `yaml:"signing_algorithm"`
	KeyRotation      waitroom.Duration `yaml:"key_rotation"`
	KeyFile          string            `yaml:"key_file"`
	ExpiryInterval   waitroom.Duration `yaml:"expiry_interval"`
	DemoRoom         bool              `yaml:"demo_room"`
	TemplateDir      string            `yaml:"template_dir"`
	Pprof            bool              `yaml:"pprof"`

	// Rooms are created at start-up when missing (an existing room keeps
	// the settings it was given through the admin API). Each entry has the
	// fields of the admin API's room JSON; only the file can set them.
	Rooms []map[string]any `yaml:"rooms"`
	// Clients are the OpenID clients (relying parties) of the file; see
	// README.md for their schema. Read-only through the admin API.
	Clients []waitroom.Client `yaml:"clients"`
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
		MaxBodyBytes:     16 << 10,
		MaxHeaderBytes:   16 << 10,
		MaxQueryBytes:    2048,
		ServingCache:     waitroom.Duration(2 * time.Second),
		PollCache:        waitroom.Duration(500 * time.Millisecond),
		MetricsListener:  "admin",
		ShutdownTimeout:  waitroom.Duration(15 * time.Second),
		SigningAlgorithm: "RS256",
		KeyFile:          "waitroom-data/keys.json",
		ExpiryInterval:   waitroom.Duration(time.Minute),
		DemoRoom:         true,
	}
}

// Embedded reports whether the server runs on the in-process store.
func (c Config) Embedded() bool { return c.RedisURL == "" && c.DatabaseURL == "" }

// PublicURL is the issuer, or one derived from the HTTP address
// (":8080" gives http://localhost:8080).
func (c Config) PublicURL() string {
	if c.Issuer != "" {
		return strings.TrimSuffix(c.Issuer, "/")
	}
	return LocalURL(c.HTTPAddr)
}

// LocalURL turns a listen address into a URL a browser on this machine can
// open.
func LocalURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://localhost"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	if port == "80" {
		return "http://" + host
	}
	return "http://" + net.JoinHostPort(host, port)
}
