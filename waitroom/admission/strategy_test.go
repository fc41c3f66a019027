package admission

import (
	"context"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestPeriodicAmounts(t *testing.T) {
	p := Periodic{Increment: 10, Interval: time.Minute, Start: t0, End: t0.Add(5 * time.Minute)}
	cases := []struct {
		at   time.Time
		tick int64
		ok   bool
	}{
		{t0.Add(-time.Second), 0, false},
		{t0, 0, true},
		{t0.Add(59 * time.Second), 0, true},
		{t0.Add(time.Minute), 1, true},
		{t0.Add(4*time.Minute + 59*time.Second), 4, true},
		{t0.Add(7 * time.Minute), 7, true},
	}
	for _, c := range cases {
		n, ok := p.TickAt(c.at)
		if n != c.tick || ok != c.ok {
			t.Errorf("TickAt(%v) = %d,%v want %d,%v", c.at.Sub(t0), n, ok, c.tick, c.ok)
		}
	}
	var total int64
	for n := int64(0); n < 20; n++ {
		total += p.Amount(n, Snapshot{})
	}
	if total != 50 {
		t.Fatalf("ticks in [start, end) gave %d, want 5 × 10", total)
	}
}

func TestRateReleasesExactlyPerMinuteSmoothly(t *testing.T) {
	for _, perMin := range []int64{1, 7, 59, 60, 61, 90, 1000, 123457} {
		r := Rate{PerMinute: perMin}
		ceil := (perMin + 59) / 60
		for start := int64(1_700_000_000); start < 1_700_000_000+60; start += 13 {
			var sum int64
			for n := start; n < start+60; n++ {
				a := r.Share(n)
				if a < 0 || a > ceil {
					t.Fatalf("rate %d: second %d releases %d, want 0..%d", perMin, n, a, ceil)
				}
				sum += a
			}
			if sum != perMin {
				t.Fatalf("rate %d: 60 seconds from %d released %d", perMin, start, sum)
			}
		}
	}
	few := Snapshot{Counters: waitroom.Counters{Queue: 12, Serving: 11}}
	if a := (Rate{PerMinute: 600}).Amount(5, few); a != 1 {
		t.Fatalf("rate moved %d past the one visitor waiting", a)
	}
}

func TestMaxActiveAmount(t *testing.T) {
	m := MaxActive{Max: 10}
	cases := []struct {
		name string
		c    waitroom.Counters
		act  int64
		want int64
	}{
		{"empty room", waitroom.Counters{}, 0, 0},
		{"fills to max", waitroom.Counters{Queue: 50}, 0, 10},
		{"not past the queue", waitroom.Counters{Queue: 3}, 0, 3},
		{"pending positions hold slots", waitroom.Counters{Queue: 50, Serving: 10, Tokens: 4}, 4, 0},
		{"completed frees", waitroom.Counters{Queue: 50, Serving: 10, Tokens: 10, Completed: 3}, 7, 3},
		{"expired position frees", waitroom.Counters{Queue: 50, Serving: 10, Tokens: 6, Expired: 4}, 6, 4},
		{"serving beyond queue", waitroom.Counters{Queue: 5, Serving: 8, Tokens: 5}, 5, 0},
	}
	for _, c := range cases {
		if got := m.Amount(0, Snapshot{Counters: c.c, Active: c.act}); got != c.want {
			t.Errorf("%s: Amount = %d, want %d", c.name, got, c.want)
		}
	}
}

// engineFor builds an engine on a fake core with a fake clock.
func engineFor(core Core, lease waitroom.Lease, clock *testenv.Clock, holder string) *Engine {
	return NewEngine(Config{Core: core, Lease: lease, Holder: holder, Clock: clock.Now, LeaseTTL: 10 * time.Second, Logger: quiet})
}

// runSeconds ticks e once per second from `from` for n seconds.
func runSeconds(t *testing.T, e *Engine, clock *testenv.Clock, from time.Time, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		now := from.Add(time.Duration(i) * time.Second)
		clock.Set(now)
		if err := e.Tick(context.Background(), now); err != nil {
			t.Fatalf("tick at %v: %v", now, err)
		}
	}
}

func roomWith(id string, p waitroom.Policy) waitroom.Room {
	r := waitroom.NewRoom(id, id)
	r.Policy = p
	return r
}

func TestEnginePeriodicFollowsPrescription(t *testing.T) {
	room := roomWith("p", waitroom.Policy{Inlet: waitroom.Inlet{Strategy: waitroom.StrategyPeriodic,
		Increment: 10, Interval: waitroom.Duration(time.Minute), Start: t0, End: t0.Add(5 * time.Minute)}})
	core := newFakeCore(room)
	clock := testenv.NewClock(time.Time{})
	e := engineFor(core, newLease(t, clock), clock, "a")
	runSeconds(t, e, clock, t0.Add(-30*time.Second), 30)
	if s := core.serving("p"); s != 0 {
		t.Fatalf("before start serving = %d", s)
	}
	runSeconds(t, e, clock, t0, 1)
	if s := core.serving("p"); s != 10 {
		t.Fatalf("at start serving = %d, want 10", s)
	}
	runSeconds(t, e, clock, t0.Add(time.Second), 10*60)
	if s := core.serving("p"); s != 50 {
		t.Fatalf("after end serving = %d, want 50", s)
	}
}

func TestEngineRateAndModes(t *testing.T) {
	rate := roomWith("r", waitroom.Policy{Inlet: waitroom.Inlet{Strategy: waitroom.StrategyRate, PerMinute: 90}})
	paused := roomWith("paused", waitroom.Policy{Mode: waitroom.ModePaused, Inlet: rate.Inlet})
	pass := roomWith("pass", waitroom.Policy{Mode: waitroom.ModePassthrough})
	core := newFakeCore(rate, paused, pass)
	for _, id := range []string{"r", "paused", "pass"} {
		core.update(id, func(c *waitroom.Counters) { c.Queue = 1000 })
	}
	clock := testenv.NewClock(time.Time{})
	e := engineFor(core, newLease(t, clock), clock, "a")
	runSeconds(t, e, clock, t0, 120)
	if s := core.serving("r"); s != 180 {
		t.Errorf("rate 90/min over 2 minutes: serving %d, want 180", s)
	}
	if s := core.serving("paused"); s != 0 {
		t.Errorf("paused room advanced to %d", s)
	}
	if s := core.serving("pass"); s != 1000 {
		t.Errorf("passthrough serving %d, want the whole queue", s)
	}
}

func TestEngineSafetyNet(t *testing.T) {
	room := roomWith("s", waitroom.Policy{Mode: waitroom.ModePassthrough, SafetyNetThreshold: 50})
	core := newFakeCore(room)
	core.update("s", func(c *waitroom.Counters) { c.Queue = 30 })
	clock := testenv.NewClock(time.Time{})
	e := engineFor(core, newLease(t, clock), clock, "a")
	runSeconds(t, e, clock, t0, 1)
	if s := core.serving("s"); s != 30 {
		t.Fatalf("below threshold: serving %d, want 30 (pass through)", s)
	}
	// 60 sessions active: over the threshold, the manual inlet holds.
	core.update("s", func(c *waitroom.Counters) { c.Queue, c.Tokens = 100, 60 })
	core.active["s"] = 60
	runSeconds(t, e, clock, t0.Add(time.Second), 5)
	if s := core.serving("s"); s != 30 {
		t.Fatalf("over threshold: serving %d, want it held at 30", s)
	}
	core.active["s"] = 10
	runSeconds(t, e, clock, t0.Add(10*time.Second), 1)
	if s := core.serving("s"); s != 100 {
		t.Fatalf("back under threshold: serving %d, want 100", s)
	}
}
