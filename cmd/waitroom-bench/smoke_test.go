package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/server"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
	"github.com/waitroom-idp/waitroom/waitroom/transport/httpapi"
)

const (
	smokeAdminKey     = "bench-smoke-admin-key-0123456789"
	smokeClientSecret = "bench-smoke-client-secret-0123456789"
	smokeRedirect     = "https://rp.bench.test/callback"
)

// testServer is a whole waitroom server (package server, as the binary
// builds it) listening on loopback: the smoke tests and the handler
// benchmarks run against the actual server, not against a stand-in.
type testServer struct {
	public, admin string // base URLs
	// handler is the public listener's handler, for benchmarks that time
	// the server's work without the network.
	handler http.Handler
}

// startTestServer starts a server on the embedded store.
func startTestServer(tb testing.TB) *testServer {
	return startServerOn(tb, "embedded", "ES256")
}

// startServerOn starts a server on the backend named ("embedded", or
// "redispg" on a fresh PostgreSQL schema and Redis key prefix), signing
// with alg.
func startServerOn(tb testing.TB, backend, alg string) *testServer {
	tb.Helper()
	cfg := server.DefaultConfig()
	noDemo := false
	cfg.HTTPAddr, cfg.AdminAddr, cfg.DataDir, cfg.LogLevel = "127.0.0.1:0", "127.0.0.1:0", "", "error"
	cfg.SigningAlgorithm, cfg.AssignRateLimit, cfg.Demo = alg, 0, &noDemo
	cfg.PollCache = 0 // counters read the store at once: a run sees its own fill
	cfg.AdminKeyHashes = []string{httpapi.HashAdminKey(smokeAdminKey)}
	cfg.Clients = []waitroom.Client{{ID: "bench", Secret: smokeClientSecret, Room: "smoke-oidc", RedirectURIs: []string{smokeRedirect}}}
	if backend == "redispg" {
		cfg.DatabaseURL = testenv.Postgres(tb)
		cfg.RedisURL, cfg.RedisKeyPrefix = testenv.Redis(tb)
	}
	srv, err := server.Open(context.Background(), cfg, server.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	srv.Start()
	tb.Cleanup(func() { _ = srv.Close() })
	public, _ := srv.Handlers()
	return &testServer{public: srv.Issuer(), admin: srv.AdminURL(), handler: public}
}

// runSmoke runs the command in smoke mode against s and returns its JSON
// results.
func runSmoke(t *testing.T, s *testServer, scenarios string, extra ...string) []Result {
	t.Helper()
	out := filepath.Join(t.TempDir(), "results.json")
	args := append([]string{"-smoke", "-q", "-duration", "300ms", "-create-room", "-room", "smoke", "-oidc-room", "smoke-oidc",
		"-client-id", "bench", "-client-secret", smokeClientSecret, "-redirect-uri", smokeRedirect,
		"-target", s.public, "-admin", s.admin, "-admin-key", smokeAdminKey,
		"-scenario", scenarios, "-json", out}, extra...)
	var stdout, stderr bytes.Buffer
	if err := Main(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("smoke run failed: %v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var results []Result
	if err := json.Unmarshal(b, &results); err != nil {
		t.Fatal(err)
	}
	return results
}

// TestSmokeQueueScenarios runs every queue scenario briefly against the
// in-process server and checks that each one completed operations without
// an error. It asserts nothing about speed.
func TestSmokeQueueScenarios(t *testing.T) {
	s := startTestServer(t)
	results := runSmoke(t, s, "queue-flow,enqueue,poll,lookup,token,depth", "-depth", "50")
	want := []string{"queue-flow", "enqueue", "poll", "lookup", "token", "enqueue", "poll", "lookup", "token"}
	if len(results) != len(want) {
		t.Fatalf("got %d results, want %d", len(results), len(want))
	}
	for i, r := range results {
		if r.Scenario != want[i] {
			t.Errorf("result %d is %s, want %s", i, r.Scenario, want[i])
		}
		if r.Ops == 0 || r.Errors != 0 {
			t.Errorf("%s: %d ops, %d errors %v", r.Scenario, r.Ops, r.Errors, r.ErrorsBy)
		}
	}
	// Every acknowledged enqueue holds a position.
	for _, r := range results {
		if r.Scenario == "poll" {
			continue // does not enqueue
		}
		if r.QueueGrowth == nil || *r.QueueGrowth < int64(r.Acknowledged) {
			t.Errorf("%s: queue growth %v for %d acknowledged enqueues", r.Scenario, r.QueueGrowth, r.Acknowledged)
		}
	}
	if results[1].Acknowledged == 0 || *results[1].QueueGrowth != int64(results[1].Acknowledged) {
		t.Errorf("enqueue: %d acknowledged, queue grew by %v", results[1].Acknowledged, results[1].QueueGrowth)
	}
	// The depth scenarios ran with the room filled.
	if results[5].Waiting < 50 {
		t.Errorf("depth: %d waiting at start, want >= 50", results[5].Waiting)
	}
	// The queue flow went through every step of the AWS flow.
	steps := map[string]bool{}
	for _, st := range results[0].Steps {
		steps[st.Name] = true
	}
	for _, st := range []string{stepAssign, stepQueueNum, stepServing, stepToken, stepIncrement} {
		if !steps[st] {
			t.Errorf("queue-flow never measured %s (steps %v)", st, results[0].Steps)
		}
	}
}

// TestSmokeOIDCScenarios runs the browser login and the userinfo flood,
// once with every visitor admitted at once (headroom) and once with none
// (the flow waits in the room until the admitter lets it in).
func TestSmokeOIDCScenarios(t *testing.T) {
	for _, headroom := range []string{"1000000", "0"} {
		s := startTestServer(t)
		results := runSmoke(t, s, "oidc-flow,userinfo,room-status", "-headroom", headroom)
		if len(results) != 3 {
			t.Fatalf("got %d results", len(results))
		}
		for _, r := range results {
			if r.Ops == 0 || r.Errors != 0 {
				t.Errorf("headroom %s: %s: %d ops, %d errors %v", headroom, r.Scenario, r.Ops, r.Errors, r.ErrorsBy)
			}
		}
		if r := results[0]; r.Provider != providerWaitroom || r.IDTokenAlg != "ES256" {
			t.Errorf("oidc-flow ran against provider %q signing %q, want waitroom with ES256", r.Provider, r.IDTokenAlg)
		}
		steps := map[string]uint64{}
		for _, st := range results[0].Steps {
			steps[st.Name] = st.Count
		}
		for _, st := range []string{stepAuthorize, stepRoom, stepOIDCToken, stepUserinfo} {
			if steps[st] == 0 {
				t.Errorf("headroom %s: oidc-flow never measured %s (%v)", headroom, st, steps)
			}
		}
		if headroom == "0" && (steps[stepStatus] == 0 || steps[stepAdmit] == 0) {
			t.Errorf("without headroom the flow must wait in the room and be admitted: %v", steps)
		}
	}
}

func TestSmokeOpenLoop(t *testing.T) {
	s := startTestServer(t)
	out := filepath.Join(t.TempDir(), "open.json")
	var stdout, stderr bytes.Buffer
	err := Main(context.Background(), []string{"-mode", "open", "-rate", "300", "-c", "4", "-duration", "300ms", "-warmup", "100ms", "-drain", "60s",
		"-room", "smoke", "-create-room", "-admin-key", smokeAdminKey,
		"-target", s.public, "-admin", s.admin, "-scenario", "poll,enqueue", "-json", out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	b, _ := os.ReadFile(out)
	var res []Result
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		// 300/s for 0.3 s is 90 measured arrivals; every one must have run.
		if r.Ops != 90 || r.Errors != 0 || r.Mode != "open" || r.Rate != 300 {
			t.Errorf("%s: %d ops, %d errors, mode %s rate %v", r.Scenario, r.Ops, r.Errors, r.Mode, r.Rate)
		}
	}
	t.Logf("table:\n%s", stdout.String())
	if !bytes.Contains(stdout.Bytes(), []byte("open 300/s")) {
		t.Errorf("table lacks the mode:\n%s", stdout.String())
	}
}

// TestSmokeQueueFlowAtAdmitRate runs the queue flow with admission at a
// fixed rate instead of following the visitors.
func TestSmokeQueueFlowAtAdmitRate(t *testing.T) {
	s := startTestServer(t)
	results := runSmoke(t, s, "queue-flow", "-admit-rate", "200")
	if len(results) != 1 || results[0].Ops == 0 || results[0].Errors != 0 {
		t.Fatalf("results %+v", results)
	}
}

// TestSmokeBulkFill fills a room through the admin API's bulk path (the
// depth scenario's) on Redis + PostgreSQL, then measures at that depth.
// Skipped without PostgreSQL and Redis (fails under CI=true, where they
// must be there).
func TestSmokeBulkFill(t *testing.T) {
	s := startServerOn(t, "redispg", "ES256")
	results := runSmoke(t, s, "fill,poll,lookup", "-depth", "150", "-bulk-fill")
	if len(results) != 2 {
		t.Fatalf("got %d results, want poll and lookup", len(results))
	}
	for _, r := range results {
		if r.Waiting < 150 || r.Ops == 0 || r.Errors != 0 {
			t.Errorf("%s: %d waiting, %d ops, %d errors %v", r.Scenario, r.Waiting, r.Ops, r.Errors, r.ErrorsBy)
		}
	}
}

// TestSmokeEnqueueThroughGate runs B1's scenario against a room with a
// proof-of-work gate: every enqueue carries a solved challenge from the
// pool prepared before the run, and none is refused.
func TestSmokeEnqueueThroughGate(t *testing.T) {
	s := startTestServer(t)
	results := runSmoke(t, s, "enqueue", "-room", "smoke-gated", "-gate-difficulty", "8", "-gate-pool", "300")
	if len(results) != 1 || results[0].Ops == 0 || results[0].Errors != 0 {
		t.Fatalf("gated enqueue: %+v", results)
	}
	if r := results[0]; r.QueueGrowth == nil || *r.QueueGrowth != int64(r.Acknowledged) {
		t.Fatalf("gated enqueue: %d acknowledged, queue grew by %v", r.Acknowledged, r.QueueGrowth)
	}
	if notes := strings.Join(results[0].Notes, "\n"); !strings.Contains(notes, "bot gate: difficulty 8") {
		t.Errorf("the result does not say it ran through the gate: %q", notes)
	}
	resp, err := http.Post(s.public+"/assign_queue_num", "application/json", bytes.NewReader([]byte(`{"event_id":"smoke-gated"}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("the room's gate is not on: an enqueue without a solution got %d", resp.StatusCode)
	}
}
