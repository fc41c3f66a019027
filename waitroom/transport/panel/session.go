package panel

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// Cookie names. The session cookie is HttpOnly and SameSite=Strict: the
// admin key itself never reaches the browser's storage, only this signed,
// expiring proof that someone presented it.
const (
	sessionCookie = "wr_panel"
	loginCookie   = "wr_panel_login"
)

var b64 = base64.RawURLEncoding

// sessions signs and checks panel session cookies and CSRF tokens. They are
// stateless (an expiry and a nonce under an HMAC), so any replica sharing
// the secret accepts them.
type sessions struct {
	secret []byte
	ttl    time.Duration
	secure bool
	path   string
	clock  func() time.Time
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return b
}

func (s *sessions) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, s.secret)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// issue returns a new session cookie value for the operator a: the expiry,
// a nonce, the viewer flag and the key's name, under the HMAC.
func (s *sessions) issue(a web.Actor) string {
	payload := make([]byte, 8, 25+len(a.Name))
	binary.BigEndian.PutUint64(payload, uint64(s.clock().Add(s.ttl).Unix()))
	payload = append(payload, randomBytes(16)...)
	viewer := byte(0)
	if a.ReadOnly {
		viewer = 1
	}
	payload = append(append(payload, viewer), a.Name...)
	p := b64.EncodeToString(payload)
	return p + "." + b64.EncodeToString(s.mac("session", p))
}

// valid returns the operator of value if it is an unexpired session this
// secret signed.
func (s *sessions) valid(value string) (web.Actor, bool) {
	p, sig, ok := strings.Cut(value, ".")
	// Go's base64 skips CR and LF even in strict mode: refused here, so
	// that one session has one cookie value.
	if !ok || len(value) > 300 || strings.ContainsAny(value, "\r\n") {
		return web.Actor{}, false
	}
	got, err := b64.Strict().DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac("session", p)) {
		return web.Actor{}, false
	}
	payload, err := b64.DecodeString(p)
	if err != nil || len(payload) < 25 {
		return web.Actor{}, false
	}
	expires := time.Unix(int64(binary.BigEndian.Uint64(payload[:8])), 0)
	return web.Actor{ReadOnly: payload[24] == 1, Name: string(payload[25:])}, s.clock().Before(expires)
}

// csrf is the form token bound to a session (or login) cookie value.
func (s *sessions) csrf(cookieValue string) string {
	return b64.EncodeToString(s.mac("csrf", cookieValue))
}

func (s *sessions) checkCSRF(cookieValue, token string) bool {
	want := s.csrf(cookieValue)
	return cookieValue != "" && subtle.ConstantTimeCompare([]byte(want), []byte(token)) == 1
}

func (s *sessions) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: s.path,
		MaxAge: int(maxAge.Seconds()), HttpOnly: true, Secure: s.secure,
		SameSite: http.SameSiteStrictMode,
	}
}

func (s *sessions) clear(name string) *http.Cookie {
	c := s.cookie(name, "", 0)
	c.MaxAge = -1
	return c
}

func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// sameOrigin refuses a state-changing request that a browser says came
// from another site: a second line of defence behind the CSRF token.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return origin == ""
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}
