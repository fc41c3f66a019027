package admission

import (
	"context"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

// TestFailoverNoDoubleNoLostTick: two replicas share the lease; the leader
// dies mid-run, the other takes over after the lease lapses and applies the
// ticks missed in the gap, so the counter ends exactly where the strategy
// prescribes: no tick twice, none lost.
func TestFailoverNoDoubleNoLostTick(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := testenv.NewClock(t0)
			en := b.open(t, clock.Now)
			svc, lease := en.svc, en.lease
			room := waitroom.NewRoom("fo", "Failover")
			room.Inlet = waitroom.Inlet{Strategy: waitroom.StrategyRate, PerMinute: 90}
			if _, err := svc.CreateRoom(ctx, room); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 400; i++ {
				if _, err := svc.Enqueue(ctx, "fo", ""); err != nil {
					t.Fatal(err)
				}
			}
			start := t0.Add(time.Minute) // after the room's settings changed
			a := engineFor(svc, lease, clock, "a")
			bb := engineFor(svc, lease, clock, "b")
			// 0..59 s: both replicas tick, a leads.
			for sec := 0; sec < 60; sec++ {
				tickBoth(t, clock, start.Add(time.Duration(sec)*time.Second), a, bb)
			}
			if !a.Leader() || bb.Leader() {
				t.Fatalf("want a leading, b standing by")
			}
			// a dies (SIGKILL: no release); b keeps ticking and takes over
			// once the 10 s lease lapses.
			for sec := 60; sec < 140; sec++ {
				if sec == 70 {
					en.lapse()
				}
				tickBoth(t, clock, start.Add(time.Duration(sec)*time.Second), bb)
			}
			if !bb.Leader() {
				t.Fatal("b did not take over")
			}
			serving, _ := svc.Serving(ctx, "fo")
			want := prescribed(Rate{PerMinute: 90}, start, start.Add(139*time.Second))
			if serving != want {
				t.Fatalf("serving = %d after failover, the strategy prescribes %d", serving, want)
			}
		})
	}
}

// TestPausedLeaderIsFenced: a leader that stalls past its lease cannot
// claim a step once another replica holds the lease, and no step is
// claimed twice.
func TestPausedLeaderIsFenced(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := testenv.NewClock(t0)
			en := b.open(t, clock.Now)
			lease := en.lease
			oldTok, held, err := lease.Acquire(ctx, "old", 10*time.Second)
			if err != nil || !held {
				t.Fatalf("old could not take a free lease: %v", err)
			}
			if ok, _ := lease.Claim(ctx, oldTok, "tick:1", time.Minute); !ok {
				t.Fatal("leader could not claim a fresh step")
			}
			if _, held, _ := lease.Acquire(ctx, "new", 10*time.Second); held {
				t.Fatal("new took a lease that is held")
			}
			clock.Set(t0.Add(11 * time.Second)) // old stalls past its lease
			en.lapse()
			newTok, held, _ := lease.Acquire(ctx, "new", 10*time.Second)
			if !held || newTok <= oldTok {
				t.Fatalf("new leader: held=%v token %d (old %d): tokens must grow", held, newTok, oldTok)
			}
			if ok, _ := lease.Claim(ctx, oldTok, "tick:2", time.Minute); ok {
				t.Fatal("the stale leader claimed a step after losing the lease")
			}
			if ok, _ := lease.Claim(ctx, newTok, "tick:1", time.Minute); ok {
				t.Fatal("a step was claimed twice")
			}
			if ok, _ := lease.Claim(ctx, newTok, "tick:2", time.Minute); !ok {
				t.Fatal("the new leader could not claim")
			}
			if _, held, _ := lease.Acquire(ctx, "old", 10*time.Second); held {
				t.Fatal("old took the lease back while new holds it")
			}
			if err := lease.Release(ctx, "old"); err != nil {
				t.Fatal(err)
			}
			if tok, held, _ := lease.Acquire(ctx, "new", 10*time.Second); !held || tok != newTok {
				t.Fatalf("a release by a non-holder disturbed the lease: held=%v token %d", held, tok)
			}
			if err := lease.Release(ctx, "new"); err != nil {
				t.Fatal(err)
			}
			if _, held, _ := lease.Acquire(ctx, "third", 10*time.Second); !held {
				t.Fatal("a released lease was not free")
			}
		})
	}
}

func tickBoth(t *testing.T, clock *testenv.Clock, now time.Time, engines ...*Engine) {
	t.Helper()
	clock.Set(now)
	for _, e := range engines {
		if err := e.Tick(context.Background(), now); err != nil {
			t.Fatalf("tick at %v: %v", now, err)
		}
	}
}

// prescribed sums the amounts of a time-driven strategy's ticks in
// [from, to].
func prescribed(s Strategy, from, to time.Time) int64 {
	first, _ := s.TickAt(from)
	if s.TickTime(first).Before(from) {
		first++
	}
	last, ok := s.TickAt(to)
	if !ok {
		return 0
	}
	var sum int64
	for n := first; n <= last; n++ {
		sum += s.Amount(n, Snapshot{Counters: waitroom.Counters{Queue: 1 << 40}})
	}
	return sum
}

// TestPeriodicWorkRunsOnceOnTheLeader: deployment-wide work runs on the
// lease holder only, once per period however often the replicas tick, and
// moves to the other replica when the leader dies.
func TestPeriodicWorkRunsOnceOnTheLeader(t *testing.T) {
	clock := testenv.NewClock(t0)
	lease := newLease(t, clock)
	runs := map[string]int{}
	replica := func(holder string) *Engine {
		return NewEngine(Config{Core: newFakeCore(), Lease: lease, Holder: holder, Clock: clock.Now,
			LeaseTTL: 10 * time.Second, Logger: quiet,
			Jobs: []LeaderJob{{Name: "rotate", Every: time.Minute, Run: func(context.Context) error { runs[holder]++; return nil }}}})
	}
	a, b := replica("a"), replica("b")
	start := t0.Truncate(time.Minute)
	for sec := 0; sec < 180; sec++ { // three periods, both ticking
		tickBoth(t, clock, start.Add(time.Duration(sec)*time.Second), a, b)
	}
	if runs["a"] != 3 || runs["b"] != 0 {
		t.Fatalf("runs = %v over three periods, want a:3 b:0", runs)
	}
	for sec := 180; sec < 300; sec++ { // a dies; b takes the lease
		tickBoth(t, clock, start.Add(time.Duration(sec)*time.Second), b)
	}
	if runs["a"] != 3 || runs["b"] != 2 {
		t.Fatalf("runs = %v after a died, want a:3 b:2", runs)
	}
}
