package admission

import (
	"context"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/backendtest"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

func TestGuardedRecordsVisitorEvents(t *testing.T) {
	ctx := context.Background()
	clock := testenv.NewClock(t0)
	en := envOf(t, backendtest.Embedded(t, clock.Now), clock.Now, 10000)
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

// TestGuardedAdmitInPrequeue: the OpenID flow asking to admit a pre-queue
// arrival hears "not served yet", and after opening gets its token record
// with the admitted event.
func TestGuardedAdmitInPrequeue(t *testing.T) {
	ctx := context.Background()
	opens := t0.Add(time.Hour)
	clock := testenv.NewClock(t0.Add(30 * time.Minute))
	en := envOf(t, backendtest.Embedded(t, clock.Now), clock.Now, 10000)
	room := waitroom.NewRoom("pq", "PQ")
	room.Schedule = waitroom.Schedule{OpensAt: opens, Prequeue: waitroom.Duration(time.Hour)}
	room.Webhooks = []waitroom.Webhook{{URL: "https://hooks.example/x", Secret: "0123456789abcdef"}}
	if _, err := en.svc.CreateRoom(ctx, room); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	pre := NewPrequeue(en.prequeue, en.store, clock.Now)
	g := NewGuarded(en.svc, NewEntrance(en.svc, pre, clock.Now), rec, clock.Now)
	tk, err := g.Enqueue(ctx, "pq", "browser-cookie-1")
	if err != nil || tk.Position != 0 {
		t.Fatalf("pre-queue enqueue: %+v %v", tk, err)
	}
	if again, _ := g.Enqueue(ctx, "pq", "browser-cookie-1"); again.ID != tk.ID {
		t.Fatal("a refresh in the pre-queue lost the entry")
	}
	if _, err := g.Admit(ctx, "pq", tk.ID, "https://wr.example"); waitroom.ErrorCode(err) != waitroom.CodeNotServed {
		t.Fatalf("admit in the pre-queue: %v, want not_served", err)
	}
	clock.Set(opens)
	if _, err := pre.Open(ctx, room, opens); err != nil {
		t.Fatal(err)
	}
	after, err := g.Enqueue(ctx, "pq", "browser-cookie-1")
	if err != nil || after.ID != tk.ID || after.Position != 1 {
		t.Fatalf("after opening the same browser gets %+v (%v), want its entry at position 1", after, err)
	}
	g.AdvanceServing(ctx, "pq", 1)
	recd, err := g.Admit(ctx, "pq", tk.ID, "https://wr.example")
	if err != nil || recd.Position != 1 {
		t.Fatalf("admit after opening: %+v %v", recd, err)
	}
	if last := rec.events[len(rec.events)-1]; last != "admitted" {
		t.Fatalf("events %v", rec.events)
	}
}

// TestGuardedAdmitEvents: the OpenID flow's admission is recorded as
// token_generated once (first admission only) and admitted every time.
func TestGuardedAdmitEvents(t *testing.T) {
	ctx := context.Background()
	clock := testenv.NewClock(t0)
	en := envOf(t, backendtest.Embedded(t, clock.Now), clock.Now, 10000)
	room := waitroom.NewRoom("ad", "Admit")
	room.Webhooks = []waitroom.Webhook{{URL: "https://hooks.example/x", Secret: "0123456789abcdef"}}
	if _, err := en.svc.CreateRoom(ctx, room); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	g := NewGuarded(en.svc, NewEntrance(en.svc, nil, clock.Now), rec, clock.Now)
	tk, err := g.Enqueue(ctx, "ad", "")
	if err != nil {
		t.Fatal(err)
	}
	g.AdvanceServing(ctx, "ad", 1)
	first, err := g.Admit(ctx, "ad", tk.ID, "https://wr.example")
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(t0.Add(5 * time.Second))
	again, err := g.Admit(ctx, "ad", tk.ID, "https://wr.example")
	if err != nil || !again.IssuedAt.Equal(first.IssuedAt) {
		t.Fatalf("repeat Admit = %+v, %v; first %+v", again, err, first)
	}
	want := []string{"ticket_created", "token_generated", "admitted", "admitted"}
	if len(rec.events) != len(want) {
		t.Fatalf("events %v, want %v", rec.events, want)
	}
	for i := range want {
		if rec.events[i] != want[i] {
			t.Fatalf("events %v, want %v", rec.events, want)
		}
	}
	if rec.data[1]["request_id"] != tk.ID || rec.data[1]["issuer"] != "https://wr.example" {
		t.Fatalf("token_generated payload %v", rec.data[1])
	}
}
