package httpapi_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom/transport/httpapi"
	"github.com/waitroom-idp/waitroom/waitroom/transport/middleware"
)

func TestHealthAndReadiness(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		for _, h := range []http.Handler{e.public, e.admin} {
			e.do(h, http.MethodGet, "/healthz", "").expect(http.StatusOK, "")
			e.do(h, http.MethodGet, "/readyz", "").expect(http.StatusOK, "")
			e.do(h, http.MethodPost, "/readyz", "").expect(http.StatusMethodNotAllowed, "")
			e.store.down.Store(true)
			e.do(h, http.MethodGet, "/healthz", "").expect(http.StatusOK, "")
			expectUnavailable(t, e.do(h, http.MethodGet, "/readyz", ""))
			e.store.down.Store(false)
		}
	})
}

func TestMetrics(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.room("demo")
		e.enqueue("demo")
		e.serve("demo", 1)
		e.get("/serving_num?event_id=demo").expect(http.StatusOK, "")
		e.get("/serving_num?event_id=nope").expect(http.StatusBadRequest, "")
		e.store.down.Store(true)
		e.clock.Advance(time.Millisecond)
		e.get("/serving_num?event_id=demo").expect(http.StatusServiceUnavailable, "")
		e.store.down.Store(false)

		e.get("/metrics").expect(http.StatusNotFound, "not_found")
		a := e.do(e.admin, http.MethodGet, "/metrics", "")
		if a.Code != http.StatusOK {
			t.Fatalf("metrics status %d", a.Code)
		}
		body := a.Body.String()
		for _, want := range []string{
			`waitroom_http_requests_total{listener="public",method="GET",route="/serving_num",status="200"} 1`,
			`waitroom_http_requests_total{listener="public",method="GET",route="/serving_num",status="400"} 1`,
			`waitroom_http_requests_total{listener="public",method="GET",route="unmatched",status="404"} 1`,
			`waitroom_http_request_duration_seconds_bucket{listener="public",method="GET",route="/serving_num",status="200",le="+Inf"} 1`,
			`waitroom_store_errors_total{code="unavailable"} 1`,
			`waitroom_room_queue{room="demo"} 1`,
			`waitroom_room_serving{room="demo"} 1`,
			`waitroom_room_waiting{room="demo"} 1`,
			`waitroom_room_active_tokens{room="demo"} 0`,
			`waitroom_enqueue_batch_size_count`,
			`go_goroutines`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %q", want)
			}
		}
		if strings.Contains(body, "request_id") {
			t.Error("metrics carry per-request labels")
		}
	})
}

const testMetricsToken = "metrics-token-0123456789"

// TestMetricsCanMoveToThePublicListener: there, only with the metrics
// token (an admin key is no credential on the public listener).
func TestMetricsCanMoveToThePublicListener(t *testing.T) {
	e := newEnv(t, backends[0], func(o *httpapi.Options) { o.MetricsOnPublic = true; o.MetricsToken = testMetricsToken })
	if a := e.get("/metrics", "Authorization", "Bearer "+testMetricsToken); a.Code != http.StatusOK {
		t.Fatalf("public /metrics with the token %d", a.Code)
	}
	for _, auth := range []string{"", "Bearer " + testAdminKey, "Bearer " + testMetricsToken + "x", "Basic " + testMetricsToken} {
		a := e.get("/metrics", "Authorization", auth).expect(http.StatusUnauthorized, "unauthorized")
		if !strings.HasPrefix(a.Header().Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("401 without a Bearer challenge: %v", a.Header())
		}
	}
	e.do(e.admin, http.MethodGet, "/metrics", "").expect(http.StatusNotFound, "")
	if _, err := httpapi.New(httpapi.Options{Service: e.svc, Keys: e.svc.Keys(), MetricsOnPublic: true}); err == nil {
		t.Fatal("public /metrics without a token accepted")
	}
}

// TestMetricsTokenOnTheAdminListener: with a token, the admin listener's
// /metrics takes the token or an admin key; without one it is open.
func TestMetricsTokenOnTheAdminListener(t *testing.T) {
	e := newEnv(t, backends[0], func(o *httpapi.Options) { o.MetricsToken = testMetricsToken })
	for auth, want := range map[string]int{"": http.StatusUnauthorized, "Bearer wrong-token-0123456789": http.StatusUnauthorized,
		"Bearer " + testMetricsToken: http.StatusOK, "Bearer " + testAdminKey: http.StatusOK} {
		if a := e.do(e.admin, http.MethodGet, "/metrics", "", "Authorization", auth); a.Code != want {
			t.Errorf("admin /metrics with %q: %d, want %d", auth, a.Code, want)
		}
	}
	open := newEnv(t, backends[0])
	if a := open.do(open.admin, http.MethodGet, "/metrics", ""); a.Code != http.StatusOK {
		t.Fatalf("admin /metrics without a token configured: %d", a.Code)
	}
}

func TestUnknownPathAndRequestID(t *testing.T) {
	e := newEnv(t, backends[0])
	a := e.get("/nowhere").expect(http.StatusNotFound, "not_found")
	if id := a.Header().Get("X-Request-Id"); len(id) < 16 {
		t.Fatalf("generated request id %q", id)
	}
	if id := e.get("/healthz", "X-Request-Id", "lb-1234.abc").Header().Get("X-Request-Id"); id != "lb-1234.abc" {
		t.Fatalf("request id not propagated: %q", id)
	}
	if id := e.get("/healthz", "X-Request-Id", "bad id\x01<script>").Header().Get("X-Request-Id"); strings.ContainsAny(id, " <\x01") {
		t.Fatalf("unsafe request id echoed: %q", id)
	}
}

func TestLimits(t *testing.T) {
	e := newEnv(t, backends[0], func(o *httpapi.Options) { o.MaxBodyBytes = 64; o.MaxQueryBytes = 100 })
	e.room("demo")
	e.get("/serving_num?event_id=demo&pad="+strings.Repeat("x", 100)).expect(http.StatusRequestURITooLong, "uri_too_long")
	e.get("/"+strings.Repeat("x", 120)).expect(http.StatusRequestURITooLong, "uri_too_long")
	msg := e.post("/assign_queue_num", `{"event_id":"demo","pad":"`+strings.Repeat("x", 64)+`"}`).expect(http.StatusBadRequest, "invalid_argument").field("message")
	if !strings.Contains(msg.(string), "too large") {
		t.Fatalf("message %v", msg)
	}
	e.post("/assign_queue_num", `{"event_id":"demo"}`).expect(http.StatusOK, "")
}

func TestRecoverFromPanicInMountedHandler(t *testing.T) {
	e := newEnv(t, backends[0])
	e.public = e.api.PublicHandler(httpapi.Mount{Prefix: "/boom", Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("kaboom secret") })})
	a := e.get("/boom").expect(http.StatusInternalServerError, "internal")
	if strings.Contains(a.Body.String(), "kaboom") {
		t.Fatalf("panic value leaked: %s", a.Body)
	}
	// The server still answers.
	e.get("/healthz").expect(http.StatusOK, "")
}

func TestMountedCatchAllKeepsMethodErrors(t *testing.T) {
	e := newEnv(t, backends[0])
	e.public = e.api.PublicHandler(httpapi.Mount{Prefix: "/", Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	})})
	e.room("demo")
	e.post("/serving_num?event_id=demo", "{}").expect(http.StatusMethodNotAllowed, "")
	if a := e.get("/somewhere-else"); a.Code != http.StatusTeapot {
		t.Fatalf("catch-all not reached: %d", a.Code)
	}
	metrics := e.do(e.admin, http.MethodGet, "/metrics", "").Body.String()
	if !strings.Contains(metrics, `waitroom_http_requests_total{listener="public",method="GET",route="/",status="418"} 1`) {
		t.Fatal("a mounted handler's requests are not labelled with its prefix")
	}
}

func TestCORS(t *testing.T) {
	e := newEnv(t, backends[0], func(o *httpapi.Options) { o.CORSOrigins = []string{"https://shop.example.com"} })
	e.room("demo")
	a := e.get("/serving_num?event_id=demo", "Origin", "https://shop.example.com")
	if a.Header().Get("Access-Control-Allow-Origin") != "https://shop.example.com" || a.Header().Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("CORS headers %v", a.Header())
	}
	pre := e.do(e.public, http.MethodOptions, "/assign_queue_num", "", "Origin", "https://shop.example.com", "Access-Control-Request-Method", "POST")
	if pre.Code != http.StatusNoContent || !strings.Contains(pre.Header().Get("Access-Control-Allow-Methods"), "POST") {
		t.Fatalf("preflight %d %v", pre.Code, pre.Header())
	}
	if h := e.get("/serving_num?event_id=demo", "Origin", "https://evil.example").Header().Get("Access-Control-Allow-Origin"); h != "" {
		t.Fatalf("foreign origin allowed: %q", h)
	}
	e.do(e.public, http.MethodOptions, "/assign_queue_num", "", "Origin", "https://evil.example", "Access-Control-Request-Method", "POST").
		expect(http.StatusMethodNotAllowed, "")
	// The admin listener never answers CORS.
	if h := e.do(e.admin, http.MethodGet, "/healthz", "", "Origin", "https://shop.example.com").Header().Get("Access-Control-Allow-Origin"); h != "" {
		t.Fatalf("admin CORS: %q", h)
	}

	star := newEnv(t, backends[0], func(o *httpapi.Options) { o.CORSOrigins = []string{"*"} })
	star.room("demo")
	if h := star.get("/serving_num?event_id=demo", "Origin", "https://any.example").Header().Get("Access-Control-Allow-Origin"); h != "*" {
		t.Fatalf("wildcard: %q", h)
	}
}

func TestAssignRateLimit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, func(o *httpapi.Options) {
			o.AssignLimit = 3
			o.AssignWindow = time.Minute
			o.TrustedProxies, _ = middleware.ParseTrustedProxies([]string{"198.51.100.0/24"})
		})
		e.room("demo")
		// A token bucket of 3 a minute: 3 at once, then one every 20s
		// (refilling is the store's, tested by the conformance suite).
		assign := func(client string) answer {
			return e.post("/assign_queue_num", `{"event_id":"demo"}`, "X-Forwarded-For", client)
		}
		for range 3 {
			assign("203.0.113.9").expect(http.StatusOK, "")
		}
		limited := assign("203.0.113.9").expect(http.StatusTooManyRequests, "rate_limited")
		if limited.Header().Get("Retry-After") != "20" {
			t.Fatalf("Retry-After %q", limited.Header().Get("Retry-After"))
		}
		// Another client (behind the same trusted proxy) is counted apart.
		assign("203.0.113.10").expect(http.StatusOK, "")
		// Polls are not limited.
		e.get("/serving_num?event_id=demo").expect(http.StatusOK, "")
		// A refused call consumed no position.
		if c, _ := e.svc.Counters(t.Context(), "demo"); c.Queue != 4 {
			t.Fatalf("queue %d, want 4", c.Queue)
		}
	})
}

func TestAccessLogLine(t *testing.T) {
	var buf syncBuffer
	e := newEnv(t, backends[0], func(o *httpapi.Options) {
		o.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	e.room("demo")
	tk := e.enqueue("demo")
	a := e.get("/queue_num?event_id=demo&request_id="+tk.ID, "X-Request-Id", "trace-42")
	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if strings.Contains(l, `"msg":"request"`) {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string]any{"request_id": "trace-42", "client_ip": "198.51.100.7", "listener": "public", "method": "GET",
		"path": "/queue_num", "route": "/queue_num", "status": float64(a.Code)}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v (line %v)", k, line[k], v, line)
		}
	}
	if strings.Contains(buf.String(), tk.ID) {
		t.Error("the request id (a bearer credential) was logged")
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
