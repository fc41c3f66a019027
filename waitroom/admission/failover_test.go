package admission

import (
	"context"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// TestFailoverNoDoubleNoLostTick: two replicas share the lease; the leader
// dies mid-run, the other takes over after the lease lapses and applies the
// ticks missed in the gap, so the counter ends exactly where the strategy
// prescribes: no tick twice, none lost.
func TestFailoverNoDoubleNoLostTick(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			clock := &fakeClock{now: t0}
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
			// 0..99 s: both replicas tick, a leads.
			for sec := 0; sec < 100; sec++ {
				tickBoth(t, clock, start.Add(time.Duration(sec)*time.Second), a, bb)
			}
			if !a.Leader() || bb.Leader() {
				t.Fatalf("want a leading, b standing by")
			}
			// a dies (SIGKILL: no release); b keeps ticking and takes over
			// once the 10 s lease lapses.
			for sec := 100; sec < 240; sec++ {
				tickBoth(t, clock, start.Add(time.Duration(sec)*time.Second), bb)
			}
			if !bb.Leader() {
				t.Fatal("b did not take over")
			}
			serving, _ := svc.Serving(ctx, "fo")
			want := prescribed(Rate{PerMinute: 90}, start, start.Add(239*time.Second))
			if serving != want {
				t.Fatalf("serving = %d after failover, the strategy prescribes %d", serving, want)
			}
		})
	}
}

// TestPausedLeaderIsFenced: a leader that stalls past its lease cannot
// apply a tick once another replica holds the lease.
func TestPausedLeaderIsFenced(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: t0}
	lease := NewMemoryLease(clock.Now)
	oldTok, held, _ := lease.Acquire(ctx, "old", 10*time.Second)
	if !held {
		t.Fatal("old could not take a free lease")
	}
	if ok, _ := lease.Claim(ctx, oldTok, "tick:1", time.Minute); !ok {
		t.Fatal("leader could not claim a fresh step")
	}
	clock.Set(t0.Add(11 * time.Second)) // old stalls past its lease
	newTok, held, _ := lease.Acquire(ctx, "new", 10*time.Second)
	if !held || newTok == oldTok {
		t.Fatalf("new leader: held=%v token %d (old %d)", held, newTok, oldTok)
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
}

func tickBoth(t *testing.T, clock *fakeClock, now time.Time, engines ...*Engine) {
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
