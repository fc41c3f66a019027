package storetest

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// The ticket lookup cache of Service (with a PollTTL) across two replicas:
// a reset or a room created again elsewhere stops a cached ticket within
// the cache periods, and a ticket created elsewhere after a miss is found
// at once.

const lookupPollTTL = time.Second

func testTicketLookupCache(t *testing.T, b Backend) {
	e := newEnv(t, b)
	opts := waitroom.Options{Clock: e.clock.Now, PollTTL: lookupPollTTL}
	other := e.anotherStore(t)
	a := waitroom.NewService(e.store, e.keys, opts)
	b2 := waitroom.NewService(other, e.keys, opts)
	r := e.newRoom()
	lookup := func(svc *waitroom.Service, id string) (waitroom.Ticket, error) {
		t.Helper()
		return svc.Ticket(e.ctx, r.ID, id)
	}

	tk, err := a.Enqueue(e.ctx, r.ID, "")
	noErr(t, err)
	for range 2 { // the second answer comes from the cache
		got, err := lookup(a, tk.ID)
		noErr(t, err)
		if got != tk {
			t.Fatalf("Ticket = %+v, want %+v", got, tk)
		}
	}

	// Unknown on A, then created through the other replica: found at once.
	id := uuid.NewString()
	_, err = lookup(a, id)
	wantCode(t, err, waitroom.CodeNotFound)
	_, _, err = other.Enqueue(e.ctx, r.ID, waitroom.NewTicket{ID: id, EntryTime: e.clock.Now()})
	noErr(t, err)
	got, err := lookup(a, id)
	noErr(t, err)
	if got.ID != id || got.Position != 2 {
		t.Fatalf("Ticket after the other replica created it = %+v", got)
	}

	// Reset through the other replica: gone there at once, here once the
	// poll copy is a PollTTL old.
	noErr(t, b2.Reset(e.ctx, r.ID))
	_, err = lookup(b2, tk.ID)
	wantCode(t, err, waitroom.CodeNotFound)
	e.clock.Advance(lookupPollTTL)
	_, err = lookup(a, tk.ID)
	wantCode(t, err, waitroom.CodeNotFound)

	// Reset through this replica: gone at once.
	fresh, err := a.Enqueue(e.ctx, r.ID, "")
	noErr(t, err)
	_, err = lookup(a, fresh.ID)
	noErr(t, err)
	noErr(t, a.Reset(e.ctx, r.ID))
	_, err = lookup(a, fresh.ID)
	wantCode(t, err, waitroom.CodeNotFound)
}

// testTicketLookupCacheRoomRecreated: a room deleted and created again by
// another replica starts at generation 0 again; a ticket of the old room
// cached at generation 0 must not answer for the new one.
func testTicketLookupCacheRoomRecreated(t *testing.T, b Backend) {
	e := newEnv(t, b)
	opts := waitroom.Options{Clock: e.clock.Now, PollTTL: lookupPollTTL}
	a := waitroom.NewService(e.store, e.keys, opts)
	b2 := waitroom.NewService(e.anotherStore(t), e.keys, opts)
	r := e.newRoom()
	tk, err := a.Enqueue(e.ctx, r.ID, "")
	noErr(t, err)
	_, err = a.Ticket(e.ctx, r.ID, tk.ID)
	noErr(t, err)

	e.clock.Advance(time.Second)
	noErr(t, b2.DeleteRoom(e.ctx, r.ID))
	again := waitroom.NewRoom(r.ID, r.Name)
	_, err = b2.CreateRoom(e.ctx, again)
	noErr(t, err)
	e.clock.Advance(max(lookupPollTTL, waitroom.DefaultRoomCacheTTL))
	_, err = a.Ticket(e.ctx, r.ID, tk.ID)
	wantCode(t, err, waitroom.CodeNotFound)
}
