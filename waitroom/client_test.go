package waitroom_test

import (
	"strings"
	"testing"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// TestClientRedirectURIs: https anywhere, plain http only to this machine
// (RFC 8252's loopback redirection); a client served by the provider
// itself may follow the issuer's scheme under the issuer's origin.
func TestClientRedirectURIs(t *testing.T) {
	base := waitroom.Client{ID: "c", Secret: "0123456789abcdef", Room: "r"}.WithDefaults()
	for uri, ok := range map[string]bool{
		"https://rp.example.com/cb":          true,
		"http://localhost:3000/cb":           true,
		"http://LOCALHOST/cb":                true,
		"http://127.0.0.1/cb":                true,
		"http://127.8.9.10:9/cb":             true,
		"http://[::1]:8080/cb":               true,
		"http://rp.example.com/cb":           false,
		"http://192.168.1.10/cb":             false,
		"http://localhost.example.com/cb":    false,
		"http://127.0.0.1.nip.io/cb":         false,
		"ftp://rp.example.com/cb":            false,
		"https://rp.example.com/cb#fragment": false,
	} {
		c := base
		c.RedirectURIs = []string{uri}
		if got := len(c.Problems()) == 0; got != ok {
			t.Errorf("%s: accepted %v, want %v (%v)", uri, got, ok, c.Problems())
		}
	}
	demo := base
	demo.RedirectURIs = []string{"http://queue.lan:8080/demo/callback"}
	if p := demo.ProblemsServedAt("http://queue.lan:8080"); len(p) != 0 {
		t.Errorf("a redirect URI under the issuer's own origin: %v", p)
	}
	if p := demo.ProblemsServedAt("http://other.lan:8080"); len(p) != 1 || !strings.Contains(p[0], "must use https") {
		t.Errorf("a redirect URI under another origin: %v", p)
	}
}
