package demo

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestOnBaseHost(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	for _, c := range []struct {
		base, host, path, want string
	}{
		{"http://localhost:8080/demo", "127.0.0.1:8080", "/login?a=1", "http://localhost:8080/demo/login?a=1"},
		{"http://localhost:8080/demo", "[::1]:8080", "/", "http://localhost:8080/demo/"},
		{"http://127.0.0.1:9000/demo", "localhost:9000", "/callback", "http://127.0.0.1:9000/demo/callback"},
		{"http://localhost:8080/demo", "LOCALHOST:8080", "/login", ""},
		{"http://localhost:8080/demo", "queue.example.com", "/login", ""}, // a proxy rewriting Host: no loop
		{"https://queue.example.com/demo", "127.0.0.1:8080", "/login", ""},
	} {
		d := &RP{cfg: Config{BaseURL: c.base}}
		r := httptest.NewRequest(http.MethodGet, c.path, nil)
		r.Host = c.host
		w := httptest.NewRecorder()
		d.onBaseHost(ok).ServeHTTP(w, r)
		if c.want == "" {
			if w.Code != http.StatusTeapot {
				t.Errorf("%s on %s: redirected to %q", c.base, c.host, w.Header().Get("Location"))
			}
			continue
		}
		if w.Code != http.StatusFound || w.Header().Get("Location") != c.want {
			t.Errorf("%s on %s%s: %d %q, want a redirect to %q", c.base, c.host, c.path, w.Code, w.Header().Get("Location"), c.want)
		}
	}
}
