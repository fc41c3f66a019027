package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenIDProviderIsMounted: the default start serves discovery at the
// issuer, the demo relying party, and the client API behind the admin key;
// clients from the config file are listed and read-only.
func TestOpenIDProviderIsMounted(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "waitroom.yaml")
	writeFile(t, cfg, `
clients:
  - id: shop
    secret: "a-long-random-secret-0123"
    room: demo
    redirect_uris: ["https://shop.example.com/cb?x=1"]
    max_hold: 150s
`)
	m, out := startServer(t, nil, localFlags(t, "-config", cfg)...)
	if !strings.Contains(out.String(), "/demo/") {
		t.Fatalf("banner without the demo link:\n%s", out)
	}
	code, d := call(t, http.MethodGet, m.publicURL()+"/.well-known/openid-configuration", "", "")
	if code != 200 || d["issuer"] != m.publicURL() || d["token_endpoint"] != m.publicURL()+"/oauth/token" {
		t.Fatalf("discovery: %d %v", code, d)
	}
	resp, err := http.Get(m.publicURL() + "/demo/")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("demo page: %v %v", resp, err)
	}
	resp.Body.Close()
	if code, _ := call(t, http.MethodGet, m.adminURL()+"/v1/clients", "", ""); code != http.StatusUnauthorized {
		t.Fatalf("client API without key: %d", code)
	}
	key := ""
	for _, line := range strings.Split(out.String(), "\n") {
		if _, k, ok := strings.Cut(line, "Admin key for this run (no WAITROOM_ADMIN_KEY_HASHES set): "); ok {
			key = strings.TrimSpace(k)
		}
	}
	code, list := call(t, http.MethodGet, m.adminURL()+"/v1/clients", "", key)
	clients, _ := list["clients"].([]any)
	if code != 200 || len(clients) != 2 {
		t.Fatalf("clients: %d %v", code, list)
	}
	if code, _ := call(t, http.MethodDelete, m.adminURL()+"/v1/clients/shop", "", key); code != http.StatusConflict {
		t.Fatalf("deleting a config client: %d", code)
	}
}

func TestInvalidClientStopsTheStart(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "waitroom.yaml")
	writeFile(t, cfg, `
clients:
  - id: shop
    secret: short
    room: demo
    redirect_uris: ["not a url"]
`)
	m, _ := newTestMain(nil)
	err := m.ParseFlags(localFlags(t, "-config", cfg))
	if err == nil {
		t.Fatal("an invalid client passed the configuration check")
	}
	if code := m.ExitCode(err); code != 2 {
		t.Fatalf("exit status %d, want 2", code)
	}
	if msg := err.Error(); !strings.Contains(msg, "clients[0].secret") || !strings.Contains(msg, "clients[0].redirect_uris") {
		t.Fatalf("error does not name every problem: %v", err)
	}
}
