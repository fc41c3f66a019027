package admission

import (
	"context"
	"sync"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// Entrance applies a room's mode and schedule to arrivals: closed rooms
// and rooms not yet in their pre-queue refuse entry, scheduled rooms take
// arrivals into the pre-queue until their opening pass is done, and every
// other arrival is enqueued by the queue core. The public API and the room
// page enqueue and look tickets up through it.
type Entrance struct {
	svc   *waitroom.Service
	pre   *Prequeue
	clock func() time.Time
	// opened remembers rooms whose pre-queue is converted (it never
	// reopens), so their arrivals skip the draw lookup.
	opened sync.Map
}

// NewEntrance returns an entrance in front of svc; pre may be nil when no
// room is scheduled.
func NewEntrance(svc *waitroom.Service, pre *Prequeue, clock func() time.Time) *Entrance {
	if clock == nil {
		clock = time.Now
	}
	return &Entrance{svc: svc, pre: pre, clock: clock}
}

// Enqueue admits an arrival into room. For a room still in its pre-queue
// the ticket has the arrival's id and no position (0) yet.
func (en *Entrance) Enqueue(ctx context.Context, room, key string) (waitroom.Ticket, error) {
	r, err := en.svc.Room(ctx, room)
	if err != nil {
		return waitroom.Ticket{}, err
	}
	now := en.clock()
	if err := EntryAllowed(r, now); err != nil {
		return waitroom.Ticket{}, err
	}
	pre, err := en.inPrequeue(ctx, r)
	if err != nil || !pre {
		if err != nil {
			return waitroom.Ticket{}, err
		}
		return en.svc.Enqueue(ctx, room, key)
	}
	e, err := en.pre.Join(ctx, r, key)
	return waitroom.Ticket{ID: e.ID, Room: room, EntryTime: e.JoinedAt}, err
}

// Ticket returns a ticket; an arrival still in the pre-queue gets
// CodeNotServed ("not yet assigned").
func (en *Entrance) Ticket(ctx context.Context, room, id string) (waitroom.Ticket, error) {
	t, err := en.svc.Ticket(ctx, room, id)
	if waitroom.ErrorCode(err) != waitroom.CodeNotFound || en.pre == nil {
		return t, err
	}
	r, rerr := en.svc.Room(ctx, room)
	if rerr != nil || r.Schedule.OpensAt.IsZero() {
		return t, err
	}
	if perr := en.pre.NotYetAssigned(ctx, room, id); waitroom.ErrorCode(perr) != waitroom.CodeNotFound {
		return waitroom.Ticket{}, perr
	}
	return t, err
}

// inPrequeue reports whether arrivals to r still go to its pre-queue.
func (en *Entrance) inPrequeue(ctx context.Context, r waitroom.Room) (bool, error) {
	if r.Schedule.OpensAt.IsZero() || en.pre == nil {
		return false, nil
	}
	if _, ok := en.opened.Load(r.ID); ok {
		return false, nil
	}
	d, err := en.pre.store.Draw(ctx, r.ID)
	if waitroom.ErrorCode(err) == waitroom.CodeNotFound {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if d.Opened {
		en.opened.Store(r.ID, true)
	}
	return !d.Opened, nil
}

// EntryAllowed refuses arrivals to a closed room (mode closed or past its
// closing time) and to a scheduled room before its pre-queue opens.
func EntryAllowed(r waitroom.Room, now time.Time) error {
	switch RoomState(r, now, false) {
	case StateClosed:
		return waitroom.Errorf(waitroom.CodeConflict, "The waiting room is closed")
	case StateScheduled:
		return waitroom.Errorf(waitroom.CodeConflict, "The waiting room opens for entry at %s", r.Schedule.PrequeueOpensAt().UTC().Format(time.RFC3339))
	}
	return nil
}
