package gate

import (
	"net/http/httptest"
	"testing"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// FuzzReturnURL: whatever a link puts in ?return=, an accepted URL is an
// http(s) URL on one of the room's hosts, without user info: the room page
// never sends a visitor, or an admission, anywhere else.
func FuzzReturnURL(f *testing.F) {
	rules := &waitroom.Gate{Hosts: []string{"shop.example.com", "*.cdn.example.com"}, ReturnHosts: []string{"www.example.com"}}
	for _, s := range []string{"https://shop.example.com/a?b=c", "https://evil.test/", "//evil.test", "https://shop.example.com@evil.test/",
		"https://evil.test\\@shop.example.com/", "http://a.cdn.example.com:8080/x", "javascript:alert(1)", "https://SHOP.example.com./"} {
		f.Add(s)
	}
	allowed := append(append([]string{}, rules.Hosts...), rules.ReturnHosts...)
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := returnURL(rules, raw)
		if err != nil {
			return
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || !waitroom.MatchHost(allowed, u.Host) || u.Fragment != "" {
			t.Fatalf("accepted %q as %s", raw, u)
		}
	})
}

// FuzzOriginalRequest: the headers a proxy (or anyone) sends never panic
// the reader, and what it accepts is a path on a host.
func FuzzOriginalRequest(f *testing.F) {
	f.Add("https", "shop.example.com", "/a?b=c", "GET")
	f.Add("ftp", "", "//evil", "POST")
	f.Add("http", "x", "/%zz", "GET")
	f.Fuzz(func(t *testing.T, proto, host, uri, method string) {
		r := httptest.NewRequest("GET", "http://queue.test/gate/r/check", nil)
		for k, v := range map[string]string{"X-Forwarded-Proto": proto, "X-Forwarded-Host": host, "X-Forwarded-Uri": uri, "X-Forwarded-Method": method} {
			r.Header[k] = []string{v}
		}
		o, ok := originalRequest(r)
		if ok && (o.host == "" || o.path == "" || o.uri[0] != '/' || (o.scheme != "http" && o.scheme != "https")) {
			t.Fatalf("accepted %+v", o)
		}
	})
}
