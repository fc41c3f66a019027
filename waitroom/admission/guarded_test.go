package admission

import (
	"context"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

func TestGuardedRecordsVisitorEvents(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: t0}
	en := openEmbedded(t, clock.Now)
	room := waitroom.NewRoom("ev", "Events")
	room.Webhooks = []waitroom.Webhook{{URL: "https://hooks.example/x", Secret: "0123456789abcdef"}}
	if _, err := en.svc.CreateRoom(ctx, room); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	g := NewGuarded(en.svc, NewEntrance(en.svc, nil, clock.Now), rec, clock.Now)
	tk, err := g.Enqueue(ctx, "ev", "")
	if err != nil {
		t.Fatal(err)
	}
	g.AdvanceServing(ctx, "ev", 1)
	if _, err := g.IssueToken(ctx, "ev", tk.ID, "https://wr.example", 0); err != nil {
		t.Fatal(err)
	}
	clock.Set(t0.Add(5 * time.Second))
	if _, err := g.IssueToken(ctx, "ev", tk.ID, "https://wr.example", 0); err != nil {
		t.Fatal(err)
	}
	if err := g.UpdateSession(ctx, "ev", tk.ID, waitroom.SessionCompleted); err != nil {
		t.Fatal(err)
	}
	if err := g.UpdateSession(ctx, "ev", tk.ID, waitroom.SessionCompleted); err == nil {
		t.Fatal("second session update accepted")
	}
	want := []string{"ticket_created", "token_generated", "session_updated"}
	if len(rec.events) != len(want) {
		t.Fatalf("events %v, want %v", rec.events, want)
	}
	for i := range want {
		if rec.events[i] != want[i] {
			t.Fatalf("events %v, want %v", rec.events, want)
		}
	}
	if rec.data[0]["request_id"] != tk.ID || rec.data[2]["status"] != 1 {
		t.Fatalf("payloads %v", rec.data)
	}
	en.svc.UpdateRoom(ctx, "ev", func(r *waitroom.Room) error { r.Mode = waitroom.ModeClosed; return nil })
	if _, err := g.Enqueue(ctx, "ev", ""); waitroom.ErrorCode(err) != waitroom.CodeConflict {
		t.Fatalf("enqueue into a closed room: %v", err)
	}
}
