package admission

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/backendtest"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

func TestGateStateNeedsRuns(t *testing.T) {
	st := &gateState{}
	steps := []struct {
		ok     bool
		paused bool
	}{{false, false}, {false, true}, {true, true}, {false, true}, {true, true}, {true, true}, {true, false}}
	for i, s := range steps {
		st.observe(s.ok, 2, 3)
		if st.paused != s.paused {
			t.Fatalf("step %d (ok=%v): paused=%v, want %v", i, s.ok, st.paused, s.paused)
		}
	}
}

// site is a protected site whose health the test controls; a slow answer
// moves the fake clock instead of sleeping.
type site struct {
	mu     sync.Mutex
	status int
	slow   time.Duration
	clock  *testenv.Clock
}

func (s *site) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock.Set(s.clock.Now().Add(s.slow))
	w.WriteHeader(s.status)
}

func (s *site) set(status int, slow time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.slow = status, slow
}

func TestHealthProbe(t *testing.T) {
	clock := testenv.NewClock(t0)
	s := &site{status: 200, clock: clock}
	srv := httptest.NewServer(s)
	defer srv.Close()
	room := roomWith("g", waitroom.Policy{HealthGate: &waitroom.HealthGate{URL: srv.URL, MaxLatency: waitroom.Duration(time.Second)}})
	gates := NewHealthGates(nil, clock.Now, quiet)
	ctx := context.Background()
	cases := []struct {
		name   string
		status int
		slow   time.Duration
		ok     bool
	}{
		{"healthy", 200, 0, true},
		{"server error", 503, 0, false},
		{"recovered", 204, 0, true},
		{"too slow", 200, 3 * time.Second, false},
		{"fast again", 200, 500 * time.Millisecond, true},
	}
	for _, c := range cases {
		s.set(c.status, c.slow)
		if ok := gates.Probe(ctx, room); ok != c.ok {
			t.Fatalf("%s: probe ok=%v, want %v", c.name, ok, c.ok)
		}
		if gates.Paused(room) == c.ok {
			t.Fatalf("%s: paused=%v after one probe", c.name, gates.Paused(room))
		}
	}
	srv.Close()
	if gates.Probe(ctx, room) || !gates.Paused(room) {
		t.Fatal("an unreachable site did not pause the room")
	}
}

// fixedGates is a Gates the test flips.
type fixedGates struct{ paused bool }

func (g *fixedGates) Paused(waitroom.Room) bool { return g.paused }

// recorder is an Emitter that keeps events.
type recorder struct {
	mu     sync.Mutex
	events []string
	data   []map[string]any
}

func (r *recorder) Emit(_ context.Context, _ waitroom.Room, ev string, data map[string]any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events, r.data = append(r.events, ev), append(r.data, data)
	return nil
}

// TestGatePausesWithoutBacklog: while the gate is shut the rate inlet does
// not move, and on reopening it resumes at its rate without releasing the
// seconds it was shut; the state changes are emitted.
func TestGatePausesWithoutBacklog(t *testing.T) {
	room := roomWith("g", waitroom.Policy{Inlet: waitroom.Inlet{Strategy: waitroom.StrategyRate, PerMinute: 60},
		HealthGate: &waitroom.HealthGate{URL: "http://site.example/health"}})
	core := newFakeCore(room)
	core.update("g", func(c *waitroom.Counters) { c.Queue = 10000 })
	clock := testenv.NewClock(time.Time{})
	gates := &fixedGates{}
	rec := &recorder{}
	board := backendtest.Embedded(t, clock.Now).Ephemeral
	published := func() string { s, _ := PublishedState(context.Background(), board, "g"); return s }
	e := NewEngine(Config{Core: core, Lease: newLease(t, clock), Holder: "a", Clock: clock.Now, Gates: gates, Events: rec, Logger: quiet, States: board})
	runSeconds(t, e, clock, t0, 30)
	gates.paused = true
	runSeconds(t, e, clock, t0.Add(30*time.Second), 30)
	if s := core.serving("g"); s != 30 {
		t.Fatalf("serving %d while gated, want held at 30", s)
	}
	if s := published(); s != StateGated {
		t.Fatalf("published state %q while gated, want %q for the other replicas", s, StateGated)
	}
	gates.paused = false
	runSeconds(t, e, clock, t0.Add(60*time.Second), 30)
	if s := core.serving("g"); s != 60 {
		t.Fatalf("serving %d after reopening, want 60 (no burst for the gated half minute)", s)
	}
	if s := published(); s != StateOpen {
		t.Fatalf("published state %q after reopening, want %q", s, StateOpen)
	}
	var states []any
	for i, ev := range rec.events {
		if ev == "room_state_changed" {
			states = append(states, rec.data[i]["state"])
		}
	}
	if len(states) != 2 || states[0] != StateGated || states[1] != StateOpen {
		t.Fatalf("state changes %v, want [health_gated open]", states)
	}
}

// TestMetricsHeartbeat: the leader sends one waiting_room_metrics event per
// period with the AWS counter names.
func TestMetricsHeartbeat(t *testing.T) {
	room := roomWith("m", waitroom.Policy{})
	core := newFakeCore(room)
	core.update("m", func(c *waitroom.Counters) { c.Queue, c.Serving, c.Tokens = 10, 4, 3 })
	clock := testenv.NewClock(time.Time{})
	rec := &recorder{}
	e := NewEngine(Config{Core: core, Lease: newLease(t, clock), Holder: "a", Clock: clock.Now, Events: rec,
		MetricsEvery: 10 * time.Second, Logger: quiet})
	runSeconds(t, e, clock, t0, 30)
	var beats []map[string]any
	for i, ev := range rec.events {
		if ev == "waiting_room_metrics" {
			beats = append(beats, rec.data[i])
		}
	}
	if len(beats) != 3 {
		t.Fatalf("%d heartbeats in 30 s, want 3", len(beats))
	}
	if b := beats[0]; b["queue_counter"] != int64(10) || b["serving_counter"] != int64(4) || b["waiting_num"] != int64(7) {
		t.Fatalf("heartbeat %v", b)
	}
}
