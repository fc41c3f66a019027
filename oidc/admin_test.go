package oidc_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func adminCall(t *testing.T, h http.Handler, method, path, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	out := map[string]any{}
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

// TestAdminClients creates a client through the admin API and logs in
// with it, rotates its secret, and checks config clients are read-only.
func TestAdminClients(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, withBackend(be))
			h := e.clients.Handler()
			status, body := adminCall(t, h, http.MethodPost, "/v1/clients",
				`{"id":"api1","room":"r1","redirect_uris":["`+rpRedirect+`"],"grant_types":["authorization_code"]}`)
			secret, _ := body["secret"].(string)
			if status != 201 || len(secret) < 32 || body["source"] != "api" {
				t.Fatalf("create: %d %v", status, body)
			}
			if status, _ := adminCall(t, h, http.MethodPost, "/v1/clients", `{"id":"api1","room":"r1","redirect_uris":["`+rpRedirect+`"]}`); status != 409 {
				t.Fatalf("duplicate: %d", status)
			}
			status, body = adminCall(t, h, http.MethodPost, "/v1/clients", `{"id":"bad id","room":"","redirect_uris":["ftp://x"],"subject":"x"}`)
			if msg, _ := body["message"].(string); status != 400 || !strings.Contains(msg, "room") || !strings.Contains(msg, "subject") {
				t.Fatalf("invalid: %d %v", status, body)
			}
			status, body = adminCall(t, h, http.MethodGet, "/v1/clients/api1", "")
			if status != 200 || body["secret"] != nil {
				t.Fatalf("get: %d %v", status, body)
			}
			// log in with it (secret from the create answer)
			code := e.code(e.browser(), authParams("api1", rpRedirect))
			a := e.call(http.MethodPost, "/oauth/token", urlValues("authorization_code", code), basic("api1", secret))
			if a.status != 200 {
				t.Fatalf("login with an API client: %d %v", a.status, a.body)
			}
			status, body = adminCall(t, h, http.MethodPatch, "/v1/clients/api1", `{"max_hold":"150s","initiate_login_uri":"`+rpInitiate+`"}`)
			if status != 200 || body["max_hold"] != "2m30s" || body["room"] != "r1" {
				t.Fatalf("patch: %d %v", status, body)
			}
			status, body = adminCall(t, h, http.MethodPost, "/v1/clients/api1/secret", "")
			newSecret, _ := body["secret"].(string)
			if status != 200 || newSecret == "" || newSecret == secret {
				t.Fatalf("rotate: %d %v", status, body)
			}
			status, body = adminCall(t, h, http.MethodGet, "/v1/clients", "")
			if list, _ := body["clients"].([]any); status != 200 || len(list) != 3 {
				t.Fatalf("list: %d %v", status, body)
			}
			if status, _ := adminCall(t, h, http.MethodDelete, "/v1/clients/rp1", ""); status != 409 {
				t.Fatalf("delete a config client: %d", status)
			}
			if status, _ := adminCall(t, h, http.MethodDelete, "/v1/clients/api1", ""); status != 204 {
				t.Fatalf("delete: %d", status)
			}
			if status, _ := adminCall(t, h, http.MethodGet, "/v1/clients/api1", ""); status != 404 {
				t.Fatalf("get deleted: %d", status)
			}
		})
	}
}

// TestAdminClientsRefuseMistakes: the admin API refuses what the
// configuration file refuses: a room that does not exist (400, not a 201
// whose logins would fail when a visitor arrives), plain http redirect URIs
// to other machines, short secrets; a patch may not move a client to a
// missing room either.
func TestAdminClientsRefuseMistakes(t *testing.T) {
	e := newEnv(t)
	h := e.clients.Handler()
	for body, want := range map[string]string{
		`{"id":"c1","room":"nowhere","redirect_uris":["https://rp.test/cb"]}`:                 `there is no room "nowhere"`,
		`{"id":"c1","room":"r1","redirect_uris":["http://rp.test/cb"]}`:                       `"http://rp.test/cb" must use https`,
		`{"id":"c1","room":"r1","redirect_uris":["https://rp.test/cb"],"secret":"too-short"}`: "secret: at least 16 characters",
	} {
		status, answer := adminCall(t, h, http.MethodPost, "/v1/clients", body)
		if msg, _ := answer["message"].(string); status != http.StatusBadRequest || !strings.Contains(msg, want) {
			t.Errorf("%s: %d %v, want 400 naming %q", body, status, answer, want)
		}
	}
	if status, answer := adminCall(t, h, http.MethodPost, "/v1/clients", `{"id":"c1","room":"r1","redirect_uris":["http://127.0.0.1:8000/cb"]}`); status != http.StatusCreated {
		t.Fatalf("loopback http redirect URI: %d %v", status, answer)
	}
	status, answer := adminCall(t, h, http.MethodPatch, "/v1/clients/c1", `{"room":"nowhere"}`)
	if msg, _ := answer["message"].(string); status != http.StatusBadRequest || !strings.Contains(msg, `"nowhere"`) {
		t.Fatalf("patch to a missing room: %d %v", status, answer)
	}
	if status, answer := adminCall(t, h, http.MethodPatch, "/v1/clients/c1", `{"name":"renamed"}`); status != http.StatusOK || answer["room"] != "r1" {
		t.Fatalf("patch leaving the room: %d %v", status, answer)
	}
}
