package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/server"
)

// setting is one configuration value under its three names: the YAML key
// (Name), the environment variable (WAITROOM_ + upper-case Name) and the
// flag (-Name with '-' for '_'). -help and the README's configuration
// reference are drawn from the same list (a test keeps the README in step).
type setting struct {
	Name  string
	Group string
	// Type is what the value is, in a word (-help shows it).
	Type string
	// Usage is one line (-help and the README); Details adds what only the
	// README has room for.
	Usage   string
	Details string
	// Default describes a default that is not a plain value (one computed
	// at start); empty shows the value.
	Default string
	// set parses a value given as text (environment, flag, file scalar);
	// setList takes a YAML list, when the setting is a list.
	set     func(string) error
	setList func([]string)
	// get formats the current value (for the defaults in -help).
	get    func() string
	isBool bool
	// noFlag keeps a secret off the command line (file and environment
	// only) and its value out of -help.
	noFlag bool
}

// Env is the setting's environment variable.
func (s setting) Env() string { return "WAITROOM_" + strings.ToUpper(s.Name) }

// Flag is the setting's flag name.
func (s setting) Flag() string { return strings.ReplaceAll(s.Name, "_", "-") }

// DefaultText is the default as -help and the README show it ("" for
// none).
func (s setting) DefaultText() string {
	if s.Default != "" || s.noFlag {
		return s.Default
	}
	return s.get()
}

// The groups of settings, in the order -help and the README show them.
const (
	groupListeners = "Listeners and TLS"
	groupStorage   = "Storage"
	groupSecurity  = "Security"
	groupLimits    = "Limits"
	groupLogging   = "Logging and metrics"
	groupOpenID    = "OpenID and rooms"
	groupOps       = "Operations"
)

var groupOrder = []string{groupListeners, groupStorage, groupSecurity, groupLimits, groupLogging, groupOpenID, groupOps}

// settings binds every setting to a field of c, grouped.
func settings(c *server.Config) []setting {
	all := baseSettings(c)
	return append(all, captchaSettings(c)...)
}

// captchaSettings are the keys of each CAPTCHA provider a room's bot gate
// may ask for.
func captchaSettings(c *server.Config) []setting {
	out := []setting{duration("captcha_timeout", &c.CaptchaTimeout, groupSecurity,
		"How long a CAPTCHA verification may take; a provider that does not answer in time keeps the visitor out (fail closed).", "")}
	for _, p := range []struct {
		name, label, fallback string
		cfg                   *server.CaptchaConfig
	}{
		{"turnstile", "Cloudflare Turnstile", "https://challenges.cloudflare.com/turnstile/v0/siteverify", &c.Turnstile},
		{"hcaptcha", "hCaptcha", "https://api.hcaptcha.com/siteverify", &c.HCaptcha},
		{"recaptcha", "Google reCAPTCHA (v2)", "https://www.google.com/recaptcha/api/siteverify", &c.ReCaptcha},
	} {
		out = append(out,
			text(p.name+"_site_key", "text", &p.cfg.SiteKey, groupSecurity, "Site key of "+p.label+", shown by the room page's widget (rooms with bot_gate.captcha: "+p.name+").", ""),
			secret(p.name+"_secret", &p.cfg.Secret, groupSecurity, "Secret key of "+p.label+", sent only to its verify URL.", "Never logged."),
			text(p.name+"_verify_url", "URL", &p.cfg.VerifyURL, groupSecurity, "Verify URL of "+p.label+".", "Default: "+p.fallback+"."))
	}
	return out
}

func baseSettings(c *server.Config) []setting {
	return []setting{
		text("http_addr", "address", &c.HTTPAddr, groupListeners, "Listen address of the public API, the OpenID provider and the room pages.", ""),
		text("admin_addr", "address", &c.AdminAddr, groupListeners, "Listen address of the admin API and control panel (keep it private).", ""),
		text("issuer", "URL", &c.Issuer, groupListeners, "Public base URL visitors and relying parties see (OpenID issuer, token iss).",
			"Default derived from http_addr: http://localhost:8080, or https:// with tls_cert_file. Behind a proxy, the https URL the proxy serves. An https issuer sends Strict-Transport-Security: max-age=63072000 on every public answer."),
		text("tls_cert_file", "path", &c.TLSCertFile, groupListeners, "PEM certificate (chain) of the public listener; with tls_key_file it serves https and HTTP/2.",
			"Both files are reread when they change (checked every 5 s); a pair that does not load is logged and the previous certificate kept."),
		text("tls_key_file", "path", &c.TLSKeyFile, groupListeners, "PEM private key of tls_cert_file.", ""),
		text("admin_tls_cert_file", "path", &c.AdminTLSCertFile, groupListeners, "PEM certificate of the admin listener; with admin_tls_key_file it serves https.", "Reread like tls_cert_file."),
		text("admin_tls_key_file", "path", &c.AdminTLSKeyFile, groupListeners, "PEM private key of admin_tls_cert_file.", ""),
		list("trusted_proxies", "list", &c.TrustedProxies, groupListeners, "CIDRs or IPs of proxies whose X-Forwarded-For is believed.",
			"Comma-separated. Exactly the addresses the proxies connect from: the per-address rate limit and the logs use the address they forward."),

		text("redis_url", "URL", &c.RedisURL, groupStorage, "Redis URL (redis://[user:pass@]host:6379/0, rediss:// for TLS).",
			"With database_url: the production backend. Neither: the embedded store. Redis Sentinel: list the Sentinels and name the master (redis://sentinel1:26379?master_name=NAME&addr=sentinel2:26379)."),
		boolean("redis_cluster", &c.RedisCluster, groupStorage, "redis_url names Redis Cluster seed nodes (redis://node1:6379?addr=node2:6379&addr=node3:6379).", ""),
		text("redis_key_prefix", "text", &c.RedisKeyPrefix, groupStorage, "Prefix of every Redis key, to share one Redis between deployments.", ""),
		text("database_url", "URL", &c.DatabaseURL, groupStorage, "PostgreSQL URL or key=value DSN (postgres://user:pass@host:5432/db?sslmode=require).", ""),
		text("database_read_url", "URL", &c.DatabaseReadURL, groupStorage, "Optional read replica of database_url (a hot standby) for position lookups.",
			"Only reads that tolerate lag go there (a visitor polling /queue_num); a ticket the replica does not hold yet is read from database_url, and admissions, enqueues and tokens always are. Same pool size as database_url."),
		integer("database_max_conns", &c.DatabaseMaxConns, groupStorage, "Maximum PostgreSQL connections of this process.", ""),
		withDefault(text("data_dir", "path", &c.DataDir, groupStorage, "Folder of the embedded store's files (keys.json, the signing keys).",
			"Default: $XDG_STATE_HOME/waitroom when XDG_STATE_HOME is set, else ~/.local/state/waitroom, whatever the working directory. Unused on Redis + PostgreSQL. The container image sets /data, the systemd unit /var/lib/waitroom."), defaultDataDirText),

		secret("secret_key", &c.SecretKey, groupSecurity, "At least 32 random bytes, hex or base64 (openssl rand -hex 32), the same on every replica.",
			"Signs room cookies and OpenID state, encrypts codes, keys client-secret hashes. Empty: a key generated once and stored with the data (in PostgreSQL on the production backend, which warns; in memory on the embedded store)."),
		list("admin_key_hashes", "list", &c.AdminKeyHashes, groupSecurity, "Admin keys as [name:]hex SHA-256[:viewer] (waitroom hash-key prints the hash).",
			"Comma-separated. The name shows in the audit trail; viewer keys may only look. None: a key named admin is generated for the run and printed."),
		list("cors_origins", "list", &c.CORSOrigins, groupSecurity, "Origins whose pages may call the public API (* for any).", "Comma-separated. Empty: no CORS."),
		choice("signing_algorithm", &c.SigningAlgorithm, groupSecurity, "Algorithm of new signing keys: RS256 or ES256 (~15x cheaper to sign).", ""),
		duration("key_rotation", &c.KeyRotation, groupSecurity, "Rotate the signing key when it is this old; 0 never.", ""),

		integer64("assign_rate_limit", &c.AssignRateLimit, groupLimits, "/assign_queue_num calls allowed per client address (IPv6: per /64) per window; 0 turns the limit off.",
			"A token bucket shared by every replica: this many at once, then one every window/limit (no window edge to burst across)."),
		duration("assign_rate_window", &c.AssignRateWindow, groupLimits, "Window of assign_rate_limit.", ""),
		byteSize64("max_body_bytes", &c.MaxBodyBytes, groupLimits, "Largest request body accepted.", ""),
		byteSize("max_header_bytes", &c.MaxHeaderBytes, groupLimits, "Largest request header block accepted (431 beyond).", ""),
		duration("read_header_timeout", &c.ReadHeaderTimeout, groupLimits, "How long a client may take to send a request's headers before the connection is closed (1s to 1m).", ""),
		duration("read_timeout", &c.ReadTimeout, groupLimits, "How long a client may take to send a whole request, body included, before the connection is closed.",
			"From read_header_timeout to 10m. A body that arrives slowly, or shorter than its Content-Length, cannot hold a connection longer than this."),
		byteSize("max_query_bytes", &c.MaxQueryBytes, groupLimits, "Longest path and longest query string accepted (414 beyond).", ""),
		duration("serving_cache", &c.ServingCache, groupLimits, "Cache-Control max-age of /serving_num and /waiting_num (1s to 5s).", ""),
		duration("poll_cache", &c.PollCache, groupLimits, "How old a copy of a room's counters public polls may answer from (0 to 5s; 0 reads the store every time).",
			"One store read per room and period for /serving_num, /waiting_num and the room page's status, however many browsers poll. With a poll cache, /queue_num also answers a ticket it found before from memory while the room's generation is unchanged, so a reset by another replica shows there after at most this long too. Admission always reads the store."),

		choice("log_level", &c.LogLevel, groupLogging, "debug, info, warn or error (successful requests are logged at debug).", ""),
		choice("log_format", &c.LogFormat, groupLogging, "text or json.", ""),
		choice("metrics_listener", &c.MetricsListener, groupLogging, "Listener serving /metrics: admin or public (public needs metrics_token).", ""),
		secret("metrics_token", &c.MetricsToken, groupLogging, "Bearer token /metrics requires (at least 16 characters; required on the public listener).",
			"On the admin listener an admin key is accepted too; without a token, /metrics on the admin listener is open (the listener is private). Compared in constant time, never logged."),

		optionalBool("demo", &c.Demo, groupOpenID, "Serve the demo room, demo client and /demo/ relying party: true or false.",
			"Unset: on with the embedded store when the file configures no rooms, off on Redis + PostgreSQL. The start-up banner says which and why.", "embedded store only"),
		text("template_dir", "path", &c.TemplateDir, groupOpenID, "Folder of operator templates (room.html, error.html, partials.html, panel/*.html) replacing the built-in ones.", ""),

		duration("shutdown_timeout", &c.ShutdownTimeout, groupOps, "How long in-flight requests get to finish on SIGINT/SIGTERM.", ""),
		duration("expiry_interval", &c.ExpiryInterval, groupOps, "How often the queue-position expiry job runs (once per deployment, on the admission leader).", ""),
		boolean("pprof", &c.Pprof, groupOps, "Serve Go's runtime profiles under /debug/pprof/ on the admin listener, behind the admin key.", ""),
	}
}

// defaultDataDirText is data_dir's default as documented; see
// defaultDataDir.
const defaultDataDirText = "~/.local/state/waitroom"

func withDefault(s setting, def string) setting {
	s.Default = def
	return s
}

func text(name, typ string, p *string, group, usage, details string) setting {
	return setting{Name: name, Type: typ, Group: group, Usage: usage, Details: details,
		set: func(v string) error { *p = strings.TrimSpace(v); return nil },
		get: func() string { return *p }}
}

// choice is a text setting from a fixed list (validated with the rest).
func choice(name string, p *string, group, usage, details string) setting {
	return text(name, "choice", p, group, usage, details)
}

// secret is a text setting that is never shown (-help prints no default)
// and has no flag.
func secret(name string, p *string, group, usage, details string) setting {
	s := text(name, "secret", p, group, usage, details)
	s.noFlag = true
	return s
}

func list(name, typ string, p *[]string, group, usage, details string) setting {
	return setting{Name: name, Type: typ, Group: group, Usage: usage, Details: details,
		set:     func(v string) error { *p = splitList(v); return nil },
		setList: func(v []string) { *p = splitList(strings.Join(v, ",")) },
		get:     func() string { return strings.Join(*p, ",") }}
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

func integer(name string, p *int, group, usage, details string) setting {
	return setting{Name: name, Type: "integer", Group: group, Usage: usage, Details: details,
		set: func(v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("want a whole number, got %q", v)
			}
			*p = n
			return nil
		},
		get: func() string { return strconv.Itoa(*p) }}
}

func byteSize(name string, p *int, group, usage, details string) setting {
	s := integer(name, p, group, usage, details)
	s.Type = "bytes"
	return s
}

func integer64(name string, p *int64, group, usage, details string) setting {
	return setting{Name: name, Type: "integer", Group: group, Usage: usage, Details: details,
		set: func(v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return fmt.Errorf("want a whole number, got %q", v)
			}
			*p = n
			return nil
		},
		get: func() string { return strconv.FormatInt(*p, 10) }}
}

func byteSize64(name string, p *int64, group, usage, details string) setting {
	s := integer64(name, p, group, usage, details)
	s.Type = "bytes"
	return s
}

func duration(name string, p *waitroom.Duration, group, usage, details string) setting {
	return setting{Name: name, Type: "duration", Group: group, Usage: usage, Details: details,
		set: func(v string) error {
			if err := p.UnmarshalText([]byte(v)); err != nil {
				return fmt.Errorf("want a duration such as 90s, 15m or 1h, got %q", v)
			}
			return nil
		},
		get: func() string { return p.String() }}
}

func boolean(name string, p *bool, group, usage, details string) setting {
	return setting{Name: name, Type: "bool", Group: group, Usage: usage, Details: details, isBool: true,
		set: func(v string) error {
			b, err := parseBool(v)
			if err != nil {
				return err
			}
			*p = b
			return nil
		},
		get: func() string { return strconv.FormatBool(*p) }}
}

// optionalBool is a true/false setting whose absence means something of
// its own (described by def).
func optionalBool(name string, p **bool, group, usage, details, def string) setting {
	return setting{Name: name, Type: "bool", Group: group, Usage: usage, Details: details, Default: def, isBool: true,
		set: func(v string) error {
			b, err := parseBool(v)
			if err != nil {
				return err
			}
			*p = &b
			return nil
		},
		get: func() string {
			if *p == nil {
				return ""
			}
			return strconv.FormatBool(**p)
		}}
}

func parseBool(v string) (bool, error) {
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return false, fmt.Errorf("want true or false, got %q", v)
	}
	return b, nil
}

// retired are settings of earlier versions: naming one is an error that
// says what replaced it, since ignoring it would silently change what the
// server does (keys written elsewhere, a demo appearing).
var retired = map[string]string{
	"key_file":  "no longer read: the embedded store keeps its keys in <data_dir>/keys.json; set data_dir to the folder of the old file",
	"demo_room": "renamed demo (and now off by default on Redis + PostgreSQL)",
}

// applyEnv sets every setting whose environment variable is set (even to
// ""), or whose WAITROOM_<NAME>_FILE names a file holding the value (a
// secret mounted by Docker or compose, or passed by systemd's
// LoadCredential), collecting every problem. Retired variables are
// problems; other unknown WAITROOM_* variables are warnings (they may
// belong to something else, such as a compose file's own variables).
func applyEnv(c *server.Config, getenv func(string) (string, bool), environ []string) (problems, warnings []string) {
	known := map[string]bool{}
	var names []string
	for _, s := range settings(c) {
		known[s.Env()], known[s.Env()+fileSuffix] = true, true
		names = append(names, s.Env())
		v, ok := getenv(s.Env())
		path, fromFile := getenv(s.Env() + fileSuffix)
		switch {
		case ok && fromFile:
			problems = append(problems, fmt.Sprintf("%s and %s%s: set one or the other", s.Env(), s.Env(), fileSuffix))
			continue
		case fromFile:
			raw, err := os.ReadFile(path)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s%s: %v", s.Env(), fileSuffix, err))
				continue
			}
			v, ok = strings.TrimRight(string(raw), "\r\n"), true
		}
		if !ok {
			continue
		}
		if err := s.set(v); err != nil {
			name := s.Env()
			if fromFile {
				name += fileSuffix + " (" + path + ")"
			}
			problems = append(problems, fmt.Sprintf("%s: %v", name, err))
		}
	}
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "WAITROOM_") || known[name] || strings.HasPrefix(name, "WAITROOM_TEST_") {
			continue
		}
		if why, ok := retired[strings.ToLower(strings.TrimPrefix(name, "WAITROOM_"))]; ok {
			problems = append(problems, fmt.Sprintf("%s: %s", name, why))
			continue
		}
		warnings = append(warnings, fmt.Sprintf("%s is not a setting%s", name, server.DidYouMean(name, names)))
	}
	return problems, warnings
}

// fileSuffix turns a setting's variable into the one naming a file that
// holds its value: WAITROOM_SECRET_KEY_FILE=/run/secrets/secret_key.
const fileSuffix = "_FILE"

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
		fs.Var(flagValue{text: text, isBool: s.isBool, def: s.DefaultText()}, s.Flag(), s.Usage+" ("+s.Env()+")")
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
