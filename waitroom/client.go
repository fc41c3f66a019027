package waitroom

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// A Client is a relying party registered with the OpenID provider: it sends
// its visitors through one room. Clients come from the configuration file
// (read-only) or the admin API (kept in a ClientStore); package
// oidc/clients serves them, package oidc uses them.

// Subject policies: what the `sub` claim identifies.
const (
	// SubjectTicket gives every admission its own anonymous subject.
	SubjectTicket = "ticket"
	// SubjectPairwise gives a browser one stable subject per client, taken
	// from a long-lived signed visitor cookie, so that relying parties that
	// create an account per `sub` (WordPress, Cognito) do not create one per
	// visit.
	SubjectPairwise = "pairwise"
)

// Access-token formats.
const (
	TokenFormatJWT    = "jwt"
	TokenFormatOpaque = "opaque"
)

// Grant types a client may be allowed.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
)

// Client sources: where a client definition comes from.
const (
	SourceConfig = "config" // the config file (read-only through the API)
	SourceAPI    = "api"    // the admin API, kept in the client store
)

// Client is a relying party registered with the provider.
type Client struct {
	ID   string `json:"id" yaml:"id"`
	Name string `json:"name,omitempty" yaml:"name"`
	// Secret is only ever set on input (config file, admin API create or
	// rotate) and in the answer that creates it; stores keep SecretHash.
	Secret     string `json:"secret,omitempty" yaml:"secret"`
	SecretHash string `json:"-" yaml:"-"`
	// RedirectURIs are matched exactly, query string included.
	RedirectURIs           []string `json:"redirect_uris" yaml:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty" yaml:"post_logout_redirect_uris"`
	// Room is the waiting room a login through this client queues in.
	Room string `json:"room" yaml:"room"`
	// MaxHold is how long the relying party keeps its own login state. A
	// visitor admitted after a longer wait is sent to InitiateLoginURI so
	// that the relying party starts a fresh login, which the admission
	// cookie then completes at once. 0: always complete the original
	// request.
	MaxHold          Duration `json:"max_hold" yaml:"max_hold"`
	InitiateLoginURI string   `json:"initiate_login_uri,omitempty" yaml:"initiate_login_uri"`
	GrantTypes       []string `json:"grant_types" yaml:"grant_types"`
	// AccessTokenFormat is "opaque" (the default) or "jwt". Relying
	// parties only hand access tokens back to userinfo (and introspection),
	// which check either kind against the grant's record; a JWT costs one
	// more signature per login and is for sites whose own APIs verify
	// access tokens themselves.
	AccessTokenFormat    string   `json:"access_token_format" yaml:"access_token_format"`
	AccessTokenLifetime  Duration `json:"access_token_lifetime" yaml:"access_token_lifetime"`
	IDTokenLifetime      Duration `json:"id_token_lifetime" yaml:"id_token_lifetime"`
	RefreshTokenLifetime Duration `json:"refresh_token_lifetime" yaml:"refresh_token_lifetime"`
	// Subject is the sub policy: "ticket" or "pairwise".
	Subject string `json:"subject" yaml:"subject"`
	// Claims are extra claims for the ID token and userinfo. Values may use
	// the placeholders {sub}, {sub8}, {room} and {position}, e.g.
	// preferred_username: "visitor-{sub8}", email: "{sub8}@visitors.invalid".
	Claims map[string]string `json:"claims,omitempty" yaml:"claims"`

	Source    string    `json:"source" yaml:"-"`
	CreatedAt time.Time `json:"created_at" yaml:"-"`
	UpdatedAt time.Time `json:"updated_at" yaml:"-"`
}

// Defaults for clients that leave a setting empty.
const (
	DefaultAccessTokenLifetime  = 15 * time.Minute
	DefaultIDTokenLifetime      = time.Hour
	DefaultRefreshTokenLifetime = 24 * time.Hour
)

// WithDefaults fills empty settings.
func (c Client) WithDefaults() Client {
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{GrantAuthorizationCode}
	}
	if c.AccessTokenFormat == "" {
		c.AccessTokenFormat = TokenFormatOpaque
	}
	if c.AccessTokenLifetime == 0 {
		c.AccessTokenLifetime = Duration(DefaultAccessTokenLifetime)
	}
	if c.IDTokenLifetime == 0 {
		c.IDTokenLifetime = Duration(DefaultIDTokenLifetime)
	}
	if c.RefreshTokenLifetime == 0 {
		c.RefreshTokenLifetime = Duration(DefaultRefreshTokenLifetime)
	}
	if c.Subject == "" {
		c.Subject = SubjectTicket
	}
	return c
}

var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`)

// Validate checks a client (after WithDefaults) and returns every problem
// at once as a waitroom invalid_argument error.
func (c Client) Validate() error { return Problems(c.Problems()) }

// Problems lists every problem of a client (after WithDefaults), each
// starting with the field it concerns ("secret: at least 16 characters").
func (c Client) Problems() []string { return c.problems("") }

// ProblemsServedAt is Problems for a client served by the provider itself
// (the demo relying party): redirect URIs under origin, the issuer's own
// scheme and host, may use whatever scheme the issuer uses.
func (c Client) ProblemsServedAt(origin string) []string { return c.problems(origin) }

func (c Client) problems(origin string) []string {
	var p []string
	if !clientIDPattern.MatchString(c.ID) {
		p = append(p, "id: 1-128 letters, digits, '_', '.', ':' or '-'")
	}
	if c.Secret == "" && c.SecretHash == "" {
		p = append(p, "secret: required")
	} else if c.Secret != "" && len(c.Secret) < MinClientSecret {
		p = append(p, fmt.Sprintf("secret: at least %d characters", MinClientSecret))
	}
	if len(c.RedirectURIs) == 0 {
		p = append(p, "redirect_uris: at least one")
	}
	for _, u := range c.RedirectURIs {
		if origin != "" && strings.HasPrefix(u, origin+"/") {
			p = append(p, checkAbsoluteURL("redirect_uris", u)...)
			continue
		}
		p = append(p, checkRedirectURI(u)...)
	}
	for _, u := range c.PostLogoutRedirectURIs {
		p = append(p, checkAbsoluteURL("post_logout_redirect_uris", u)...)
	}
	if c.InitiateLoginURI != "" {
		p = append(p, checkAbsoluteURL("initiate_login_uri", c.InitiateLoginURI)...)
	}
	if !ValidRoomID(c.Room) {
		p = append(p, "room: a valid room id")
	}
	if c.MaxHold < 0 {
		p = append(p, "max_hold: not negative")
	}
	return append(p, c.validateTokens()...)
}

// MinClientSecret is the shortest client secret accepted.
const MinClientSecret = 16

func (c Client) validateTokens() []string {
	var p []string
	for _, g := range c.GrantTypes {
		if g != GrantAuthorizationCode && g != GrantRefreshToken {
			p = append(p, fmt.Sprintf("grant_types: %q is not supported (authorization_code, refresh_token)", g))
		}
	}
	if !slices.Contains(c.GrantTypes, GrantAuthorizationCode) {
		p = append(p, "grant_types: must include authorization_code")
	}
	if c.AccessTokenFormat != TokenFormatJWT && c.AccessTokenFormat != TokenFormatOpaque {
		p = append(p, "access_token_format: opaque or jwt")
	}
	for name, d := range map[string]Duration{
		"access_token_lifetime":  c.AccessTokenLifetime,
		"id_token_lifetime":      c.IDTokenLifetime,
		"refresh_token_lifetime": c.RefreshTokenLifetime,
	} {
		if d.D() < time.Minute || d.D() > maxLifetime(name) {
			p = append(p, fmt.Sprintf("%s: between 1m and %s", name, maxLifetime(name)))
		}
	}
	if c.Subject != SubjectTicket && c.Subject != SubjectPairwise {
		p = append(p, "subject: ticket or pairwise")
	}
	for k := range c.Claims {
		if reservedClaims[k] {
			p = append(p, fmt.Sprintf("claims: %q is set by the provider", k))
		}
	}
	return p
}

// reservedClaims may not be overridden by a client's static claims.
var reservedClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "azp": true, "exp": true, "iat": true,
	"nbf": true, "jti": true, "auth_time": true, "nonce": true, "at_hash": true,
	"c_hash": true, "sid": true, "client_id": true, "scope": true, "acr": true, "amr": true,
	ClaimRoom: true, ClaimPosition: true, ClaimQueuedAt: true, ClaimAdmittedAt: true,
}

// The waitroom claims of ID tokens, JWT access tokens and userinfo: they
// describe the admission.
const (
	ClaimRoom       = "room"
	ClaimPosition   = "queue_position"
	ClaimQueuedAt   = "queued_at"
	ClaimAdmittedAt = "admitted_at"
)

// checkRedirectURI accepts an absolute https URL, or plain http only to
// this machine (localhost, 127.0.0.0/8, [::1]): an authorization code sent
// over plain http to another host can be read on the way.
func checkRedirectURI(raw string) []string {
	if p := checkAbsoluteURL("redirect_uris", raw); p != nil {
		return p
	}
	u, _ := url.Parse(raw)
	if u.Scheme == "http" && !LoopbackHost(u.Hostname()) {
		return []string{fmt.Sprintf("redirect_uris: %q must use https (plain http only to localhost, 127.0.0.1 or [::1])", raw)}
	}
	return nil
}

// LoopbackHost reports whether host (without port or brackets) names this
// machine: localhost, an address in 127.0.0.0/8, or ::1.
func LoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkAbsoluteURL(field, raw string) []string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
		return []string{fmt.Sprintf("%s: %q must be an absolute http(s) URL without fragment", field, raw)}
	}
	return nil
}

// Problems joins every problem found into one invalid_argument error (nil
// when there is none), so that a caller fixes them all at once.
func Problems(p []string) error {
	if len(p) == 0 {
		return nil
	}
	return Errorf(CodeInvalid, "%s", strings.Join(p, "; "))
}

// AllowsGrant reports whether the client may use grant type g.
func (c Client) AllowsGrant(g string) bool { return slices.Contains(c.GrantTypes, g) }

// Public returns c without secret material, as the admin API shows it.
func (c Client) Public() Client {
	c.Secret, c.SecretHash = "", ""
	return c
}

// maxLifetime bounds token lifetimes: access and ID tokens a day (the
// revocation markers outlive them), refresh tokens 90 days.
func maxLifetime(name string) time.Duration {
	if name == "refresh_token_lifetime" {
		return 90 * 24 * time.Hour
	}
	return 24 * time.Hour
}
