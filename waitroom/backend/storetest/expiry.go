package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

func expiryTests() []testCase {
	return []testCase{
		{"QueuePositionExpiry", true, testQueuePositionExpiry},
		{"ExpiryAWSWorkedExample", true, testExpiryAWSExample},
		{"ExpiryWalksGapsAndEqualRows", true, testExpiryGaps},
		{"ExpiryLateEntrantsKeepTheirClock", true, testExpiryLateEntrants},
		{"ExpiryTwoProcessesApplyOnce", true, testExpiryTwoProcesses},
		{"ExpiryFirstPassOfANewProcess", true, testExpiryFirstPass},
		{"EntryTimeAt", true, testEntryTimeAt},
		{"MarkExpiredConditional", true, testMarkExpiredConditional},
	}
}

func expiryRoom(period time.Duration, auto bool) func(*waitroom.Room) {
	return func(r *waitroom.Room) {
		r.ExpiryPeriod = waitroom.Duration(period)
		r.AutoAdvance = auto
	}
}

func (e *env) expire(room string) waitroom.ExpiryResult {
	e.t.Helper()
	res, err := e.svc.ExpireRoom(e.ctx, room)
	if err != nil {
		e.t.Fatalf("ExpireRoom: %v", err)
	}
	return res
}

func testQueuePositionExpiry(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom(expiryRoom(100*time.Second, false))
	off := e.newRoom(func(r *waitroom.Room) { r.ExpiryEnabled = false })
	tks := e.enqueueN(r.ID, 3)
	offTk := e.enqueue(off.ID)
	_, err := e.svc.QueuePositionExpiry(e.ctx, off.ID, offTk.ID)
	wantCode(t, err, waitroom.CodeExpiryDisabled)
	_, err = e.svc.QueuePositionExpiry(e.ctx, r.ID, tks[0].ID)
	wantCode(t, err, waitroom.CodeNotServed)
	_, err = e.svc.QueuePositionExpiry(e.ctx, r.ID, "4b1f7a1e-0000-4000-8000-000000000000")
	wantCode(t, err, waitroom.CodeNotFound)

	e.clock.Advance(30 * time.Second)
	e.setServing(r.ID, 2) // the clock of positions 1-2 starts now, not at entry
	e.clock.Advance(40 * time.Second)
	left, err := e.svc.QueuePositionExpiry(e.ctx, r.ID, tks[1].ID)
	noErr(t, err)
	if left != 60*time.Second {
		t.Fatalf("expires_in = %v, want 60s", left)
	}
	e.issue(r.ID, tks[0].ID)
	e.clock.Advance(61 * time.Second)
	_, err = e.svc.QueuePositionExpiry(e.ctx, r.ID, tks[1].ID)
	wantCode(t, err, waitroom.CodeExpired)
	// With a token, the answer is the token's time left, never "expired".
	left, err = e.svc.QueuePositionExpiry(e.ctx, r.ID, tks[0].ID)
	noErr(t, err)
	if want := time.Hour - 61*time.Second; left != want {
		t.Fatalf("expires_in with a token = %v, want %v", left, want)
	}
}

// testExpiryAWSExample is the worked example of the expiry algorithm's
// original tests: rows (10, served 8) and (25, served 11), nothing expired
// before, period 100 s, both old: MaxExpired 25, serving advanced by 2 + 4.
func testExpiryAWSExample(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom(expiryRoom(100*time.Second, true))
	tks := e.enqueueN(r.ID, 30)
	e.setServing(r.ID, 10)
	for _, tk := range tks[:8] {
		e.issue(r.ID, tk.ID)
	}
	e.clock.Advance(time.Second)
	e.setServing(r.ID, 25)
	for _, tk := range tks[10:21] {
		e.issue(r.ID, tk.ID)
	}
	if res := e.expire(r.ID); res.Steps != 0 {
		t.Fatalf("pass with fresh rows did %+v", res)
	}
	e.clock.Advance(200 * time.Second)
	res := e.expire(r.ID)
	if res.MaxExpired != 25 || res.Expired != 6 || res.Advanced != 6 || res.Steps != 2 {
		t.Fatalf("ExpireRoom = %+v, want max expired 25, 6 expired, advanced 6 in 2 steps", res)
	}
	c := e.counters(r.ID)
	if c.MaxExpired != 25 || c.Expired != 6 || c.Serving != 31 || c.Tokens != 19 {
		t.Fatalf("counters = %+v, want max expired 25, expired 6, serving 31, tokens 19", c)
	}
	if w := c.Waiting(); w != 30-19-6 {
		t.Fatalf("waiting = %d", w)
	}
	_, err := e.svc.IssueToken(e.ctx, r.ID, tks[9].ID, "", 0)
	wantCode(t, err, waitroom.CodeExpired)
	if res := e.expire(r.ID); res.Steps != 0 {
		t.Fatalf("second pass applied again: %+v", res)
	}
}

// testExpiryGaps: rows far apart, rows of equal value and a drop back down
// do not stall the job.
func testExpiryGaps(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom(expiryRoom(100*time.Second, false))
	tks := e.enqueueN(r.ID, 60)
	e.setServing(r.ID, 3)
	e.setServing(r.ID, 3)
	e.setServing(r.ID, 50) // a jump: no rows for 4..49
	_, err := e.svc.AdvanceServing(e.ctx, r.ID, -10)
	noErr(t, err)
	e.issue(r.ID, tks[0].ID)
	e.issue(r.ID, tks[39].ID)
	e.clock.Advance(101 * time.Second)
	res := e.expire(r.ID)
	if res.MaxExpired != 50 || res.Expired != 48 || res.Advanced != 0 {
		t.Fatalf("ExpireRoom = %+v, want max expired 50 and 48 expired", res)
	}
	if c := e.counters(r.ID); c.Serving != 40 || c.Expired != 48 {
		t.Fatalf("counters = %+v: without auto advance serving stays", c)
	}
}

// testExpiryLateEntrants: when the serving counter ran ahead of the queue,
// people who arrive later start their clock at entry; an old history row
// must not expire them on arrival.
func testExpiryLateEntrants(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom(expiryRoom(100*time.Second, false))
	e.expire(r.ID)
	e.setServing(r.ID, 100) // doors open, nobody there yet
	e.clock.Advance(500 * time.Second)
	tks := e.enqueueN(r.ID, 5)
	e.clock.Advance(10 * time.Second)
	if res := e.expire(r.ID); res.Expired != 0 || res.MaxExpired != 0 {
		t.Fatalf("fresh arrivals expired: %+v", res)
	}
	e.issue(r.ID, tks[0].ID)
	// Later, their own clocks have run out one period after their entry,
	// and they expire (up to the queue, no further).
	e.clock.Advance(200 * time.Second)
	res := e.expire(r.ID)
	if res.MaxExpired != 5 || res.Expired != 4 {
		t.Fatalf("ExpireRoom = %+v, want positions 2-5 expired, nothing beyond the queue", res)
	}
}

func testExpiryTwoProcesses(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom(expiryRoom(100*time.Second, true))
	e.enqueueN(r.ID, 40)
	svcs := []*waitroom.Service{e.svc, e.another(t), e.another(t)}
	for _, s := range svcs {
		_, err := s.ExpireRoom(e.ctx, r.ID)
		noErr(t, err)
	}
	for v := int64(5); v <= 30; v += 5 {
		e.setServing(r.ID, v)
	}
	e.clock.Advance(101 * time.Second)
	var wg sync.WaitGroup
	for _, s := range svcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.ExpireRoom(e.ctx, r.ID)
			noErr(t, err)
		}()
	}
	wg.Wait()
	if c := e.counters(r.ID); c.MaxExpired != 30 || c.Expired != 30 || c.Serving != 60 {
		t.Fatalf("counters = %+v, want every step applied exactly once (expired 30, serving 60)", c)
	}
}

func testMarkExpiredConditional(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	e.enqueueN(r.ID, 10)
	e.setServing(r.ID, 10)
	gen := e.counters(r.ID).Generation
	at := e.clock.Now().Add(time.Second)
	ok, err := e.store.MarkExpired(e.ctx, r.ID, gen, 10, 4, 4, at)
	noErr(t, err)
	if !ok {
		t.Fatal("first MarkExpired not applied")
	}
	for _, again := range []struct{ gen, max int64 }{{gen, 10}, {gen, 8}, {gen + 1, 12}} {
		ok, err = e.anotherStore(t).MarkExpired(e.ctx, r.ID, again.gen, again.max, 4, 4, at)
		noErr(t, err)
		if ok {
			t.Fatalf("MarkExpired(gen %d, max %d) applied a second time", again.gen, again.max)
		}
	}
	c := e.counters(r.ID)
	if c.MaxExpired != 10 || c.Expired != 4 || c.Serving != 14 {
		t.Fatalf("counters = %+v", c)
	}
	rec, found, err := e.store.ServingRecordAtOrAbove(e.ctx, r.ID, 14)
	noErr(t, err)
	if !found || rec.Serving != 14 || !rec.IssuedAt.Equal(at) {
		t.Fatalf("the advance was not recorded in the history: %+v %v", rec, found)
	}
}

// testExpiryFirstPass: the evidence of entry is durable, so a process that
// never watched the room (a restart, a new leader) expires on its first
// pass, and still spares positions that entered less than a period ago.
func testExpiryFirstPass(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom(expiryRoom(100*time.Second, false))
	e.enqueueN(r.ID, 6)
	e.setServing(r.ID, 10) // serving runs ahead of the queue
	e.clock.Advance(50 * time.Second)
	e.enqueueN(r.ID, 4)               // positions 7-10 enter 50 s after the row
	e.clock.Advance(10 * time.Second) // row and positions 1-6 60 s old
	fresh := e.another(t)
	res, err := fresh.ExpireRoom(e.ctx, r.ID)
	noErr(t, err)
	if res.MaxExpired != 0 || res.Steps != 0 {
		t.Fatalf("a row younger than the period was applied: %+v", res)
	}
	e.clock.Advance(45 * time.Second) // row and 1-6 105 s old; 7-10 only 55 s
	res, err = e.another(t).ExpireRoom(e.ctx, r.ID)
	noErr(t, err)
	if res.MaxExpired != 6 || res.Expired != 6 {
		t.Fatalf("first pass of a new process = %+v, want positions 1-6 expired and 7-10 spared", res)
	}
	e.clock.Advance(46 * time.Second) // 7-10 101 s old
	res, err = e.another(t).ExpireRoom(e.ctx, r.ID)
	noErr(t, err)
	if res.MaxExpired != 10 || res.Expired != 4 {
		t.Fatalf("next pass = %+v, want positions 7-10 expired", res)
	}
}

// testEntryTimeAt: the entry time of the ticket at a position, current
// generation only.
func testEntryTimeAt(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	var tks []waitroom.Ticket
	for range 3 {
		tks = append(tks, e.enqueue(r.ID))
		e.clock.Advance(7 * time.Second)
	}
	for _, tk := range tks {
		stored, err := e.store.Ticket(e.ctx, r.ID, tk.ID)
		noErr(t, err)
		at, found, err := e.store.EntryTimeAt(e.ctx, r.ID, tk.Position)
		noErr(t, err)
		if !found || !at.Equal(stored.EntryTime) {
			t.Fatalf("EntryTimeAt(%d) = %v, %v; the ticket entered at %v", tk.Position, at, found, stored.EntryTime)
		}
	}
	if at, _, _ := e.store.EntryTimeAt(e.ctx, r.ID, 3); !at.After(tks[0].EntryTime) {
		t.Fatalf("position 3 entered at %v, not after position 1 (%v)", at, tks[0].EntryTime)
	}
	for _, p := range []int64{0, 4, 1 << 40} {
		if _, found, err := e.store.EntryTimeAt(e.ctx, r.ID, p); err != nil || found {
			t.Fatalf("EntryTimeAt(%d) = found %v, %v; want not found", p, found, err)
		}
	}
	noErr(t, e.svc.Reset(e.ctx, r.ID))
	if _, found, err := e.store.EntryTimeAt(e.ctx, r.ID, 1); err != nil || found {
		t.Fatalf("after a reset EntryTimeAt(1) = found %v, %v; want not found", found, err)
	}
	_, _, err := e.store.EntryTimeAt(e.ctx, "no-such-room", 1)
	wantCode(t, err, waitroom.CodeNotFound)
}
