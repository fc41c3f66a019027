package middleware

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
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

// FuzzCleanEscaped: a query string or form body that CleanEscaped passes
// gives only clean names and values to url.ParseQuery, and one with a NUL
// or invalid UTF-8 in a decoded value is refused.
func FuzzCleanEscaped(f *testing.F) {
	for _, seed := range []string{"a=b&c=d", "a=%00", "a=%ff", "a=%C3%A9", "%zz&x=%00", "a=%", "a=%0", "é=ü", "a=\xff", "+%2B%25"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		values, _ := url.ParseQuery(s)
		clean := CleanEscaped(s)
		for k, vs := range values {
			for _, v := range append(vs, k) {
				if clean && !CleanText(v) {
					t.Fatalf("%q passed, but ParseQuery gives %q", s, v)
				}
			}
		}
		if clean != CleanEscaped(strings.ReplaceAll(s, "+", " ")) {
			t.Fatalf("%q: '+' changed the verdict", s)
		}
	})
}
