package admission

import (
	"context"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

// TestStrategiesOnBackends runs every mode and time-driven strategy on the
// real queue core of each backend, with a fake clock, and checks the
// counter against the arithmetic.
func TestStrategiesOnBackends(t *testing.T) {
	start := t0.Add(time.Minute) // after the rooms' settings were saved
	cases := []struct {
		id     string
		policy waitroom.Policy
		want   int64 // serving after 150 s from start, 200 waiting
	}{
		{"periodic", waitroom.Policy{Inlet: waitroom.Inlet{Strategy: waitroom.StrategyPeriodic, Increment: 7,
			Interval: waitroom.Duration(30 * time.Second), Start: start.Add(10 * time.Second), End: start.Add(100 * time.Second)}}, 21},
		{"rate", waitroom.Policy{Inlet: waitroom.Inlet{Strategy: waitroom.StrategyRate, PerMinute: 30}}, 75},
		{"rate-capped", waitroom.Policy{Inlet: waitroom.Inlet{Strategy: waitroom.StrategyRate, PerMinute: 6000}}, 200},
		{"manual", waitroom.Policy{}, 0},
		{"paused", waitroom.Policy{Mode: waitroom.ModePaused, Inlet: waitroom.Inlet{Strategy: waitroom.StrategyRate, PerMinute: 60}}, 0},
		{"passthrough", waitroom.Policy{Mode: waitroom.ModePassthrough}, 200},
		{"closed-drains", waitroom.Policy{Mode: waitroom.ModeClosed, Inlet: waitroom.Inlet{Strategy: waitroom.StrategyRate, PerMinute: 60}}, 150},
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := testenv.NewClock(t0)
			en := b.open(t, clock.Now)
			for _, c := range cases {
				r := waitroom.NewRoom(c.id, c.id)
				if _, err := en.svc.CreateRoom(ctx, r); err != nil {
					t.Fatal(err)
				}
				for i := 0; i < 200; i++ {
					if _, err := en.svc.Enqueue(ctx, c.id, ""); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := en.svc.UpdateRoom(ctx, c.id, func(r *waitroom.Room) error { r.Policy = c.policy; return nil }); err != nil {
					t.Fatal(err)
				}
			}
			e := NewEngine(Config{Core: en.svc, Lease: en.lease, Holder: "a", Clock: clock.Now, Logger: quiet})
			runSeconds(t, e, clock, start, 150)
			for _, c := range cases {
				if s, _ := en.svc.Serving(ctx, c.id); s != c.want {
					t.Errorf("%s: serving %d, want %d", c.id, s, c.want)
				}
			}
		})
	}
}

// TestNewRateAtTheNextTick: an operator raising a room's rate through
// another replica (its own Service, its own caches) changes what the
// leader lets in from the leader's next tick on.
func TestNewRateAtTheNextTick(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := testenv.NewClock(t0)
			en := b.open(t, clock.Now)
			other := newService(t, en.store, clock.Now)
			r := waitroom.NewRoom("sale", "Sale")
			r.Inlet = waitroom.Inlet{Strategy: waitroom.StrategyRate, PerMinute: 60}
			if _, err := en.svc.CreateRoom(ctx, r); err != nil {
				t.Fatal(err)
			}
			for range 500 {
				if _, err := en.svc.Enqueue(ctx, "sale", ""); err != nil {
					t.Fatal(err)
				}
			}
			e := NewEngine(Config{Core: en.svc, Lease: en.lease, Holder: "a", Clock: clock.Now, Logger: quiet})
			start := t0.Add(time.Minute)
			runSeconds(t, e, clock, start, 10)
			before, _ := en.svc.Serving(ctx, "sale")
			if _, err := other.UpdateRoom(ctx, "sale", func(r *waitroom.Room) error { r.Inlet.PerMinute = 600; return nil }); err != nil {
				t.Fatal(err)
			}
			runSeconds(t, e, clock, start.Add(10*time.Second), 1)
			after, _ := en.svc.Serving(ctx, "sale")
			if after-before < 9 {
				t.Fatalf("serving went %d → %d in the tick after the rate became 600 a minute, want about 10 more", before, after)
			}
		})
	}
}
