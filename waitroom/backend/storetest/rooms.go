package storetest

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

func roomTests() []testCase {
	return []testCase{
		{"RoomCreateReadList", true, testRoomCreateReadList},
		{"RoomCreateConflict", true, testRoomCreateConflict},
		{"RoomValidation", true, testRoomValidation},
		{"RoomUpdate", true, testRoomUpdate},
		{"RoomDelete", true, testRoomDelete},
		{"InvalidAndUnknownRoom", true, testInvalidAndUnknownRoom},
		{"RoomUpdateClearsEveryOptionalField", true, testRoomUpdateClears},
		{"RoomConcurrentUpdatesLoseNothing", true, testRoomConcurrentUpdates},
	}
}

// fullRoom sets every optional setting of a room.
func fullRoom(r *waitroom.Room) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	r.Mode = waitroom.ModePassthrough
	r.SafetyNetThreshold = 50
	r.Inlet = waitroom.Inlet{Strategy: waitroom.StrategyPeriodic, Increment: 5, Interval: waitroom.Duration(time.Minute),
		Start: start, End: start.Add(time.Hour)}
	r.Schedule = waitroom.Schedule{OpensAt: start, Prequeue: waitroom.Duration(10 * time.Minute), ClosesAt: start.Add(2 * time.Hour)}
	r.HealthGate = &waitroom.HealthGate{URL: "https://shop.test/health", Interval: waitroom.Duration(5 * time.Second)}
	r.Webhooks = []waitroom.Webhook{{URL: "https://hooks.test/a", Secret: "0123456789abcdef", Events: []string{"admitted"}}}
	r.Branding = waitroom.Branding{Title: "Sale", AccentColor: "#123456", Messages: map[string]string{"en": "Doors at 9", "fr": "Ouverture à 9 h"}}
	r.Gate = &waitroom.Gate{Hosts: []string{"shop.test"}, Pass: []string{"/static/"}, Busy: []string{"/api/**"},
		RetryAfter: waitroom.Duration(10 * time.Second)}
}

// testRoomUpdateClears: an update that empties optional settings is what a
// later read (from this store and from another replica) returns.
func testRoomUpdateClears(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom(fullRoom)
	got, err := e.store.Room(e.ctx, r.ID)
	noErr(t, err)
	if got.HealthGate == nil || len(got.Webhooks) != 1 || got.Inlet.Increment != 5 || got.Schedule.OpensAt.IsZero() ||
		got.Branding.Title != "Sale" || got.Branding.Messages["fr"] != "Ouverture à 9 h" || got.Mode != waitroom.ModePassthrough || got.SafetyNetThreshold != 50 ||
		got.Gate == nil || got.Gate.Busy[0] != "/api/**" || got.Gate.RetryAfter.D() != 10*time.Second {
		t.Fatalf("full room read back as %+v", got)
	}
	_, err = e.store.UpdateRoom(e.ctx, r.ID, func(r *waitroom.Room) error {
		r.Policy = waitroom.Policy{}
		r.Branding = waitroom.Branding{}
		r.Gate = nil
		return nil
	})
	noErr(t, err)
	for name, st := range map[string]waitroom.Store{"same store": e.store, "another replica": e.anotherStore(t)} {
		got, err := st.Room(e.ctx, r.ID)
		noErr(t, err)
		if got.HealthGate != nil || len(got.Webhooks) != 0 || got.Inlet != (waitroom.Inlet{}) ||
			got.Schedule != (waitroom.Schedule{}) || !reflect.DeepEqual(got.Branding, waitroom.Branding{}) || got.Mode != "" ||
			got.SafetyNetThreshold != 0 || got.Gate != nil {
			t.Fatalf("%s: cleared settings read back as %+v", name, got)
		}
	}
}

// testRoomConcurrentUpdates: read-modify-write updates from many callers
// (two replicas where the backend has them) are applied one after the
// other: none is lost.
func testRoomConcurrentUpdates(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	stores := []waitroom.Store{e.store, e.anotherStore(t)}
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := stores[i%2].UpdateRoom(e.ctx, r.ID, func(r *waitroom.Room) error {
				r.Webhooks = append(r.Webhooks, waitroom.Webhook{URL: fmt.Sprintf("https://hooks.test/%d", i), Secret: "0123456789abcdef"})
				r.Inlet.PerMinute++
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := e.store.Room(e.ctx, r.ID)
	noErr(t, err)
	if len(got.Webhooks) != n || got.Inlet.PerMinute != n {
		t.Fatalf("after %d concurrent updates: %d webhooks, per_minute %d", n, len(got.Webhooks), got.Inlet.PerMinute)
	}
}

func testRoomCreateReadList(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r1 := e.newRoom(func(r *waitroom.Room) {
		r.ID = "b-room"
		r.AutoAdvance = true
		r.ExpiryPeriod = waitroom.Duration(90 * time.Second)
	})
	e.newRoom(func(r *waitroom.Room) { r.ID = "a-room" })
	got, err := e.store.Room(e.ctx, "b-room")
	noErr(t, err)
	if got.Name != r1.Name || !got.AutoAdvance || got.ExpiryPeriod != r1.ExpiryPeriod || !got.ExpiryEnabled ||
		got.TokenValidity != waitroom.Duration(waitroom.DefaultTokenValidity) || !got.CreatedAt.Equal(r1.CreatedAt) {
		t.Fatalf("Room = %+v, want %+v", got, r1)
	}
	rooms, err := e.svc.Rooms(e.ctx)
	noErr(t, err)
	if len(rooms) != 2 || rooms[0].ID != "a-room" || rooms[1].ID != "b-room" {
		t.Fatalf("Rooms = %+v, want a-room then b-room", rooms)
	}
	c := e.counters("b-room")
	if c != (waitroom.Counters{}) {
		t.Fatalf("new room counters = %+v, want zero", c)
	}
}

func testRoomCreateConflict(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	_, err := e.svc.CreateRoom(e.ctx, waitroom.NewRoom(r.ID, "again"))
	wantCode(t, err, waitroom.CodeConflict)
}

func testRoomValidation(t *testing.T, b Backend) {
	e := newEnv(t, b)
	bad := waitroom.NewRoom("bad id!", strings.Repeat("x", 201))
	bad.ExpiryPeriod = waitroom.Duration(-time.Second)
	_, err := e.svc.CreateRoom(e.ctx, bad)
	wantCode(t, err, waitroom.CodeInvalid)
	for _, field := range []string{"id", "name", "expiry_period"} {
		if !strings.Contains(waitroom.ErrorMessage(err), field) {
			t.Errorf("error %q does not name %s: every problem must be reported at once", err, field)
		}
	}
	rooms, err := e.svc.Rooms(e.ctx)
	noErr(t, err)
	if len(rooms) != 0 {
		t.Fatalf("invalid room was stored: %+v", rooms)
	}
}

func testRoomUpdate(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	e.clock.Advance(time.Minute)
	got, err := e.svc.UpdateRoom(e.ctx, r.ID, func(r *waitroom.Room) error { r.Name = "renamed"; r.AutoAdvance = true; return nil })
	noErr(t, err)
	if got.Name != "renamed" || !got.AutoAdvance || !got.UpdatedAt.After(r.UpdatedAt) {
		t.Fatalf("UpdateRoom = %+v", got)
	}
	_, err = e.svc.UpdateRoom(e.ctx, r.ID, func(r *waitroom.Room) error { r.TokenValidity = 0; return nil })
	wantCode(t, err, waitroom.CodeInvalid)
	_, err = e.svc.UpdateRoom(e.ctx, r.ID, func(r *waitroom.Room) error { r.ID = "other"; return nil })
	wantCode(t, err, waitroom.CodeInvalid)
	_, err = e.svc.UpdateRoom(e.ctx, r.ID, func(r *waitroom.Room) error { return waitroom.Errorf(waitroom.CodeConflict, "no") })
	wantCode(t, err, waitroom.CodeConflict)
	stored, err := e.store.Room(e.ctx, r.ID)
	noErr(t, err)
	if stored.Name != "renamed" || stored.TokenValidity.D() != waitroom.DefaultTokenValidity {
		t.Fatalf("failed updates changed the room: %+v", stored)
	}
	_, err = e.svc.UpdateRoom(e.ctx, "missing", func(*waitroom.Room) error { return nil })
	wantCode(t, err, waitroom.CodeNotFound)
}

func testRoomDelete(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	tk := e.enqueue(r.ID)
	e.setServing(r.ID, 1)
	e.issue(r.ID, tk.ID)
	noErr(t, e.svc.DeleteRoom(e.ctx, r.ID))
	_, err := e.svc.Room(e.ctx, r.ID)
	wantCode(t, err, waitroom.CodeNotFound)
	_, err = e.svc.Enqueue(e.ctx, r.ID, "")
	wantCode(t, err, waitroom.CodeNotFound)
	wantCode(t, e.svc.DeleteRoom(e.ctx, r.ID), waitroom.CodeNotFound)

	// A room created again under the same id starts empty.
	e.newRoom(func(n *waitroom.Room) { n.ID = r.ID })
	_, err = e.svc.Ticket(e.ctx, r.ID, tk.ID)
	wantCode(t, err, waitroom.CodeNotFound)
	_, err = e.store.Token(e.ctx, r.ID, tk.ID)
	wantCode(t, err, waitroom.CodeNotFound)
	if c := e.counters(r.ID); c.Queue != 0 || c.Serving != 0 || c.Tokens != 0 {
		t.Fatalf("recreated room counters = %+v, want zero", c)
	}
	if got := e.enqueue(r.ID); got.Position != 1 {
		t.Fatalf("first position in recreated room = %d, want 1", got.Position)
	}
}

// testInvalidAndUnknownRoom checks that every Service call validates the
// room id first and reports an unknown room as not found.
func testInvalidAndUnknownRoom(t *testing.T, b Backend) {
	e := newEnv(t, b)
	id := "6f1c1a8e-3f3c-4a5e-9d55-2d1f0f4b7a10"
	calls := map[string]func(room string) error{
		"Room":           func(r string) error { _, err := e.svc.Room(e.ctx, r); return err },
		"Enqueue":        func(r string) error { _, err := e.svc.Enqueue(e.ctx, r, ""); return err },
		"Ticket":         func(r string) error { _, err := e.svc.Ticket(e.ctx, r, id); return err },
		"Serving":        func(r string) error { _, err := e.svc.Serving(e.ctx, r); return err },
		"Waiting":        func(r string) error { _, err := e.svc.Waiting(e.ctx, r); return err },
		"Counters":       func(r string) error { _, err := e.svc.Counters(e.ctx, r); return err },
		"AdvanceServing": func(r string) error { _, err := e.svc.AdvanceServing(e.ctx, r, 1); return err },
		"SetServing":     func(r string) error { _, err := e.svc.SetServing(e.ctx, r, 1); return err },
		"IssueToken":     func(r string) error { _, err := e.svc.IssueToken(e.ctx, r, id, "", 0); return err },
		"QueuePositionExpiry": func(r string) error {
			_, err := e.svc.QueuePositionExpiry(e.ctx, r, id)
			return err
		},
		"UpdateSession": func(r string) error { return e.svc.UpdateSession(e.ctx, r, id, waitroom.SessionCompleted) },
		"ActiveTokens":  func(r string) error { _, err := e.svc.ActiveTokens(e.ctx, r); return err },
		"ExpiredTokens": func(r string) error { _, _, err := e.svc.ExpiredTokens(e.ctx, r, "", 10); return err },
		"Reset":         func(r string) error { return e.svc.Reset(e.ctx, r) },
		"ExpireRoom":    func(r string) error { _, err := e.svc.ExpireRoom(e.ctx, r); return err },
		"DeleteRoom":    func(r string) error { return e.svc.DeleteRoom(e.ctx, r) },
	}
	for name, call := range calls {
		wantCodeNamed(t, name+" invalid room", call("bad room/id"), waitroom.CodeInvalid)
		wantCodeNamed(t, name+" unknown room", call("no-such-room"), waitroom.CodeNotFound)
	}
}

func wantCodeNamed(t *testing.T, what string, err error, code waitroom.Code) {
	t.Helper()
	if got := waitroom.ErrorCode(err); err == nil || got != code {
		t.Errorf("%s: got %v, want code %s", what, err, code)
	}
}
