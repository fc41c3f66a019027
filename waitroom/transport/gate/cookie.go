package gate

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// ticketCookie keeps a browser's place in a room's line on the room page
// (waitroom's host, not the site's). Key makes the enqueue idempotent.
type ticketCookie struct {
	Key      string `json:"k"`
	TicketID string `json:"t"`
	Position int64  `json:"p"`
}

const (
	ticketTTL      = 12 * time.Hour
	maxTicketValue = 512
)

// ticketJar signs the ticket cookie: base64url(JSON) "." base64url(HMAC),
// the HMAC over the cookie's name too, so one room's place is not
// another's.
type ticketJar struct {
	key    []byte
	path   string
	secure bool
}

func ticketName(room string) string { return "wr_g_" + room }

func (j ticketJar) sign(name, payload string) []byte {
	m := hmac.New(sha256.New, j.key)
	m.Write([]byte(name + "\x00" + payload))
	return m.Sum(nil)
}

func (j ticketJar) set(w http.ResponseWriter, room string, tc ticketCookie) {
	raw, _ := json.Marshal(tc)
	p := base64.RawURLEncoding.EncodeToString(raw)
	value := p + "." + base64.RawURLEncoding.EncodeToString(j.sign(ticketName(room), p))
	http.SetCookie(w, &http.Cookie{Name: ticketName(room), Value: value, Path: j.path, MaxAge: int(ticketTTL / time.Second),
		HttpOnly: true, Secure: j.secure, SameSite: http.SameSiteLaxMode})
}

func (j ticketJar) clear(w http.ResponseWriter, room string) {
	http.SetCookie(w, &http.Cookie{Name: ticketName(room), Path: j.path, MaxAge: -1,
		HttpOnly: true, Secure: j.secure, SameSite: http.SameSiteLaxMode})
}

// get reads the cookie into tc; false when absent or not ours.
func (j ticketJar) get(r *http.Request, room string, tc *ticketCookie) bool {
	c, err := r.Cookie(ticketName(room))
	if err != nil || len(c.Value) > maxTicketValue {
		return false
	}
	p, sig, ok := strings.Cut(c.Value, ".")
	if !ok {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, j.sign(ticketName(room), p)) {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	return err == nil && json.Unmarshal(raw, tc) == nil
}
