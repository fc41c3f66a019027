package oidc

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Cookie lifetimes.
const (
	ticketCookieTTL  = 12 * time.Hour
	visitorCookieTTL = 400 * 24 * time.Hour // the longest browsers keep
	maxCookieValue   = 1024
)

// ticketCookie keeps a browser's place in one room: refresh or a second
// tab finds the same ticket. Key makes Enqueue idempotent.
type ticketCookie struct {
	Key      string `json:"k"`
	TicketID string `json:"t"`
	Position int64  `json:"p"`
	QueuedAt int64  `json:"q"`
}

// admissionCookie proves that the browser was admitted to a room. A fresh
// /authorize for a client of the room completes at once while it lasts.
type admissionCookie struct {
	TicketID   string `json:"t"`
	Position   int64  `json:"p"`
	QueuedAt   int64  `json:"q"`
	AdmittedAt int64  `json:"a"`
	Expires    int64  `json:"e"`
}

// visitorCookie is the long-lived random id behind pairwise subjects.
type visitorCookie struct {
	ID string `json:"v"`
}

// cookieJar signs and reads the provider's cookies. Values are
// base64url(JSON) "." base64url(HMAC(name, payload)): readable by the
// browser's owner, unforgeable, bound to the cookie's name (so an admission
// for one room is not one for another).
type cookieJar struct {
	key    []byte
	path   string
	secure bool
}

func ticketCookieName(room string) string    { return "wr_t_" + room }
func admissionCookieName(room string) string { return "wr_a_" + room }

const visitorCookieName = "wr_v"

func (j cookieJar) set(w http.ResponseWriter, name string, v any, maxAge time.Duration) {
	payload, _ := json.Marshal(v)
	p := base64.RawURLEncoding.EncodeToString(payload)
	sig := base64.RawURLEncoding.EncodeToString(mac(j.key, name, p))
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    p + "." + sig,
		Path:     j.path,
		MaxAge:   int(maxAge / time.Second),
		HttpOnly: true,
		Secure:   j.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

func (j cookieJar) clear(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: j.path, MaxAge: -1,
		HttpOnly: true, Secure: j.secure, SameSite: http.SameSiteLaxMode})
}

// get reads and verifies a cookie into v; false if absent or forged.
func (j cookieJar) get(r *http.Request, name string, v any) bool {
	c, err := r.Cookie(name)
	if err != nil || len(c.Value) > maxCookieValue {
		return false
	}
	p, sig, ok := strings.Cut(c.Value, ".")
	if !ok {
		return false
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(j.key, name, p)) {
		return false
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return false
	}
	return json.Unmarshal(payload, v) == nil
}
