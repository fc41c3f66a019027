package admission

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

// TestPrequeueOpening: 10,000 arrivals during the pre-queue get positions
// 1..10,000 at opening, in the order a verifier recomputes from the
// published entry list and the revealed seed (which matches the commitment
// published before opening); arrivals at or after opening come after them.
func TestPrequeueOpening(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { t.Parallel(); runPrequeueOpening(t, b) })
	}
}

func runPrequeueOpening(t *testing.T, b backend) {
	ctx := context.Background()
	opens := t0.Add(2 * time.Hour)
	clock := testenv.NewClock(t0)
	en := b.open(t, clock.Now)
	early := en.prequeueSize
	room := waitroom.NewRoom("gig", "Gig")
	room.Schedule = waitroom.Schedule{OpensAt: opens, Prequeue: waitroom.Duration(time.Hour)}
	room.Inlet = waitroom.Inlet{Strategy: waitroom.StrategyRate, PerMinute: 600}
	if _, err := en.svc.CreateRoom(ctx, room); err != nil {
		t.Fatal(err)
	}
	pre := NewPrequeue(en.prequeue, en.store, clock.Now)
	door := NewEntrance(en.svc, pre, clock.Now)
	engine := NewEngine(Config{Core: en.svc, Lease: en.lease, Holder: "l", Clock: clock.Now, Opener: pre, Logger: quiet})

	if _, err := door.Enqueue(ctx, "gig", ""); waitroom.ErrorCode(err) != waitroom.CodeConflict {
		t.Fatalf("arrival before the pre-queue: %v, want refused", err)
	}
	clock.Set(opens.Add(-59 * time.Minute))
	ids := make([]string, early)
	for i := range ids {
		tk, err := door.Enqueue(ctx, "gig", "")
		if err != nil {
			t.Fatal(err)
		}
		if tk.Position != 0 {
			t.Fatalf("pre-queue arrival got position %d before opening", tk.Position)
		}
		ids[i] = tk.ID
	}
	if _, err := door.Ticket(ctx, "gig", ids[0]); waitroom.ErrorCode(err) != waitroom.CodeNotServed {
		t.Fatalf("pre-queue ticket lookup: %v, want not_served (not yet assigned)", err)
	}
	pub, err := pre.Publish(ctx, room)
	if err != nil || pub.Commitment == "" || pub.Seed != "" || len(pub.Entries) != 0 {
		t.Fatalf("before opening publish %+v, %v: want the commitment only", pub, err)
	}
	commitment := pub.Commitment
	engineSeconds(t, engine, clock, opens.Add(-10*time.Second), 10) // nothing admitted before opening
	if s, _ := en.svc.Serving(ctx, "gig"); s != 0 {
		t.Fatalf("serving %d before opening", s)
	}

	// Arrivals at opening, before the leader's opening pass, and after it.
	clock.Set(opens)
	late := enqueueN(t, door, 3)
	engineSeconds(t, engine, clock, opens, 1)
	after := enqueueN(t, door, 3)

	pub, err = pre.Publish(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	seedBytes, err := hex.DecodeString(pub.Seed)
	if err != nil || len(seedBytes) != SeedSize {
		t.Fatalf("revealed seed %q", pub.Seed)
	}
	sum := sha256.Sum256(seedBytes)
	if hex.EncodeToString(sum[:]) != commitment {
		t.Fatal("revealed seed does not match the commitment published at pre-queue start")
	}
	if len(pub.Entries) != early {
		t.Fatalf("published %d entries, want %d", len(pub.Entries), early)
	}
	var seed [SeedSize]byte
	copy(seed[:], seedBytes)
	for i, id := range Shuffle(pub.Entries, seed) {
		tk, err := door.Ticket(ctx, "gig", id)
		if err != nil {
			t.Fatalf("entry %s: %v", id, err)
		}
		if tk.Position != int64(i+1) {
			t.Fatalf("entry %s at position %d; the published draw puts it at %d", id, tk.Position, i+1)
		}
	}
	for i, id := range append(late, after...) {
		tk, err := door.Ticket(ctx, "gig", id)
		if err != nil {
			t.Fatal(err)
		}
		if tk.Position != int64(early+1+i) {
			t.Fatalf("arrival %d after opening at position %d, want %d (FIFO behind the pre-queue)", i, tk.Position, early+1+i)
		}
	}
	// A second opening pass (another leader, a retry) changes nothing.
	if done, err := pre.Open(ctx, room, opens.Add(time.Minute)); err != nil || !done {
		t.Fatalf("repeat open: %v %v", done, err)
	}
	if c, _ := en.svc.Counters(ctx, "gig"); c.Queue != int64(early)+6 {
		t.Fatalf("queue %d after a repeated opening, want %d", c.Queue, early+6)
	}
}

func enqueueN(t *testing.T, door *Entrance, n int) []string {
	var ids []string
	for i := 0; i < n; i++ {
		tk, err := door.Enqueue(context.Background(), "gig", "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tk.ID)
	}
	return ids
}

func engineSeconds(t *testing.T, e *Engine, clock *testenv.Clock, from time.Time, n int) {
	t.Helper()
	runSeconds(t, e, clock, from, n)
}

func TestEntryRefusedWhenClosed(t *testing.T) {
	r := waitroom.NewRoom("c", "C")
	r.Mode = waitroom.ModeClosed
	if err := EntryAllowed(r, t0); waitroom.ErrorCode(err) != waitroom.CodeConflict {
		t.Fatalf("closed mode: %v", err)
	}
	r.Mode = ""
	r.Schedule = waitroom.Schedule{OpensAt: t0, ClosesAt: t0.Add(time.Hour)}
	if err := EntryAllowed(r, t0.Add(30*time.Minute)); err != nil {
		t.Fatalf("open hours: %v", err)
	}
	if err := EntryAllowed(r, t0.Add(time.Hour)); waitroom.ErrorCode(err) != waitroom.CodeConflict {
		t.Fatalf("at closing time: %v", err)
	}
}
