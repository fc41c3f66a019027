package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom/server"
)

func TestDefaultsNeedNoConfiguration(t *testing.T) {
	m, _ := newTestMain(nil)
	if err := m.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	c := m.Config
	if m.Command != "serve" || c.HTTPAddr != ":8080" || c.AdminAddr != "127.0.0.1:8081" || !c.Embedded() || c.Demo != nil {
		t.Fatalf("defaults %+v", c)
	}
	if got := c.PublicURL(); got != "http://localhost:8080" {
		t.Fatalf("derived issuer %q", got)
	}
}

func TestPrecedenceFileEnvFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	writeFile(t, file, `
http_addr: ":9000"
admin_addr: "127.0.0.1:9001"
log_level: debug
cors_origins: ["https://a.example"]
assign_rate_window: 30s
`)
	env := map[string]string{"WAITROOM_ADMIN_ADDR": "127.0.0.1:9101", "WAITROOM_LOG_LEVEL": "warn",
		"WAITROOM_CORS_ORIGINS": "https://b.example, https://c.example", "WAITROOM_DEMO": "false"}
	m, _ := newTestMain(env)
	if err := m.ParseFlags([]string{"serve", "-config", file, "-log-level", "error", "-issuer", "https://q.example.com"}); err != nil {
		t.Fatal(err)
	}
	c := m.Config
	checks := map[string][2]string{
		"http_addr from the file":     {c.HTTPAddr, ":9000"},
		"admin_addr from the env":     {c.AdminAddr, "127.0.0.1:9101"},
		"log_level from the flag":     {c.LogLevel, "error"},
		"cors_origins from the env":   {strings.Join(c.CORSOrigins, " "), "https://b.example https://c.example"},
		"assign_rate_window (file)":   {c.AssignRateWindow.String(), (30 * time.Second).String()},
		"issuer from the flag":        {c.PublicURL(), "https://q.example.com"},
		"serving_cache keeps default": {c.ServingCache.String(), "2s"},
	}
	for what, v := range checks {
		if v[0] != v[1] {
			t.Errorf("%s: %q, want %q", what, v[0], v[1])
		}
	}
	if on, _ := c.DemoOn(); on || c.Demo == nil {
		t.Error("WAITROOM_DEMO=false ignored")
	}
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	writeFile(t, file, `
rooms:
  - {id: "bad id!", token_validity: 0s}
  - {id: ok}
  - {id: ok}
  - {id: x, colour: blue}
`)
	env := map[string]string{
		"WAITROOM_HTTP_ADDR":         "nonsense",
		"WAITROOM_REDIS_URL":         "redis://127.0.0.1:6379",
		"WAITROOM_ADMIN_KEY_HASHES":  "abc",
		"WAITROOM_ASSIGN_RATE_LIMIT": "many",
		"WAITROOM_SERVING_CACHE":     "1m",
	}
	m, _ := newTestMain(env)
	err := m.ParseFlags([]string{"-config", file, "-issuer", "ftp://x/", "-log-format", "xml", "-trusted-proxies", "10.0.0.0/8,zzz", "-cors-origins", "https://a.example/path"})
	var ce *server.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v", err)
	}
	for _, want := range []string{"http_addr", "issuer", "redis_url and database_url", "admin_key_hashes", "WAITROOM_ASSIGN_RATE_LIMIT",
		"serving_cache", "log_format", "trusted_proxies", "zzz", "cors_origins", "rooms[0].id", "rooms[0].token_validity",
		`rooms[2].id: "ok" is defined twice`, "rooms[3].colour: unknown field"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestConfigFileRejectsUnknownKeys(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	writeFile(t, file, "http_adr: ':9000'\n")
	m, _ := newTestMain(nil)
	if err := m.ParseFlags([]string{"-config", file}); err == nil || !strings.Contains(err.Error(), "http_adr") {
		t.Fatalf("misspelt key: %v", err)
	}
	empty := filepath.Join(t.TempDir(), "empty.yaml")
	writeFile(t, empty, "")
	if err := m.ParseFlags([]string{"-config", empty}); err != nil {
		t.Fatalf("empty file: %v", err)
	}
	if err := m.ParseFlags([]string{"-config", filepath.Join(t.TempDir(), "missing.yaml")}); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestSecretsStayOutOfMessages(t *testing.T) {
	m, _ := newTestMain(map[string]string{"WAITROOM_REDIS_URL": "redis://:hunter2@host:notaport", "WAITROOM_DATABASE_URL": "postgres://u:pw@h/db"})
	err := m.ParseFlags(nil)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error %v", err)
	}
}

// TestSettingsFromFiles: WAITROOM_<NAME>_FILE reads a value from a file (a
// Docker secret, a systemd credential), its final newline dropped; naming
// both the variable and the file is a problem, as is a missing file.
func TestSettingsFromFiles(t *testing.T) {
	dir := t.TempDir()
	key := strings.Repeat("5a", 32)
	writeFile(t, filepath.Join(dir, "secret_key"), key+"\n")
	writeFile(t, filepath.Join(dir, "hashes"), strings.Repeat("0", 64)+","+strings.Repeat("1", 64)+"\r\n")
	m, _ := newTestMain(map[string]string{
		"WAITROOM_SECRET_KEY_FILE":       filepath.Join(dir, "secret_key"),
		"WAITROOM_ADMIN_KEY_HASHES_FILE": filepath.Join(dir, "hashes"),
	})
	if err := m.ParseFlags(localFlags(t)); err != nil {
		t.Fatal(err)
	}
	if m.Config.SecretKey != key || len(m.Config.AdminKeyHashes) != 2 || len(m.Warnings) != 0 {
		t.Fatalf("secret %q, hashes %q, warnings %v", m.Config.SecretKey, m.Config.AdminKeyHashes, m.Warnings)
	}
	m, _ = newTestMain(map[string]string{
		"WAITROOM_SECRET_KEY": key, "WAITROOM_SECRET_KEY_FILE": filepath.Join(dir, "secret_key"),
		"WAITROOM_METRICS_TOKEN_FILE": filepath.Join(dir, "missing"),
	})
	err := m.ParseFlags(localFlags(t))
	if err == nil || !strings.Contains(err.Error(), "WAITROOM_SECRET_KEY and WAITROOM_SECRET_KEY_FILE: set one or the other") ||
		!strings.Contains(err.Error(), "WAITROOM_METRICS_TOKEN_FILE: open") || strings.Contains(err.Error(), key) {
		t.Fatalf("error %v", err)
	}
}
