package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/server"
)

// setting is one configuration value under its three names: the YAML key
// (Name), the environment variable (WAITROOM_ + upper-case Name) and the
// flag (-Name with '-' for '_'). The README's configuration reference lists
// the same table (a test keeps them in step).
type setting struct {
	Name  string
	Usage string
	// set parses a value given as text (environment or flag).
	set func(string) error
	// get formats the current value (for the defaults in -help).
	get    func() string
	isBool bool
	// noFlag keeps a secret off the command line (file and environment only).
	noFlag bool
}

// Env is the setting's environment variable.
func (s setting) Env() string { return "WAITROOM_" + strings.ToUpper(s.Name) }

// Flag is the setting's flag name.
func (s setting) Flag() string { return strings.ReplaceAll(s.Name, "_", "-") }

// settings binds every setting to a field of c.
func settings(c *server.Config) []setting {
	return []setting{
		str("http_addr", &c.HTTPAddr, "Listen address of the public API, the OpenID provider and the room pages."),
		str("admin_addr", &c.AdminAddr, "Listen address of the admin API (keep it private)."),
		str("issuer", &c.Issuer, "Public base URL (OpenID issuer, token iss); default derived from http_addr, e.g. http://localhost:8080."),
		secret("secret_key", &c.SecretKey, "At least 32 random bytes, hex or base64 (openssl rand -hex 32): signs room cookies and OpenID state, encrypts codes, keys client-secret hashes. The same on every replica. Empty: a key generated once and stored with the data (in PostgreSQL on the production backend, which warns; in memory on the embedded store)."),
		str("redis_url", &c.RedisURL, "Redis URL (redis://[user:pass@]host:6379/0, rediss:// for TLS). With database_url: production backend. Neither: embedded store."),
		boolean("redis_cluster", &c.RedisCluster, "redis_url names Redis Cluster seed nodes (redis://node1:6379?addr=node2:6379&addr=node3:6379)."),
		str("redis_key_prefix", &c.RedisKeyPrefix, "Prefix of every Redis key, to share one Redis between deployments."),
		str("database_url", &c.DatabaseURL, "PostgreSQL URL or key=value DSN (postgres://user:pass@host:5432/db?sslmode=require)."),
		integer("database_max_conns", &c.DatabaseMaxConns, "Maximum PostgreSQL connections of this process."),
		list("admin_key_hashes", &c.AdminKeyHashes, "Comma-separated admin keys as [name:]hex SHA-256[:viewer] (waitroom hash-key prints one); the name shows in the audit trail, viewer keys may only look. None: a key named admin is generated for the run and printed."),
		str("log_level", &c.LogLevel, "debug, info, warn or error (successful requests are logged at debug)."),
		str("log_format", &c.LogFormat, "text or json."),
		list("cors_origins", &c.CORSOrigins, "Comma-separated origins whose pages may call the public API (* for any). Empty: no CORS."),
		list("trusted_proxies", &c.TrustedProxies, "Comma-separated CIDRs or IPs of proxies whose X-Forwarded-For is believed."),
		integer64("assign_rate_limit", &c.AssignRateLimit, "/assign_queue_num calls allowed per client address (IPv6: per /64) per window; 0 turns the limit off."),
		duration("assign_rate_window", &c.AssignRateWindow, "Window of assign_rate_limit."),
		integer64("max_body_bytes", &c.MaxBodyBytes, "Largest request body accepted."),
		integer("max_header_bytes", &c.MaxHeaderBytes, "Largest request header block accepted (431 beyond)."),
		integer("max_query_bytes", &c.MaxQueryBytes, "Longest path and longest query string accepted (414 beyond)."),
		duration("serving_cache", &c.ServingCache, "Cache-Control max-age of /serving_num and /waiting_num (1s to 5s)."),
		duration("poll_cache", &c.PollCache, "How old a copy of a room's counters /serving_num, /waiting_num and the room page's status may answer from: one store read per room and period, however many browsers poll; 0 reads the store every time (0 to 5s). With a poll cache, /queue_num also answers a ticket it found before from memory while the room's generation is unchanged, so a reset by another replica shows there after at most this long too. Admission always reads the store."),
		str("metrics_listener", &c.MetricsListener, "Listener serving /metrics: admin or public."),
		duration("shutdown_timeout", &c.ShutdownTimeout, "How long in-flight requests get to finish on SIGINT/SIGTERM."),
		str("signing_algorithm", &c.SigningAlgorithm, "Algorithm of new signing keys: RS256 or ES256 (~15x cheaper to sign)."),
		duration("key_rotation", &c.KeyRotation, "Rotate the signing key when it is this old; 0 never."),
		str("key_file", &c.KeyFile, "Embedded store only: file keeping the signing keys across restarts; empty keeps them in memory."),
		duration("expiry_interval", &c.ExpiryInterval, "How often the queue-position expiry job runs (once per deployment, on the admission leader)."),
		boolean("demo_room", &c.DemoRoom, "Create the room \"demo\" when no room exists and none is configured."),
		boolean("pprof", &c.Pprof, "Serve Go's runtime profiles (net/http/pprof) under /debug/pprof/ on the admin listener, behind the admin key: CPU, heap and allocation profiles of a running server."),
		str("template_dir", &c.TemplateDir, "Directory of operator templates (room.html, error.html, partials.html, panel/*.html) replacing the built-in ones of the same name."),
	}
}

func str(name string, p *string, usage string) setting {
	return setting{Name: name, Usage: usage,
		set: func(v string) error { *p = strings.TrimSpace(v); return nil },
		get: func() string { return *p }}
}

// secret is a text setting that is never shown (-help prints no default)
// and has no flag.
func secret(name string, p *string, usage string) setting {
	return setting{Name: name, Usage: usage, noFlag: true,
		set: func(v string) error { *p = strings.TrimSpace(v); return nil },
		get: func() string { return "" }}
}

func list(name string, p *[]string, usage string) setting {
	return setting{Name: name, Usage: usage,
		set: func(v string) error { *p = splitList(v); return nil },
		get: func() string { return strings.Join(*p, ",") }}
}

func splitList(v string) []string {
	var out []string
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func integer(name string, p *int, usage string) setting {
	return setting{Name: name, Usage: usage,
		set: func(v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("want an integer, got %q", v)
			}
			*p = n
			return nil
		},
		get: func() string { return strconv.Itoa(*p) }}
}

func integer64(name string, p *int64, usage string) setting {
	return setting{Name: name, Usage: usage,
		set: func(v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return fmt.Errorf("want an integer, got %q", v)
			}
			*p = n
			return nil
		},
		get: func() string { return strconv.FormatInt(*p, 10) }}
}

func duration(name string, p *waitroom.Duration, usage string) setting {
	return setting{Name: name, Usage: usage,
		set: func(v string) error { return p.UnmarshalText([]byte(v)) },
		get: func() string { return p.String() }}
}

func boolean(name string, p *bool, usage string) setting {
	return setting{Name: name, Usage: usage, isBool: true,
		set: func(v string) error {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("want true or false, got %q", v)
			}
			*p = b
			return nil
		},
		get: func() string { return strconv.FormatBool(*p) }}
}

// applyEnv sets every setting whose environment variable is set (even to
// ""), collecting every problem.
func applyEnv(c *server.Config, getenv func(string) (string, bool)) []string {
	var problems []string
	for _, s := range settings(c) {
		if v, ok := getenv(s.Env()); ok {
			if err := s.set(v); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", s.Env(), err))
			}
		}
	}
	return problems
}

// flagValue records a flag's text; flags are applied last, over the file
// and the environment, so they cannot be parsed straight into the Config.
type flagValue struct {
	text   *string
	isBool bool
	def    string
}

func (f flagValue) String() string {
	if f.text == nil {
		return ""
	}
	return f.def
}

func (f flagValue) Set(v string) error { *f.text = v; return nil }

func (f flagValue) IsBoolFlag() bool { return f.isBool }

// defineFlags adds a flag per setting to fs and returns the texts given.
func defineFlags(fs *flag.FlagSet) map[string]*string {
	defaults := server.DefaultConfig()
	given := map[string]*string{}
	for _, s := range settings(&defaults) {
		if s.noFlag {
			continue
		}
		text := new(string)
		given[s.Name] = text
		fs.Var(flagValue{text: text, isBool: s.isBool, def: s.get()}, s.Flag(), s.Usage+" ("+s.Env()+")")
	}
	return given
}

// applyFlags sets the settings whose flag was given on the command line.
func applyFlags(c *server.Config, fs *flag.FlagSet, given map[string]*string) []string {
	var problems []string
	byName := map[string]setting{}
	for _, s := range settings(c) {
		byName[s.Flag()] = s
	}
	fs.Visit(func(f *flag.Flag) {
		s, ok := byName[f.Name]
		if !ok {
			return
		}
		if err := s.set(*given[s.Name]); err != nil {
			problems = append(problems, fmt.Sprintf("-%s: %v", f.Name, err))
		}
	})
	return problems
}
