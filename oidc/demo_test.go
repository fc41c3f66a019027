package oidc_test

import (
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
