package waitroom

import (
	"strings"
	"testing"
	"time"
)

func TestGateValidateNamesEveryField(t *testing.T) {
	r := NewRoom("r1", "Room")
	r.Gate = &Gate{
		Hosts:       []string{"shop.example.com", "bad host", "*.example.com", "x.test:99999999"},
		ReturnHosts: []string{"ok.test", "/nope"},
		Protect:     []string{"no-slash"},
		Pass:        []string{"/[a"},
		Busy:        []string{"/api/**"},
		RetryAfter:  Duration(2 * time.Hour),
	}
	err := r.Validate()
	if ErrorCode(err) != CodeInvalid {
		t.Fatalf("Validate = %v, want invalid_argument", err)
	}
	for _, w := range []string{`gate.hosts[1]: "bad host"`, "gate.hosts[3]", `gate.return_hosts[1]`, "gate.protect[0]", "gate.pass[0]", "gate.retry_after"} {
		if !strings.Contains(ErrorMessage(err), w) {
			t.Errorf("error %q does not mention %q", ErrorMessage(err), w)
		}
	}
	if strings.Contains(ErrorMessage(err), "gate.hosts[2]") || strings.Contains(ErrorMessage(err), "gate.busy") {
		t.Errorf("valid entries refused: %q", ErrorMessage(err))
	}
	r.Gate = &Gate{}
	if err := r.Validate(); !strings.Contains(ErrorMessage(err), "gate.hosts: name at least one") {
		t.Errorf("a gate without hosts: %v", err)
	}
}

func TestMatchHost(t *testing.T) {
	patterns := []string{"shop.example.com", "*.cdn.test", "local.test:8443"}
	cases := map[string]bool{
		"shop.example.com":      true,
		"SHOP.example.com:443":  true,
		"evil.example.com":      false,
		"shop.example.com.evil": false,
		"a.cdn.test":            true,
		"a.b.cdn.test":          true,
		"cdn.test":              false,
		"xcdn.test":             false,
		"local.test:8443":       true,
		"local.test:80":         false,
		"local.test":            false,
		"":                      false,
	}
	for host, want := range cases {
		if got := MatchHost(patterns, host); got != want {
			t.Errorf("MatchHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestMatchPath(t *testing.T) {
	cases := []struct {
		pattern, path string
		want          bool
	}{
		{"/static/", "/static/app.css", true},
		{"/static/", "/staticx", false},
		{"/healthz", "/healthz", true},
		{"/*.css", "/app.css", true},
		{"/*.css", "/a/app.css", false},
		{"/api/**", "/api", true},
		{"/api/**", "/api/v1/orders", true},
		{"/api/**", "/apix/v1", false},
		{"/shop/*/buy", "/shop/42/buy", true},
		{"/shop/*/buy", "/shop/42/43/buy", false},
		{"/hooks/*/**", "/hooks/stripe/event/1", true},
	}
	for _, c := range cases {
		if got := MatchPath([]string{c.pattern}, c.path); got != c.want {
			t.Errorf("MatchPath(%q, %q) = %v, want %v", c.pattern, c.path, got, c.want)
		}
	}
}
