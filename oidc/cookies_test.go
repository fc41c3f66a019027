package oidc

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzCookie feeds arbitrary cookie values to the reader: it must never
// panic, and never accept a value it did not sign.
func FuzzCookie(f *testing.F) {
	jar := cookieJar{key: []byte("0123456789abcdef0123456789abcdef"), path: "/"}
	rec := httptest.NewRecorder()
	jar.set(rec, ticketCookieName("r1"), ticketCookie{Key: "k", TicketID: "t", Position: 3}, ticketCookieTTL)
	signed := rec.Result().Cookies()[0].Value
	f.Add(signed)
	f.Add("e30.")
	f.Add("")
	f.Add("....")
	f.Fuzz(func(t *testing.T, value string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.AddCookie(&http.Cookie{Name: ticketCookieName("r1"), Value: value})
		// What a browser would send: net/http drops the bytes a cookie
		// value cannot hold (a quote, a space), so compare that.
		sent := ""
		if c, err := r.Cookie(ticketCookieName("r1")); err == nil {
			sent = c.Value
		}
		var tc ticketCookie
		ok := jar.get(r, ticketCookieName("r1"), &tc)
		if ok && sent != signed {
			t.Fatalf("accepted a value it did not sign: %q (sent as %q)", value, sent)
		}
		var adm admissionCookie
		if jar.get(r, admissionCookieName("r1"), &adm) {
			t.Fatal("a ticket cookie read as an admission")
		}
	})
}

func TestCookieBoundToName(t *testing.T) {
	jar := cookieJar{key: []byte("0123456789abcdef0123456789abcdef"), path: "/"}
	rec := httptest.NewRecorder()
	jar.set(rec, admissionCookieName("r1"), admissionCookie{TicketID: "t"}, ticketCookieTTL)
	v := rec.Result().Cookies()[0].Value
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(&http.Cookie{Name: admissionCookieName("r2"), Value: v})
	var adm admissionCookie
	if jar.get(r, admissionCookieName("r2"), &adm) {
		t.Fatal("an admission to room r1 was accepted for room r2")
	}
}
