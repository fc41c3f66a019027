package storetest

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

func queueTests() []testCase {
	return []testCase{
		{"EnqueueAndTicket", true, testEnqueueAndTicket},
		{"TicketErrors", true, testTicketErrors},
		{"IdempotentEnqueue", true, testIdempotentEnqueue},
		{"ServingCounter", true, testServingCounter},
		{"ServingCounterBound", true, testServingCounterBound},
		{"ServingHistory", true, testServingHistory},
		{"WaitingNum", true, testWaitingNum},
		{"ResetForgetsGeneration", true, testResetForgetsGeneration},
		{"TicketLookupCache", true, testTicketLookupCache},
		{"TicketLookupCacheRoomRecreated", true, testTicketLookupCacheRoomRecreated},
	}
}

func testEnqueueAndTicket(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	for want := int64(1); want <= 5; want++ {
		e.clock.Advance(time.Second)
		tk := e.enqueue(r.ID)
		if tk.Position != want || tk.Room != r.ID || tk.Status != waitroom.TicketAssigned || !tk.EntryTime.Equal(e.clock.Now()) {
			t.Fatalf("Enqueue #%d = %+v", want, tk)
		}
		got, err := e.svc.Ticket(e.ctx, r.ID, tk.ID)
		noErr(t, err)
		if got.ID != tk.ID || got.Position != want || !got.EntryTime.Equal(tk.EntryTime) || got.Status != waitroom.TicketAssigned {
			t.Fatalf("Ticket = %+v, want %+v", got, tk)
		}
		// Ids are accepted in any case and answered in canonical form.
		up, err := e.svc.Ticket(e.ctx, r.ID, strings.ToUpper(tk.ID))
		noErr(t, err)
		if up.ID != tk.ID {
			t.Fatalf("upper-case lookup id = %q, want %q", up.ID, tk.ID)
		}
	}
	if c := e.counters(r.ID); c.Queue != 5 {
		t.Fatalf("queue counter = %d, want 5", c.Queue)
	}
}

func testTicketErrors(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	other := e.newRoom()
	tk := e.enqueue(r.ID)
	_, err := e.svc.Ticket(e.ctx, r.ID, "4b1f7a1e-0000-4000-8000-000000000000")
	wantCode(t, err, waitroom.CodeNotFound)
	_, err = e.svc.Ticket(e.ctx, other.ID, tk.ID)
	wantCode(t, err, waitroom.CodeNotFound)
	for _, bad := range []string{"", "1", "not-a-uuid", "{" + tk.ID + "}", "urn:uuid:" + tk.ID, tk.ID + "x"} {
		_, err = e.svc.Ticket(e.ctx, r.ID, bad)
		wantCode(t, err, waitroom.CodeInvalid)
	}
	_, err = e.svc.Enqueue(e.ctx, r.ID, strings.Repeat("k", 201))
	wantCode(t, err, waitroom.CodeInvalid)
	if c := e.counters(r.ID); c.Queue != 1 {
		t.Fatalf("rejected calls changed the queue counter: %d", c.Queue)
	}
}

func testIdempotentEnqueue(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	first, err := e.svc.Enqueue(e.ctx, r.ID, "browser-1")
	noErr(t, err)
	again, err := e.svc.Enqueue(e.ctx, r.ID, "browser-1")
	noErr(t, err)
	if again.ID != first.ID || again.Position != first.Position {
		t.Fatalf("same key gave %+v, then %+v", first, again)
	}
	_, created, err := e.store.Enqueue(e.ctx, r.ID, waitroom.NewTicket{ID: "9a1f7a1e-0000-4000-8000-000000000001", EntryTime: e.clock.Now(), Key: "browser-1"})
	noErr(t, err)
	if created {
		t.Fatal("store Enqueue with a known key reported created=true")
	}
	second, err := e.svc.Enqueue(e.ctx, r.ID, "browser-2")
	noErr(t, err)
	if second.Position != first.Position+1 {
		t.Fatalf("key reuse consumed a position: next position %d after %d", second.Position, first.Position)
	}
	if c := e.counters(r.ID); c.Queue != 2 {
		t.Fatalf("queue counter = %d, want 2", c.Queue)
	}
	// The same key in another room is another ticket.
	o := e.newRoom()
	inOther, err := e.svc.Enqueue(e.ctx, o.ID, "browser-1")
	noErr(t, err)
	if inOther.ID == first.ID {
		t.Fatal("idempotency key leaked across rooms")
	}
}

func testServingCounter(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	v, err := e.svc.AdvanceServing(e.ctx, r.ID, 5)
	noErr(t, err)
	if v != 5 {
		t.Fatalf("AdvanceServing(5) = %d", v)
	}
	e.clock.Advance(time.Second)
	v, err = e.svc.AdvanceServing(e.ctx, r.ID, -8)
	noErr(t, err)
	if v != 0 {
		t.Fatalf("AdvanceServing(-8) from 5 = %d, want clamp at 0", v)
	}
	rows, err := e.store.ServingHistory(e.ctx, r.ID, -1, 10)
	noErr(t, err)
	if len(rows) != 2 || rows[0].Serving != 0 || !rows[0].IssuedAt.Equal(e.clock.Now()) || rows[1].Serving != 5 {
		t.Fatalf("history after +5, -8 = %+v, want rows 0 (now) and 5", rows)
	}
	v, err = e.svc.SetServing(e.ctx, r.ID, 42)
	noErr(t, err)
	got, err := e.svc.Serving(e.ctx, r.ID)
	noErr(t, err)
	if v != 42 || got != 42 {
		t.Fatalf("SetServing(42) = %d, Serving = %d", v, got)
	}
	_, err = e.svc.SetServing(e.ctx, r.ID, -1)
	wantCode(t, err, waitroom.CodeInvalid)
	_, err = e.store.SetServing(e.ctx, r.ID, -1, e.clock.Now())
	wantCode(t, err, waitroom.CodeInvalid)
	if got, _ := e.svc.Serving(e.ctx, r.ID); got != 42 {
		t.Fatalf("rejected SetServing changed the counter to %d", got)
	}
}

func testServingHistory(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	t0 := e.clock.Now()
	for _, v := range []int64{10, 10, 30, 20, 30, 40} {
		e.setServing(r.ID, v)
		e.clock.Advance(time.Second)
	}
	rows, err := e.store.ServingHistory(e.ctx, r.ID, 0, 10)
	noErr(t, err)
	want := []struct {
		v  int64
		at time.Time
	}{{10, t0}, {20, t0.Add(3 * time.Second)}, {30, t0.Add(2 * time.Second)}, {40, t0.Add(5 * time.Second)}}
	if len(rows) != len(want) {
		t.Fatalf("history = %+v, want %d rows", rows, len(want))
	}
	for i, w := range want {
		if rows[i].Serving != w.v || !rows[i].IssuedAt.Equal(w.at) {
			t.Fatalf("row %d = %+v, want value %d at %v (equal values keep the earliest)", i, rows[i], w.v, w.at)
		}
	}
	page, err := e.store.ServingHistory(e.ctx, r.ID, 10, 2)
	noErr(t, err)
	if len(page) != 2 || page[0].Serving != 20 || page[1].Serving != 30 {
		t.Fatalf("ServingHistory(above 10, limit 2) = %+v", page)
	}
	rec, found, err := e.store.ServingRecordAtOrAbove(e.ctx, r.ID, 11)
	noErr(t, err)
	if !found || rec.Serving != 20 {
		t.Fatalf("ServingRecordAtOrAbove(11) = %+v, %v; want the row 20", rec, found)
	}
	rec, found, err = e.store.ServingRecordAtOrAbove(e.ctx, r.ID, 30)
	noErr(t, err)
	if !found || rec.Serving != 30 || !rec.IssuedAt.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("ServingRecordAtOrAbove(30) = %+v, %v", rec, found)
	}
	_, found, err = e.store.ServingRecordAtOrAbove(e.ctx, r.ID, 41)
	noErr(t, err)
	if found {
		t.Fatal("ServingRecordAtOrAbove above every row found one")
	}
}

func testWaitingNum(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	tks := e.enqueueN(r.ID, 6)
	e.setServing(r.ID, 3)
	e.issue(r.ID, tks[0].ID)
	e.issue(r.ID, tks[1].ID)
	w, err := e.svc.Waiting(e.ctx, r.ID)
	noErr(t, err)
	if w != 4 {
		t.Fatalf("waiting = %d, want 6 - 2 tokens = 4", w)
	}
}

func testResetForgetsGeneration(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	tks := e.enqueueN(r.ID, 3)
	_, err := e.svc.Enqueue(e.ctx, r.ID, "kept-key")
	noErr(t, err)
	e.setServing(r.ID, 2)
	e.issue(r.ID, tks[0].ID)
	noErr(t, e.svc.UpdateSession(e.ctx, r.ID, tks[0].ID, waitroom.SessionCompleted))
	before := e.counters(r.ID)
	noErr(t, e.svc.Reset(e.ctx, r.ID))
	c := e.counters(r.ID)
	if c.Generation <= before.Generation || c.Queue+c.Serving+c.Tokens+c.Expired+c.Completed+c.Abandoned+c.MaxExpired != 0 {
		t.Fatalf("counters after reset = %+v", c)
	}
	_, err = e.svc.Ticket(e.ctx, r.ID, tks[1].ID)
	wantCode(t, err, waitroom.CodeNotFound)
	_, err = e.store.Token(e.ctx, r.ID, tks[0].ID)
	wantCode(t, err, waitroom.CodeNotFound)
	_, err = e.svc.IssueToken(e.ctx, r.ID, tks[0].ID, "", 0)
	wantCode(t, err, waitroom.CodeNotFound)
	rows, err := e.store.ServingHistory(e.ctx, r.ID, -1, 10)
	noErr(t, err)
	if len(rows) != 0 {
		t.Fatalf("history survived the reset: %+v", rows)
	}
	n, err := e.svc.ActiveTokens(e.ctx, r.ID)
	noErr(t, err)
	if n != 0 {
		t.Fatalf("active tokens after reset = %d", n)
	}
	again, err := e.svc.Enqueue(e.ctx, r.ID, "kept-key")
	noErr(t, err)
	if again.Position != 1 {
		t.Fatalf("first position after reset = %d, want 1 (old keys are forgotten)", again.Position)
	}
}

// testServingCounterBound: no step, however large, overflows the counter:
// passing waitroom.MaxServing is refused and changes nothing, through the
// service and the store alike; reaching it exactly is allowed.
func testServingCounterBound(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	noErr(t, firstErr(e.svc.AdvanceServing(e.ctx, r.ID, 7)))
	for _, by := range []int64{math.MaxInt64, math.MaxInt64 - 6, waitroom.MaxServing - 6} {
		_, err := e.svc.AdvanceServing(e.ctx, r.ID, by)
		wantCode(t, err, waitroom.CodeInvalid)
		_, err = e.store.AdvanceServing(e.ctx, r.ID, by, e.clock.Now())
		wantCode(t, err, waitroom.CodeInvalid)
	}
	for _, v := range []int64{math.MaxInt64, waitroom.MaxServing + 1} {
		_, err := e.svc.SetServing(e.ctx, r.ID, v)
		wantCode(t, err, waitroom.CodeInvalid)
		_, err = e.store.SetServing(e.ctx, r.ID, v, e.clock.Now())
		wantCode(t, err, waitroom.CodeInvalid)
	}
	if got, _ := e.svc.Serving(e.ctx, r.ID); got != 7 {
		t.Fatalf("refused moves changed the counter to %d, want 7", got)
	}
	v, err := e.svc.AdvanceServing(e.ctx, r.ID, waitroom.MaxServing-7)
	noErr(t, err)
	if v != waitroom.MaxServing {
		t.Fatalf("AdvanceServing to the bound = %d, want %d", v, waitroom.MaxServing)
	}
	if v, err = e.svc.AdvanceServing(e.ctx, r.ID, math.MinInt64); err != nil || v != 0 {
		t.Fatalf("AdvanceServing(MinInt64) = %d, %v; want clamp at 0", v, err)
	}
	_, err = e.store.AdvanceServing(e.ctx, "no-such-room", math.MaxInt64, e.clock.Now())
	wantCode(t, err, waitroom.CodeNotFound)
}

func firstErr(_ int64, err error) error { return err }
