package middleware

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// FuzzForwardedFor: any header gives either the peer or an address that
// appears in the header, never a panic.
func FuzzForwardedFor(f *testing.F) {
	f.Add("1.2.3.4, 10.0.0.1")
	f.Add("garbage,,::1,[::1]")
	f.Add("")
	trusted, _ := ParseTrustedProxies([]string{"10.0.0.0/8"})
	f.Fuzz(func(t *testing.T, header string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = "10.9.9.9:1"
		req.Header.Set("X-Forwarded-For", header)
		got := clientAddr(req, trusted)
		if !got.IsValid() {
			t.Fatalf("%q: invalid address", header)
		}
		if got != netip.MustParseAddr("10.9.9.9") {
			found := false
			for _, h := range forwardedFor([]string{header}) {
				found = found || h == got
			}
			if !found {
				t.Fatalf("%q: %v is not from the header", header, got)
			}
		}
	})
}
