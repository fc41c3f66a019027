package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/waitroom-idp/waitroom/waitroom/server"
	"github.com/waitroom-idp/waitroom/waitroom/transport/httpapi"
)

const botGateAdminKey = "gate-test-admin-key-0123456789"

// TestCaptchaFromConfiguration: a room asking for Turnstile is checked
// against the verify URL of the configuration, with its secret.
func TestCaptchaFromConfiguration(t *testing.T) {
	var verified atomic.Int64
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		ok := r.PostForm.Get("secret") == "turnstile-secret" && r.PostForm.Get("response") == "passed"
		if ok {
			verified.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		if ok {
			_, _ = w.Write([]byte(`{"success":true}`))
		} else {
			_, _ = w.Write([]byte(`{"success":false}`))
		}
	}))
	t.Cleanup(provider.Close)

	cfg := server.DefaultConfig()
	noDemo := false
	cfg.HTTPAddr, cfg.AdminAddr, cfg.LogLevel, cfg.Demo, cfg.SigningAlgorithm = "127.0.0.1:0", "127.0.0.1:0", "error", &noDemo, "ES256"
	cfg.AdminKeyHashes = []string{httpapi.HashAdminKey(botGateAdminKey)}
	cfg.Turnstile = server.CaptchaConfig{SiteKey: "site", Secret: "turnstile-secret", VerifyURL: provider.URL}
	cfg.Rooms = []map[string]any{{"id": "human", "bot_gate": map[string]any{"captcha": "turnstile"}}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := server.Open(context.Background(), cfg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	public, _ := srv.Handlers()
	assign := func(body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		public.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/assign_queue_num", strings.NewReader(body)))
		return rec
	}
	if rec := assign(`{"event_id":"human"}`); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), `"site_key":"site"`) {
		t.Fatalf("no token: %d %s", rec.Code, rec.Body)
	}
	if rec := assign(`{"event_id":"human","captcha":"failed"}`); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "challenge_invalid") {
		t.Fatalf("a token the provider refuses: %d %s", rec.Code, rec.Body)
	}
	if rec := assign(`{"event_id":"human","captcha":"passed"}`); rec.Code != http.StatusOK || verified.Load() != 1 {
		t.Fatalf("a passed token: %d %s", rec.Code, rec.Body)
	}
}

func TestCaptchaSettingsValidated(t *testing.T) {
	cfg := server.DefaultConfig()
	cfg.HCaptcha = server.CaptchaConfig{SiteKey: "only-the-site-key", VerifyURL: "ftp://example.com"}
	cfg.CaptchaTimeout = 0
	err := cfg.Validate()
	for _, want := range []string{"hcaptcha_site_key, hcaptcha_secret: set both or neither", "hcaptcha_verify_url", "captcha_timeout"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want a problem with %q", err, want)
		}
	}
}
