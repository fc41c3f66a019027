package middleware

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRealIP(t *testing.T) {
	trusted, err := ParseTrustedProxies([]string{"10.0.0.0/8", "192.0.2.1", " "})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"untrusted peer ignores the header", "203.0.113.5:1", []string{"1.2.3.4"}, "203.0.113.5"},
		{"trusted peer, one hop", "10.1.1.1:1", []string{"198.51.100.9"}, "198.51.100.9"},
		{"client-written hops left of the real one are ignored", "10.1.1.1:1", []string{"6.6.6.6, 198.51.100.9, 10.2.2.2"}, "198.51.100.9"},
		{"several header lines", "192.0.2.1:1", []string{"6.6.6.6", "198.51.100.9"}, "198.51.100.9"},
		{"all hops trusted", "10.1.1.1:1", []string{"10.3.3.3, 10.2.2.2"}, "10.3.3.3"},
		{"garbage ends the chain", "10.1.1.1:1", []string{"6.6.6.6, garbage, 198.51.100.9"}, "198.51.100.9"},
		{"no header", "10.1.1.1:1", nil, "10.1.1.1"},
		{"IPv4-mapped peer", "[::ffff:10.1.1.1]:1", []string{"198.51.100.9"}, "198.51.100.9"},
		{"IPv6 client", "10.1.1.1:1", []string{"2001:db8::1"}, "2001:db8::1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got string
			h := Entry(slog.New(slog.DiscardHandler), trusted, nil)(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = ClientAddr(r).String() }))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.RemoteAddr = c.peer
			for _, v := range c.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			if got != c.want {
				t.Fatalf("client %q, want %q", got, c.want)
			}
		})
	}
}

func TestParseTrustedProxiesReportsEveryBadEntry(t *testing.T) {
	_, err := ParseTrustedProxies([]string{"10.0.0.0/8", "nope", "300.1.1.1", "::1/200"})
	if err == nil {
		t.Fatal("no error")
	}
	for _, bad := range []string{"nope", "300.1.1.1", "::1/200"} {
		if !strings.Contains(err.Error(), bad) {
			t.Errorf("error %q does not name %q", err, bad)
		}
	}
}
