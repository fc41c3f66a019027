package panel

import (
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

func newSessions(now *time.Time) *sessions {
	return &sessions{secret: []byte("0123456789abcdef0123456789abcdef"), ttl: time.Hour, path: "/panel/", clock: func() time.Time { return *now }}
}

func TestSessionExpiresAndIsBoundToItsSecret(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	s := newSessions(&now)
	v := s.issue(web.Actor{Name: "alice"})
	if a, ok := s.valid(v); !ok || a.Name != "alice" || a.ReadOnly {
		t.Fatalf("a fresh session reads as %+v, %v", a, ok)
	}
	if a, ok := s.valid(s.issue(web.Actor{Name: "bob", ReadOnly: true})); !ok || a.Name != "bob" || !a.ReadOnly {
		t.Fatalf("a viewer's session reads as %+v, %v", a, ok)
	}
	other := &sessions{secret: []byte("another secret of enough length!"), ttl: time.Hour, clock: s.clock}
	if _, ok := other.valid(v); ok {
		t.Fatal("a session signed with another secret is accepted")
	}
	if !s.checkCSRF(v, s.csrf(v)) || s.checkCSRF(v, s.csrf(s.issue(web.Actor{Name: "alice"}))) || s.checkCSRF("", s.csrf("")) {
		t.Fatal("CSRF tokens are not bound to their session")
	}
	now = now.Add(time.Hour + time.Second)
	if _, ok := s.valid(v); ok {
		t.Fatal("an expired session is accepted")
	}
}

// FuzzSessionCookie: whatever a browser sends as the cookie, checking it
// never panics and never accepts anything but a value this secret issued.
func FuzzSessionCookie(f *testing.F) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	s := newSessions(&now)
	// A fixed value (expiry in an hour, zero nonce, key "ops"): every fuzz
	// worker process must agree on it.
	raw := append(append([]byte{0, 0, 0, 0, 0x6b, 0x01, 0x95, 0xd0}, make([]byte, 16)...), 0, 'o', 'p', 's')
	payload := b64.EncodeToString(raw)
	good := payload + "." + b64.EncodeToString(s.mac("session", payload))
	if _, ok := s.valid(good); !ok {
		f.Fatal("the seed session is not valid")
	}
	f.Add(good)
	f.Add("")
	f.Add(".")
	f.Add(good[:len(good)-2] + "AA")
	f.Fuzz(func(t *testing.T, v string) {
		if _, ok := s.valid(v); ok && v != good {
			// Another value can only be valid if it is a different
			// encoding of a payload this secret signed: never by chance.
			t.Fatalf("accepted %q", v)
		}
	})
}
