package waitroom

import (
	"fmt"
	"path"
	"strings"
	"time"
)

// Gate is how a room protects a website through a reverse proxy's
// external-authorization hook (nginx auth_request, Traefik forwardAuth,
// Caddy forward_auth, Envoy ext_authz): which requests need an admission,
// which pass, which are answered "busy" instead of being redirected to the
// room page, and where a visitor may be sent back to.
//
// Path patterns: a pattern with *, ? or [ is a glob matched against the
// whole path (path.Match: * does not cross a /), and one ending in /** also
// matches everything below the part before it; any other pattern is a
// prefix ("/static/" matches "/static/app.css").
type Gate struct {
	// Hosts are the protected sites' host names ("shop.example.com", or
	// "*.example.com" for any subdomain). A request for another host is
	// refused: a gate never queues or redirects for a site it was not told
	// about. Required.
	Hosts []string `json:"hosts"`
	// Protect lists the paths that need an admission; empty means every
	// path.
	Protect []string `json:"protect,omitempty"`
	// Pass lists paths let through without an admission (assets, health
	// checks, payment providers' webhooks). It wins over Protect and Busy.
	Pass []string `json:"pass,omitempty"`
	// Busy lists paths answered 503 with Retry-After instead of a redirect
	// to the room page (APIs, XHR endpoints).
	Busy []string `json:"busy,omitempty"`
	// ReturnHosts are more hosts the visitor may be sent back to after the
	// room, besides Hosts (the same forms).
	ReturnHosts []string `json:"return_hosts,omitempty"`
	// RetryAfter is the Retry-After of a busy answer (30s when zero).
	RetryAfter Duration `json:"retry_after,omitempty"`
}

// DefaultGateRetryAfter is the Retry-After of a busy answer when the room
// does not set one.
const DefaultGateRetryAfter = 30 * time.Second

// Limits of a gate's settings: rules are matched on every protected
// request, so their number stays small.
const (
	maxGatePatterns = 64
	maxPatternLen   = 256
)

// EffectiveRetryAfter is RetryAfter, or its default.
func (g Gate) EffectiveRetryAfter() time.Duration {
	if g.RetryAfter == 0 {
		return DefaultGateRetryAfter
	}
	return g.RetryAfter.D()
}

func (g Gate) problems() []string {
	var out []string
	if len(g.Hosts) == 0 {
		out = append(out, "gate.hosts: name at least one protected host")
	}
	out = append(out, hostProblems("gate.hosts", g.Hosts)...)
	out = append(out, hostProblems("gate.return_hosts", g.ReturnHosts)...)
	for _, list := range []struct {
		field    string
		patterns []string
	}{{"gate.protect", g.Protect}, {"gate.pass", g.Pass}, {"gate.busy", g.Busy}} {
		out = append(out, patternProblems(list.field, list.patterns)...)
	}
	if g.RetryAfter != 0 && (g.RetryAfter.D() < time.Second || g.RetryAfter.D() > time.Hour) {
		out = append(out, "gate.retry_after: between 1s and 1h")
	}
	return out
}

func hostProblems(field string, hosts []string) []string {
	if len(hosts) > maxGatePatterns {
		return []string{fmt.Sprintf("%s: at most %d hosts", field, maxGatePatterns)}
	}
	var out []string
	for i, h := range hosts {
		if !validHostPattern(h) {
			out = append(out, fmt.Sprintf("%s[%d]: %q is not a host name (letters, digits, '-' and '.', optionally \"*.\" first and \":port\" last)", field, i, h))
		}
	}
	return out
}

func validHostPattern(h string) bool {
	name, port, hasPort := strings.Cut(strings.TrimPrefix(h, "*."), ":")
	if name == "" || len(h) > 253 || (hasPort && !validPort(port)) {
		return false
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || strings.Trim(label, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
			return false
		}
	}
	return true
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 || strings.Trim(p, "0123456789") != "" {
		return false
	}
	return true
}

func patternProblems(field string, patterns []string) []string {
	if len(patterns) > maxGatePatterns {
		return []string{fmt.Sprintf("%s: at most %d patterns", field, maxGatePatterns)}
	}
	var out []string
	for i, p := range patterns {
		if !strings.HasPrefix(p, "/") || len(p) > maxPatternLen {
			out = append(out, fmt.Sprintf("%s[%d]: a path pattern starts with / (at most %d characters)", field, i, maxPatternLen))
			continue
		}
		if _, err := path.Match(strings.TrimSuffix(p, "/**"), "/"); err != nil {
			out = append(out, fmt.Sprintf("%s[%d]: %q is not a valid glob", field, i, p))
		}
	}
	return out
}

// MatchHost reports whether host (a Host header: name and optional port)
// is one of patterns. Names compare without case; "*.example.com" matches
// any subdomain of example.com but not example.com itself; a pattern
// without a port matches the name on any port.
func MatchHost(patterns []string, host string) bool {
	host = strings.ToLower(host)
	name, _, _ := strings.Cut(host, ":")
	for _, p := range patterns {
		p = strings.ToLower(p)
		candidate := name
		if strings.Contains(p, ":") {
			candidate = host
		}
		if suffix, ok := strings.CutPrefix(p, "*"); ok {
			if strings.HasSuffix(candidate, suffix) && len(candidate) > len(suffix) {
				return true
			}
		} else if candidate == p {
			return true
		}
	}
	return false
}

// MatchPath reports whether the URL path p matches one of patterns (see
// Gate for their forms).
func MatchPath(patterns []string, p string) bool {
	for _, pat := range patterns {
		if matchPattern(pat, p) {
			return true
		}
	}
	return false
}

func matchPattern(pat, p string) bool {
	if !strings.ContainsAny(pat, "*?[") {
		return strings.HasPrefix(p, pat)
	}
	if base, ok := strings.CutSuffix(pat, "/**"); ok {
		for dir := p; ; dir = path.Dir(dir) {
			if ok, _ := path.Match(base, dir); ok {
				return true
			}
			if dir == "/" || dir == "." {
				return false
			}
		}
	}
	ok, _ := path.Match(pat, p)
	return ok
}
