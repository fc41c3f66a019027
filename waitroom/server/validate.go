package server

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/waitroom-idp/waitroom/oidc"
	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/redispg"
	"github.com/waitroom-idp/waitroom/waitroom/transport/httpapi"
	"github.com/waitroom-idp/waitroom/waitroom/transport/middleware"
)

// Validate checks every setting and reports every problem at once.
func (c Config) Validate() error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for _, a := range []struct{ name, addr string }{{"http_addr", c.HTTPAddr}, {"admin_addr", c.AdminAddr}} {
		if err := checkListenAddr(a.addr); err != nil {
			add("%s: %v", a.name, err)
		}
	}
	if c.HTTPAddr == c.AdminAddr && !strings.HasSuffix(c.HTTPAddr, ":0") {
		add("admin_addr: must differ from http_addr (the admin API has its own listener)")
	}
	if c.Issuer != "" {
		if err := checkIssuer(c.Issuer); err != nil {
			add("issuer: %v", err)
		}
	}
	problems = append(problems, c.tlsProblems()...)
	problems = append(problems, c.backendProblems()...)
	if _, err := httpapi.ParseAdminKeys(c.AdminKeyHashes); err != nil {
		add("admin_key_hashes: %v", err)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		add("log_level: %v", err)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		add("log_format: want json or text, got %q", c.LogFormat)
	}
	for _, o := range c.CORSOrigins {
		if err := checkOrigin(o); err != nil {
			add("cors_origins: %v", err)
		}
	}
	if _, err := middleware.ParseTrustedProxies(c.TrustedProxies); err != nil {
		add("trusted_proxies: %v", err)
	}
	problems = append(problems, c.limitProblems()...)
	problems = append(problems, c.captchaProblems()...)
	problems = append(problems, c.metricsProblems()...)
	if c.TemplateDir != "" {
		if info, err := os.Stat(c.TemplateDir); err != nil || !info.IsDir() {
			add("template_dir: %q is not a folder", c.TemplateDir)
		}
	}
	problems = append(problems, c.roomProblems()...)
	problems = append(problems, c.clientProblems()...)
	if len(problems) == 0 {
		return nil
	}
	return &ConfigError{Problems: problems}
}

// ConfigError lists every problem of a configuration.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	return "invalid configuration:\n  - " + strings.Join(e.Problems, "\n  - ")
}

func (c Config) backendProblems() []string {
	var p []string
	if (c.RedisURL == "") != (c.DatabaseURL == "") {
		p = append(p, "redis_url and database_url: set both (production backend) or neither (embedded store)")
	}
	if c.DatabaseReadURL != "" && c.DatabaseURL == "" {
		p = append(p, "database_read_url: a read replica of database_url, which is not set")
	}
	for _, msg := range redispg.CheckURLs("", false, c.DatabaseReadURL) {
		p = append(p, strings.Replace(msg, "database_url", "database_read_url", 1))
	}
	p = append(p, redispg.CheckURLs(c.RedisURL, c.RedisCluster, c.DatabaseURL)...)
	if c.DatabaseMaxConns < 1 || c.DatabaseMaxConns > 1000 {
		p = append(p, "database_max_conns: between 1 and 1000")
	}
	if c.SigningAlgorithm != "RS256" && c.SigningAlgorithm != "ES256" {
		p = append(p, fmt.Sprintf("signing_algorithm: want RS256 or ES256, got %q", c.SigningAlgorithm))
	}
	if c.KeyRotation.D() < 0 || (c.KeyRotation.D() > 0 && c.KeyRotation.D() < time.Hour) {
		p = append(p, "key_rotation: 0 (never) or at least 1h")
	}
	if c.SecretKey != "" {
		if _, err := decodeSecretKey(c.SecretKey); err != nil {
			p = append(p, fmt.Sprintf("secret_key: %v", err))
		}
	}
	return p
}

func (c Config) limitProblems() []string {
	var p []string
	check := func(ok bool, msg string) {
		if !ok {
			p = append(p, msg)
		}
	}
	check(c.AssignRateLimit >= 0, "assign_rate_limit: 0 (off) or more")
	check(c.AssignRateWindow.D() >= time.Second && c.AssignRateWindow.D() <= 24*time.Hour, "assign_rate_window: between 1s and 24h")
	check(c.MaxBodyBytes >= 1024 && c.MaxBodyBytes <= 10<<20, "max_body_bytes: between 1024 and 10485760")
	check(c.MaxHeaderBytes >= 4096 && c.MaxHeaderBytes <= 1<<20, "max_header_bytes: between 4096 and 1048576")
	check(c.ReadHeaderTimeout.D() >= time.Second && c.ReadHeaderTimeout.D() <= time.Minute, "read_header_timeout: between 1s and 1m")
	check(c.ReadTimeout.D() >= c.ReadHeaderTimeout.D() && c.ReadTimeout.D() <= 10*time.Minute, "read_timeout: between read_header_timeout and 10m")
	check(c.MaxQueryBytes >= 256 && c.MaxQueryBytes <= 64<<10, "max_query_bytes: between 256 and 65536")
	check(c.ServingCache.D() >= time.Second && c.ServingCache.D() <= 5*time.Second, "serving_cache: between 1s and 5s")
	check(c.PollCache.D() >= 0 && c.PollCache.D() <= 5*time.Second, "poll_cache: between 0 and 5s")
	check(c.ShutdownTimeout.D() >= time.Second && c.ShutdownTimeout.D() <= 10*time.Minute, "shutdown_timeout: between 1s and 10m")
	check(c.ExpiryInterval.D() >= time.Second && c.ExpiryInterval.D() <= time.Hour, "expiry_interval: between 1s and 1h")
	return p
}

// tlsProblems checks both listeners' certificate settings: pairs that
// load now, and an issuer whose scheme matches what the public listener
// serves when it serves TLS itself.
func (c Config) tlsProblems() []string {
	p := checkCertificatePair("tls_cert_file", "tls_key_file", c.TLSCertFile, c.TLSKeyFile)
	p = append(p, checkCertificatePair("admin_tls_cert_file", "admin_tls_key_file", c.AdminTLSCertFile, c.AdminTLSKeyFile)...)
	if c.TLS() && strings.HasPrefix(c.Issuer, "http://") {
		p = append(p, "issuer: the public listener serves https (tls_cert_file), so the issuer must be an https URL")
	}
	return p
}

// captchaProblems checks each CAPTCHA provider's keys: both or neither,
// and a verify URL the server can post to.
func (c Config) captchaProblems() []string {
	var p []string
	if d := c.CaptchaTimeout.D(); d < 100*time.Millisecond || d > time.Minute {
		p = append(p, "captcha_timeout: between 100ms and 1m")
	}
	for name, cc := range c.CaptchaProviders() {
		if (cc.SiteKey == "") != (cc.Secret == "") {
			p = append(p, fmt.Sprintf("%s_site_key, %s_secret: set both or neither", name, name))
		}
		if u, err := url.Parse(cc.VerifyURL); cc.VerifyURL != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
			p = append(p, name+"_verify_url: an absolute http or https URL")
		}
	}
	sort.Strings(p)
	return p
}

// CaptchaProviders names each provider's keys.
func (c Config) CaptchaProviders() map[string]CaptchaConfig {
	return map[string]CaptchaConfig{waitroom.CaptchaTurnstile: c.Turnstile, waitroom.CaptchaHCaptcha: c.HCaptcha, waitroom.CaptchaReCaptcha: c.ReCaptcha}
}

// minMetricsToken is the shortest metrics_token accepted.
const minMetricsToken = 16

func (c Config) metricsProblems() []string {
	var p []string
	if c.MetricsListener != "admin" && c.MetricsListener != "public" {
		p = append(p, "metrics_listener: want admin or public")
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < minMetricsToken {
		p = append(p, fmt.Sprintf("metrics_token: at least %d characters (openssl rand -hex 24)", minMetricsToken))
	}
	if c.MetricsListener == "public" && c.MetricsToken == "" {
		p = append(p, "metrics_token: required with metrics_listener: public (the metrics name every room and its counters)")
	}
	return p
}

func (c Config) roomProblems() []string {
	var p []string
	seen := map[string]int{}
	for i, raw := range c.Rooms {
		if raw == nil {
			continue // not a mapping: reported where the file was read
		}
		path := fmt.Sprintf("rooms[%d]", i)
		r, problems := decodeRoom(path, raw)
		p = append(p, problems...)
		if r.ID == "" {
			continue
		}
		if j, dup := seen[r.ID]; dup {
			p = append(p, fmt.Sprintf("%s.id: %q is defined twice (also rooms[%d])", path, r.ID, j))
			continue
		}
		seen[r.ID] = i
	}
	return p
}

// clientProblems checks the file's clients: each valid on its own, ids
// unique (the demo client's included when the demo is on), and each naming
// a room of the file (or the demo room when the demo is on), so that a
// client cannot send its visitors to a room that is not there. A room the
// admin API made must be listed under rooms too: an existing room keeps
// its stored settings.
func (c Config) clientProblems() []string {
	var p []string
	rooms := map[string]bool{}
	for _, raw := range c.Rooms {
		if id, ok := raw["id"].(string); ok {
			rooms[id] = true
		}
	}
	demo, _ := c.DemoOn()
	if demo {
		rooms[demoRoomID] = true
	}
	seen := map[string]int{}
	for i, cl := range c.Clients {
		path := fmt.Sprintf("clients[%d]", i)
		cl = cl.WithDefaults()
		for _, problem := range cl.Problems() {
			p = append(p, path+"."+problem)
		}
		if j, dup := seen[cl.ID]; dup {
			p = append(p, fmt.Sprintf("%s.id: %q is defined twice (also clients[%d])", path, cl.ID, j))
		}
		seen[cl.ID] = i
		if demo && cl.ID == oidc.DemoClientID {
			p = append(p, fmt.Sprintf("%s.id: %q is the demo client's id; choose another, or set demo: false", path, cl.ID))
		}
		if waitroom.ValidRoomID(cl.Room) && !rooms[cl.Room] {
			p = append(p, fmt.Sprintf("%s.room: no room %q in this configuration%s; add it under rooms (a room that exists already keeps its stored settings)",
				path, cl.Room, roomsNamed(rooms)))
		}
	}
	return p
}

func roomsNamed(rooms map[string]bool) string {
	if len(rooms) == 0 {
		return " (no rooms are configured)"
	}
	names := make([]string, 0, len(rooms))
	for id := range rooms {
		names = append(names, id)
	}
	sort.Strings(names)
	return " (rooms: " + strings.Join(names, ", ") + ")"
}

// decodeRoom reads one room of the file the way the admin API reads one:
// the JSON field names, over the defaults. Problems start with path.
func decodeRoom(path string, raw map[string]any) (waitroom.Room, []string) {
	r := waitroom.NewRoom("", "")
	problems := decodeFields(path, raw, &r, "json")
	if len(problems) > 0 {
		return waitroom.Room{ID: r.ID}, problems
	}
	for _, problem := range r.Problems() {
		problems = append(problems, path+"."+problem)
	}
	return r, problems
}

// RoomFromConfig reads one room of the file the way the admin API reads
// one: the JSON field names, over the defaults, unknown fields refused, a
// zero duration refused rather than replaced.
func RoomFromConfig(raw map[string]any) (waitroom.Room, error) {
	r, problems := decodeRoom("", raw)
	if len(problems) > 0 {
		return waitroom.Room{}, waitroom.Errorf(waitroom.CodeInvalid, "%s", strings.Join(problems, "; "))
	}
	return r, nil
}

// DecodeClient reads one client of the file field by field (the file's
// keys, README's table); problems start with path. Its validity as a
// whole is Validate's business.
func DecodeClient(path string, raw map[string]any) (waitroom.Client, []string) {
	var c waitroom.Client
	problems := decodeFields(path, raw, &c, "yaml")
	return c, problems
}

func checkListenAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port or :port, got %q", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return nil
}

func checkIssuer(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("want an absolute http(s) URL such as https://queue.example.com, got %q", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return errors.New("no query, fragment or user info allowed")
	}
	if strings.HasSuffix(u.Path, "/") {
		return errors.New("no trailing slash (OpenID clients compare the issuer exactly)")
	}
	return nil
}

func checkOrigin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return fmt.Errorf("%q: want * or scheme://host[:port]", o)
	}
	return nil
}

// redactPassword keeps a URL's password out of a message.
func redactPassword(msg, raw string) string {
	if u, perr := url.Parse(raw); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	return msg
}

// redactURL hides the password of a connection URL for logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		if strings.Contains(raw, "password=") {
			return "(key=value DSN, password hidden)"
		}
		return raw
	}
	return u.Redacted()
}
