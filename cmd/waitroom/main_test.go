package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom/testenv"
	"github.com/waitroom-idp/waitroom/waitroom/transport/httpapi"
)

// newTestMain returns a Main that reads env instead of the process
// environment and writes into buffers. Unless env says otherwise, the
// default data_dir is a folder no test writes to: tests that start a
// server give -data-dir (localFlags).
func newTestMain(env map[string]string) (*Main, *bytes.Buffer) {
	if _, ok := env["XDG_STATE_HOME"]; !ok {
		env = maps.Clone(env)
		if env == nil {
			env = map[string]string{}
		}
		env["XDG_STATE_HOME"] = filepath.Join(os.TempDir(), "waitroom-test-unused-state")
	}
	out := &bytes.Buffer{}
	m := &Main{Stdout: out, Stderr: io.Discard, Stdin: strings.NewReader(""),
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Environ: func() []string {
			var kv []string
			for k, v := range env {
				kv = append(kv, k+"="+v)
			}
			return kv
		}}
	return m, out
}

// localFlags keep test servers off the default ports and files.
func localFlags(t *testing.T, extra ...string) []string {
	return append([]string{"-http-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0",
		"-data-dir", t.TempDir(), "-log-level", "error", "-signing-algorithm", "ES256"}, extra...)
}

// startServer runs serve and stops it at the end of the test.
func startServer(t *testing.T, env map[string]string, args ...string) (*Main, *bytes.Buffer) {
	t.Helper()
	m, out := newTestMain(env)
	if err := m.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m, out
}

// publicURL is the public listener (no issuer is configured in these
// tests, so the issuer is the listener's address).
func (m *Main) publicURL() string { return m.server.Issuer() }
func (m *Main) adminURL() string  { return m.server.AdminURL() }

func call(t *testing.T, method, url, body, key string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// fetchText GETs url and returns the body.
func fetchText(t *testing.T, url, key string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// grepLines returns the lines of text that contain s.
func grepLines(text, s string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func TestServeEmbeddedWithNoConfiguration(t *testing.T) {
	m, out := startServer(t, nil, localFlags(t)...)
	banner := out.String()
	key := ""
	for _, line := range strings.Split(banner, "\n") {
		if _, k, ok := strings.Cut(line, "Admin key for this run (no WAITROOM_ADMIN_KEY_HASHES set): "); ok {
			key = strings.TrimSpace(k)
		}
	}
	if key == "" || !strings.Contains(banner, m.publicURL()) || !strings.Contains(banner, "embedded") || !strings.Contains(banner, `"demo"`) {
		t.Fatalf("banner:\n%s", banner)
	}
	if code, body := call(t, http.MethodGet, m.publicURL()+"/serving_num?event_id=demo", "", ""); code != 200 || body["serving_counter"] != "0" {
		t.Fatalf("demo room: %d %v", code, body)
	}
	if code, _ := call(t, http.MethodGet, m.adminURL()+"/v1/rooms/demo", "", ""); code != http.StatusUnauthorized {
		t.Fatalf("admin without key: %d", code)
	}
	if code, _ := call(t, http.MethodGet, m.adminURL()+"/v1/rooms/demo", "", key); code != 200 {
		t.Fatalf("admin with the printed key: %d", code)
	}
	if code, _ := call(t, http.MethodGet, m.adminURL()+"/metrics", "", ""); code != 200 {
		t.Fatalf("admin /metrics: %d", code)
	}
	if code, _ := call(t, http.MethodGet, m.publicURL()+"/metrics", "", ""); code != 404 {
		t.Fatalf("public /metrics: %d", code)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestServeRedisPostgres(t *testing.T) {
	dsn := testenv.Postgres(t)
	redisURL, prefix := testenv.Redis(t)
	hash := httpapi.HashAdminKey("k3y")
	config := filepath.Join(t.TempDir(), "waitroom.yaml")
	writeFile(t, config, `
rooms:
  - id: sale
    name: Big sale
    expiry_period: 5m
`)
	env := map[string]string{"WAITROOM_REDIS_URL": redisURL, "WAITROOM_DATABASE_URL": dsn, "WAITROOM_REDIS_KEY_PREFIX": prefix,
		"WAITROOM_ADMIN_KEY_HASHES": hash}
	m, out := startServer(t, env, localFlags(t, "-config", config)...)
	if strings.Contains(out.String(), "Admin key for this run") || strings.Contains(out.String(), "Demo room") {
		t.Fatalf("banner:\n%s", out)
	}
	if code, _ := call(t, http.MethodGet, m.publicURL()+"/readyz", "", ""); code != 200 {
		t.Fatalf("readyz %d", code)
	}
	code, room := call(t, http.MethodGet, m.adminURL()+"/v1/rooms/sale", "", "k3y")
	if code != 200 || room["expiry_period"] != "5m0s" || room["name"] != "Big sale" {
		t.Fatalf("configured room: %d %v", code, room)
	}
	if code, _ := call(t, http.MethodGet, m.adminURL()+"/v1/rooms/demo", "", "k3y"); code != 404 {
		t.Fatalf("demo room created although rooms are configured: %d", code)
	}
	code, ticket := call(t, http.MethodPost, m.publicURL()+"/assign_queue_num", `{"event_id":"sale"}`, "")
	if code != 200 || ticket["queue_number"] != 1.0 {
		t.Fatalf("assign: %d %v", code, ticket)
	}
	// The group commit of that ticket reaches the batch-size histogram.
	if metrics := fetchText(t, m.adminURL()+"/metrics", "k3y"); !strings.Contains(metrics, "waitroom_enqueue_batch_size_count 1\n") {
		t.Fatalf("metrics lack one enqueue batch:\n%s", grepLines(metrics, "waitroom_enqueue_batch_size"))
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	// A second start over the same stores keeps the ticket and the room's
	// stored settings, and creates no demo room.
	m2, _ := startServer(t, env, localFlags(t, "-config", config)...)
	code, got := call(t, http.MethodGet, m2.publicURL()+"/queue_num?event_id=sale&request_id="+ticket["api_request_id"].(string), "", "")
	if code != 200 || got["queue_number"] != 1.0 {
		t.Fatalf("ticket after restart: %d %v", code, got)
	}
}

func TestStartFailsFastWhenStoresAreUnreachable(t *testing.T) {
	m, _ := newTestMain(map[string]string{
		"WAITROOM_REDIS_URL":    "redis://:s3cret-redis@127.0.0.1:1",
		"WAITROOM_DATABASE_URL": "postgres://u:s3cret-pg@127.0.0.1:1/db?sslmode=disable&connect_timeout=2",
	})
	if err := m.ParseFlags(localFlags(t)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := m.Run(context.Background())
	if err == nil {
		m.Close()
		t.Fatal("started without its stores")
	}
	msg := err.Error()
	if !strings.Contains(msg, "PostgreSQL is unreachable") || strings.Contains(msg, "s3cret") {
		t.Fatalf("error %q: want the service named and no password", msg)
	}
	if time.Since(start) > 30*time.Second {
		t.Fatalf("took %v to give up", time.Since(start))
	}
}

// TestGracefulShutdownFinishesInFlightRequests starts a request whose body
// is still arriving when shutdown begins: it must complete with 200.
func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	m, _ := startServer(t, nil, localFlags(t, "-max-body-bytes", "10485760")...)
	// JSON allows whitespace: a few MB of it, more than the socket buffers
	// hold, so that writing it returns only once the handler is reading.
	head := `{"event_id":` + strings.Repeat(" ", 6<<20)
	tail := `"demo"}`
	body, feed := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, m.publicURL()+"/assign_queue_num", body)
	req.ContentLength = int64(len(head) + len(tail))
	result := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Log(err)
			result <- -1
			return
		}
		resp.Body.Close()
		result <- resp.StatusCode
	}()
	_, _ = feed.Write([]byte(head))
	closed := make(chan error, 1)
	go func() { closed <- m.Close() }()
	waitUntilRefused(t, m.publicURL())
	_, _ = feed.Write([]byte(tail))
	feed.Close()
	if code := <-result; code != http.StatusOK {
		t.Fatalf("in-flight request answered %d", code)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
}

// waitUntilRefused waits (bounded) for the listener to stop accepting: the
// sign that shutdown has begun.
func waitUntilRefused(t *testing.T, url string) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
	for range 200 {
		resp, err := client.Get(url + "/healthz")
		if err != nil {
			return
		}
		resp.Body.Close()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("listener still accepting after shutdown began")
}

func TestMigrateCommand(t *testing.T) {
	dsn := testenv.Postgres(t)
	for range 2 { // idempotent
		m, out := newTestMain(map[string]string{"WAITROOM_DATABASE_URL": dsn})
		if err := m.ParseFlags([]string{"migrate", "-redis-url", "127.0.0.1:6379"}); err != nil {
			t.Fatal(err)
		}
		if err := m.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "up to date") {
			t.Fatalf("output %q", out)
		}
	}
	m, _ := newTestMain(nil)
	if err := m.ParseFlags([]string{"migrate"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "WAITROOM_DATABASE_URL") {
		t.Fatalf("migrate without a database: %v", err)
	}
}

func TestVersionAndHashKey(t *testing.T) {
	m, out := newTestMain(nil)
	if err := m.ParseFlags([]string{"version"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil || !strings.HasPrefix(out.String(), "waitroom ") {
		t.Fatalf("version: %v %q", err, out)
	}

	m, out = newTestMain(nil)
	m.Stdin = strings.NewReader("my-admin-key\n")
	if err := m.ParseFlags([]string{"hash-key", "-"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := "WAITROOM_ADMIN_KEY_HASHES=" + httpapi.HashAdminKey("my-admin-key") + "\n"; out.String() != want {
		t.Fatalf("hash-key - printed %q, want %q", out, want)
	}

	m, out = newTestMain(nil)
	if err := m.ParseFlags([]string{"hash-key"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil || !strings.Contains(out.String(), "WAITROOM_ADMIN_KEY_HASHES=") {
		t.Fatalf("hash-key: %v %q", err, out)
	}

	m, _ = newTestMain(nil)
	if err := m.ParseFlags([]string{"frobnicate"}); err == nil {
		t.Fatal("unknown command accepted")
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestShutdownUnderLoadLosesNoAcknowledgedTicket enqueues from many clients
// while the server shuts down; every ticket a client was told about must be
// there after a restart on the same stores (group commits are flushed).
func TestShutdownUnderLoadLosesNoAcknowledgedTicket(t *testing.T) {
	dsn := testenv.Postgres(t)
	redisURL, prefix := testenv.Redis(t)
	env := map[string]string{"WAITROOM_REDIS_URL": redisURL, "WAITROOM_DATABASE_URL": dsn, "WAITROOM_REDIS_KEY_PREFIX": prefix,
		"WAITROOM_ASSIGN_RATE_LIMIT": "0", "WAITROOM_DEMO": "true"}
	m, _ := startServer(t, env, localFlags(t)...)
	url := m.publicURL() + "/assign_queue_num"

	var mu sync.Mutex
	var acknowledged []string
	var wg sync.WaitGroup
	started := make(chan struct{}, 64)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for {
				resp, err := client.Post(url, "application/json", strings.NewReader(`{"event_id":"demo"}`))
				if err != nil {
					return
				}
				var body struct {
					ID string `json:"api_request_id"`
				}
				_ = json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return
				}
				mu.Lock()
				acknowledged = append(acknowledged, body.ID)
				mu.Unlock()
				select {
				case started <- struct{}{}:
				default:
				}
			}
		}()
	}
	for range 64 {
		select {
		case <-started:
		case <-time.After(30 * time.Second):
			t.Fatal("the enqueue load did not start (is the room there?)")
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	m2, _ := startServer(t, env, localFlags(t)...)
	for _, id := range acknowledged {
		if code, _ := call(t, http.MethodGet, m2.publicURL()+"/queue_num?event_id=demo&request_id="+id, "", ""); code != 200 {
			t.Fatalf("acknowledged ticket %s lost (%d of %d acknowledged)", id, code, len(acknowledged))
		}
	}
	t.Logf("%d acknowledged tickets all survived the shutdown", len(acknowledged))
}

func TestProfilesOnlyWhenAskedAndOnlyWithTheAdminKey(t *testing.T) {
	key := "profiles-test-admin-key-0123456789"
	env := map[string]string{"WAITROOM_ADMIN_KEY_HASHES": httpapi.HashAdminKey(key)}
	off, _ := startServer(t, env, localFlags(t)...)
	if code, _ := call(t, http.MethodGet, off.adminURL()+"/debug/pprof/", "", key); code != http.StatusNotFound {
		t.Fatalf("profiles without pprof: %d, want 404", code)
	}
	on, _ := startServer(t, env, localFlags(t, "-pprof")...)
	if code, _ := call(t, http.MethodGet, on.adminURL()+"/debug/pprof/heap?debug=1", "", ""); code != http.StatusUnauthorized {
		t.Fatalf("profiles without the key: %d, want 401", code)
	}
	if body := fetchText(t, on.adminURL()+"/debug/pprof/heap?debug=1", key); !strings.Contains(body, "heap profile") {
		t.Fatalf("heap profile with the key: %.200q", body)
	}
	if code, _ := call(t, http.MethodGet, on.publicURL()+"/debug/pprof/", "", key); code == http.StatusOK {
		t.Fatal("profiles are served on the public listener")
	}
}

// TestMetricsToken: /metrics on the public listener needs a token (a start
// without one is refused); with a token, the admin listener's /metrics
// takes the token or an admin key; the token never reaches the log.
func TestMetricsToken(t *testing.T) {
	m, _ := newTestMain(nil)
	err := m.ParseFlags(localFlags(t, "-metrics-listener", "public"))
	if err == nil || !strings.Contains(err.Error(), "metrics_token: required with metrics_listener: public") {
		t.Fatalf("public metrics without a token: %v", err)
	}
	token := "scrape-token-0123456789abcdef"
	key := "metrics-test-admin-key-0123456789"
	env := map[string]string{"WAITROOM_METRICS_TOKEN": token, "WAITROOM_ADMIN_KEY_HASHES": httpapi.HashAdminKey(key)}
	public, _ := newTestMain(env)
	logs := &lockedBuffer{}
	public.Stderr = logs
	if err := public.ParseFlags(localFlags(t, "-metrics-listener", "public", "-log-level", "debug")); err != nil {
		t.Fatal(err)
	}
	if err := public.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = public.Close() })
	defer func() {
		if strings.Contains(logs.String(), token) {
			t.Errorf("the metrics token is in the log:\n%s", logs)
		}
	}()
	if code, _ := call(t, http.MethodGet, public.publicURL()+"/metrics", "", ""); code != http.StatusUnauthorized {
		t.Fatalf("public /metrics without the token: %d", code)
	}
	if code, _ := call(t, http.MethodGet, public.publicURL()+"/metrics", "", key); code != http.StatusUnauthorized {
		t.Fatalf("public /metrics with an admin key: %d", code)
	}
	if body := fetchText(t, public.publicURL()+"/metrics", token); !strings.Contains(body, "waitroom_http_requests_total") {
		t.Fatalf("public /metrics with the token: %.200q", body)
	}
	admin, _ := startServer(t, env, localFlags(t)...)
	for k, want := range map[string]int{"": 401, token: 200, key: 200} {
		if code, _ := call(t, http.MethodGet, admin.adminURL()+"/metrics", "", k); code != want {
			t.Errorf("admin /metrics with %q: %d, want %d", k, code, want)
		}
	}
}
