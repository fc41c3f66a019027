package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/embedded"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func TestOneReplicaLeadsTheBackgroundJobs(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	store, err := embedded.New(embedded.Options{Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	replica := func() *jobs {
		return &jobs{eph: store, logger: logger, interval: time.Minute, holder: newHolderID()}
	}
	a, b := replica(), replica()
	if !a.lead(ctx) || b.lead(ctx) {
		t.Fatal("want exactly the first replica to lead")
	}
	clock.Advance(2 * time.Minute)
	if !a.lead(ctx) || b.lead(ctx) {
		t.Fatal("the leader lost its renewed lease")
	}
	clock.Advance(3*time.Minute + time.Second) // a stopped renewing
	if !b.lead(ctx) || a.lead(ctx) {
		t.Fatal("the lease did not pass on after its holder went quiet")
	}
}

func TestLeaderPassExpiresPositions(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	store, err := embedded.New(embedded.Options{Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	keys, err := waitroom.LoadKeys(ctx, store, waitroom.KeyOptions{Algorithm: "ES256", Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := waitroom.NewService(store, keys, waitroom.Options{Clock: clock.Now, Logger: logger})
	room := waitroom.NewRoom("r", "")
	room.ExpiryPeriod = waitroom.Duration(time.Minute)
	room.AutoAdvance = true
	if _, err := svc.CreateRoom(ctx, room); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := svc.Enqueue(ctx, "r", ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.SetServing(ctx, "r", 2); err != nil {
		t.Fatal(err)
	}
	j := &jobs{svc: svc, keys: keys, eph: store, logger: logger, interval: time.Minute, holder: newHolderID()}
	// The job watches a room for one period before it expires anything.
	for range 3 {
		j.leaderPass(ctx)
		clock.Advance(time.Minute + time.Second)
	}
	c, err := svc.Counters(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	// Pass 2 expires positions 1-2 and advances serving to 4; pass 3 then
	// expires position 3 (admitted by that advance) and advances to 5.
	if c.Expired != 3 || c.Serving != 5 {
		t.Fatalf("counters after the passes: %+v (want 3 expired, serving 5)", c)
	}
}
