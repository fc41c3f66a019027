package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

// TestDemoLoginFromDefaults walks the demo's queued login as a newcomer
// would with no configuration: a wildcard bind gives the issuer
// http://localhost:<port>, the banner prints that demo URL, and a browser
// that opens the demo on 127.0.0.1 instead is sent to localhost first, so
// the login's cookies survive the round trip to the provider.
func TestDemoLoginFromDefaults(t *testing.T) {
	m, out := startServer(t, nil, localFlags(t, "-http-addr", ":0")...)
	u, _ := url.Parse(m.publicURL())
	port := u.Port()
	base := "http://localhost:" + port
	if !strings.Contains(out.String(), "Demo login:  "+base+"/demo/") {
		t.Fatalf("banner lacks the localhost demo URL:\n%s", out)
	}
	key := ""
	for _, line := range strings.Split(out.String(), "\n") {
		if _, k, ok := strings.Cut(line, "Admin key for this run (no WAITROOM_ADMIN_KEY_HASHES set): "); ok {
			key = strings.TrimSpace(k)
		}
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	get := func(url string) (*http.Response, string) {
		t.Helper()
		resp, err := browser.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, page := get("http://127.0.0.1:" + port + "/demo/login")
	room := resp.Request.URL
	if resp.StatusCode != 200 || room.Host != "localhost:"+port || !strings.Contains(page, "You are in line") {
		t.Fatalf("after sign-in: %d at %s:\n%s", resp.StatusCode, room, page)
	}
	if code, _ := call(t, http.MethodPost, m.adminURL()+"/increment_serving_counter", `{"event_id":"demo","increment_by":1}`, key); code != 200 {
		t.Fatalf("increment_serving_counter: %d", code)
	}
	resp, page = get(room.String())
	if resp.StatusCode != 200 || !strings.Contains(page, "You are through") || !strings.Contains(page, base) {
		t.Fatalf("after the wait: %d at %s:\n%s", resp.StatusCode, resp.Request.URL, page)
	}
}
