package server

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/admission"
	"github.com/waitroom-idp/waitroom/waitroom/backend/embedded"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

// TestLeaderRunsExpiryAndRotation: two replicas share one admission lease;
// the expiry job and key rotation run under it, so positions expire on
// schedule and the key is rotated once, not once per replica.
func TestLeaderRunsExpiryAndRotation(t *testing.T) {
	start := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	clock := testenv.NewClock(start)
	backend, err := embedded.Open(embedded.Options{Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	store := backend.Store
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	lease := backend.Lease("admission")
	keyOpts := waitroom.KeyOptions{Algorithm: "ES256", RotateEvery: 3 * time.Minute, Clock: clock.Now}
	replica := func() (*admission.Engine, *waitroom.Service, *waitroom.Keys) {
		keys, err := waitroom.LoadKeys(ctx, store, keyOpts)
		if err != nil {
			t.Fatal(err)
		}
		svc := waitroom.NewService(store, keys, waitroom.Options{Clock: clock.Now, Logger: logger})
		cfg := admission.Config{Core: svc, Lease: lease, Holder: newHolderID(), Clock: clock.Now, LeaseTTL: 10 * time.Second, Logger: logger}
		leaderWork{svc: svc, keys: keys, every: time.Minute, rotate: true, logger: logger}.configure(&cfg)
		return admission.NewEngine(cfg), svc, keys
	}
	a, svc, _ := replica()
	b, _, bKeys := replica()

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
	for sec := range 5 * 60 {
		now := start.Add(time.Duration(sec) * time.Second)
		clock.Set(now)
		for _, e := range []*admission.Engine{a, b} {
			if err := e.Tick(ctx, now); err != nil {
				t.Fatalf("tick at %v: %v", now, err)
			}
		}
	}
	if !a.Leader() || b.Leader() {
		t.Fatal("want exactly the first replica to lead")
	}
	c, err := svc.Counters(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	// Positions 1-2 expire and serving advances to 4; position 3, admitted
	// by that advance, then expires too and serving reaches 5.
	if c.Expired != 3 || c.Serving != 5 {
		t.Fatalf("counters after five minutes: %+v (want 3 expired, serving 5)", c)
	}
	if err := bKeys.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(bKeys.JWKS().Keys); n != 2 {
		t.Fatalf("JWKS has %d keys after one rotation period, want 2 (rotated exactly once)", n)
	}
}
