package oidc_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// TestDemoClickThrough is the newcomer's path: the demo page, a login
// through the demo room, a short wait, the verified claims, sign out.
func TestDemoClickThrough(t *testing.T) {
	for _, prefix := range []string{"", "/idp"} {
		e := newEnv(t, withPrefix(prefix), func(c *envConfig) { c.demo = true })
		if _, err := e.svc.CreateRoom(e.ctx, waitroom.NewRoom("demo", "Demo room")); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		if p := b.get(e.issuer + "/demo"); p.status != 200 || !strings.Contains(p.body, "/demo/login") {
			t.Fatalf("demo home: %d %s", p.status, p.body)
		}
		p := b.get(e.issuer + "/demo/login")
		if p.status != 200 || !strings.Contains(p.body, "You are in line") {
			t.Fatalf("want the room page: %d %s", p.status, p.body)
		}
		if _, err := e.svc.AdvanceServing(e.ctx, "demo", 1); err != nil {
			t.Fatal(err)
		}
		p = b.get(p.url.String())
		if p.status != 200 || !strings.Contains(p.body, "You are through") || !strings.Contains(p.body, "queue_position") ||
			!strings.Contains(p.body, "preferred_username") {
			t.Fatalf("demo result: %d %s", p.status, p.body)
		}
		i := strings.Index(p.body, "/end_session?")
		j := strings.Index(p.body[i:], `"`)
		logout := strings.ReplaceAll(p.body[i:i+j], "&amp;", "&")
		u := e.srv.URL + logout
		if prefix != "" {
			u = e.issuer + strings.TrimPrefix(logout, prefix)
		}
		out := b.get(u)
		if out.status != 200 || !strings.Contains(out.url.Path, "/demo/") {
			t.Fatalf("sign out: %d %s", out.status, out.url)
		}
	}
}

// TestDemoTwoTabsAndRefresh: logins started in two tabs both finish, and
// a refresh of the callback (its code used, its state cookie gone) shows
// the finished login, never "the login state does not match".
func TestDemoTwoTabsAndRefresh(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.demo = true })
	if _, err := e.svc.CreateRoom(e.ctx, waitroom.NewRoom("demo", "Demo room")); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	var callback string
	b.c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/demo/callback" {
			callback = req.URL.String()
		}
		return nil
	}
	one := b.get(e.issuer + "/demo/login")
	two := b.get(e.issuer + "/demo/login")
	if !strings.Contains(one.body, "You are in line") || !strings.Contains(two.body, "You are in line") {
		t.Fatalf("want two room pages: %d, %d", one.status, two.status)
	}
	if _, err := e.svc.AdvanceServing(e.ctx, "demo", 1); err != nil {
		t.Fatal(err)
	}
	for i, tab := range []page{one, two} {
		p := b.get(tab.url.String())
		if p.status != 200 || !strings.Contains(p.body, "You are through") || p.url.Path != "/demo/" {
			t.Fatalf("tab %d: %d at %s: %s", i+1, p.status, p.url, p.body)
		}
	}
	if callback == "" {
		t.Fatal("no callback seen")
	}
	again := b.get(callback)
	if again.status != 200 || !strings.Contains(again.body, "You are through") {
		t.Fatalf("refreshed callback: %d %s", again.status, again.body)
	}
	home := b.get(e.issuer + "/demo/")
	if !strings.Contains(home.body, "You are through") {
		t.Fatalf("home after sign-in: %s", home.body)
	}
	// A browser that never started this login gets a page that says so.
	stranger := e.browser().get(callback)
	if stranger.status != http.StatusBadRequest || !strings.Contains(stranger.body, "not started in this browser") {
		t.Fatalf("stranger's callback: %d %s", stranger.status, stranger.body)
	}
}
