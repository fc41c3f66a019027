package embedded_test

import (
	"context"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/embedded"
)

// A visitor's ticket and token answer until ServedRetention after the
// token expired; after that the request id is unknown, its idempotency key
// takes a new place, and the room's counters are untouched.
func TestForgetsVisitorsLongAfterTheirTokenExpired(t *testing.T) {
	ctx := context.Background()
	b, err := embedded.Open(embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := b.Store
	if err := s.CreateRoom(ctx, waitroom.NewRoom("r", "R")); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	const validity = time.Hour
	issue := func(id, key string, at time.Time) waitroom.Ticket {
		t.Helper()
		tk, _, err := s.Enqueue(ctx, "r", waitroom.NewTicket{ID: id, EntryTime: at, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateToken(ctx, waitroom.TokenRecord{Room: "r", RequestID: id, Position: tk.Position,
			IssuedAt: at, NotBefore: at, ExpiresAt: at.Add(validity)}); err != nil {
			t.Fatal(err)
		}
		return tk
	}
	first := issue("a", "key-a", t0)

	// Just inside the retention: still known.
	issue("b", "", t0.Add(validity+embedded.ServedRetention-time.Second))
	if _, err := s.Ticket(ctx, "r", "a"); err != nil {
		t.Fatalf("ticket dropped inside the retention: %v", err)
	}
	// Past it: forgotten, the later one kept.
	issue("c", "", t0.Add(validity+embedded.ServedRetention+time.Minute))
	for _, id := range []string{"a"} {
		if _, err := s.Ticket(ctx, "r", id); waitroom.ErrorCode(err) != waitroom.CodeNotFound {
			t.Errorf("ticket %s: %v, want not found", id, err)
		}
		if _, err := s.Token(ctx, "r", id); waitroom.ErrorCode(err) != waitroom.CodeNotFound {
			t.Errorf("token %s: %v, want not found", id, err)
		}
	}
	for _, id := range []string{"b", "c"} {
		if _, err := s.Token(ctx, "r", id); err != nil {
			t.Errorf("token %s dropped too early: %v", id, err)
		}
	}
	// The key of a forgotten ticket takes a new place, not a zero ticket.
	again, created, err := s.Enqueue(ctx, "r", waitroom.NewTicket{ID: "a2", EntryTime: t0.Add(3 * time.Hour), Key: "key-a"})
	if err != nil || !created || again.Position != 4 || again.ID != "a2" {
		t.Errorf("enqueue with a forgotten key: %+v created=%v err=%v, want a new ticket at position 4", again, created, err)
	}
	c, err := s.Counters(ctx, "r")
	if err != nil || c.Queue != 4 || c.Tokens != 3 {
		t.Errorf("counters %+v (%v): want queue 4, tokens 3", c, err)
	}
	// Positions that took a token still count for the expiry job.
	if n, err := s.CountTokens(ctx, "r", 0, 3); err != nil || n != 3 {
		t.Errorf("CountTokens = %d, %v; want 3", n, err)
	}
	if at, ok, err := s.EntryTimeAt(ctx, "r", first.Position); err != nil || !ok || !at.Equal(t0) {
		t.Errorf("EntryTimeAt(1) = %v %v %v, want %v", at, ok, err, t0)
	}
}
