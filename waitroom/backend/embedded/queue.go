package embedded

import (
	"context"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

var errTicketNotFound = waitroom.Errorf(waitroom.CodeNotFound, "Request ID not found")

// Enqueue assigns the room's next position.
func (s *Store) Enqueue(_ context.Context, room string, nt waitroom.NewTicket) (waitroom.Ticket, bool, error) {
	var (
		t       waitroom.Ticket
		created bool
	)
	err := s.locked(room, func(rs *roomState) error {
		if id, ok := rs.byKey[nt.Key]; ok && nt.Key != "" {
			t = rs.tickets[id]
			return nil
		}
		if _, ok := rs.tickets[nt.ID]; ok {
			return waitroom.Errorf(waitroom.CodeConflict, "request id already in use")
		}
		rs.counters.Queue++
		t = waitroom.Ticket{
			ID: nt.ID, Room: room, Position: rs.counters.Queue, EntryTime: nt.EntryTime,
			Status: waitroom.TicketAssigned, Generation: rs.counters.Generation,
		}
		rs.tickets[t.ID] = t
		rs.entries = append(rs.entries, t.EntryTime.UnixNano())
		if nt.Key != "" {
			rs.byKey[nt.Key] = t.ID
			rs.keyOf[t.ID] = nt.Key
		}
		created = true
		return nil
	})
	return t, created, err
}

// Ticket returns a ticket of the current generation.
func (s *Store) Ticket(_ context.Context, room, id string) (waitroom.Ticket, error) {
	var t waitroom.Ticket
	err := s.locked(room, func(rs *roomState) error {
		var ok bool
		if t, ok = rs.tickets[id]; !ok {
			return errTicketNotFound
		}
		return nil
	})
	return t, err
}

// LookupTicket is Ticket: the embedded store has no replica.
func (s *Store) LookupTicket(ctx context.Context, room, id string) (waitroom.Ticket, error) {
	return s.Ticket(ctx, room, id)
}

// Counters returns the room's counters.
func (s *Store) Counters(_ context.Context, room string) (waitroom.Counters, error) {
	var c waitroom.Counters
	err := s.locked(room, func(rs *roomState) error { c = rs.counters; return nil })
	return c, err
}

// AdvanceServing adds by to the serving counter, clamped at 0.
func (s *Store) AdvanceServing(_ context.Context, room string, by int64, at time.Time) (int64, error) {
	var v int64
	err := s.locked(room, func(rs *roomState) error {
		// Compared as a difference: serving+by could overflow.
		if by > waitroom.MaxServing-rs.counters.Serving {
			return waitroom.ErrServingTooHigh()
		}
		v = rs.setServing(rs.counters.Serving+by, at)
		return nil
	})
	return v, err
}

// SetServing sets the serving counter.
func (s *Store) SetServing(_ context.Context, room string, value int64, at time.Time) (int64, error) {
	if value < 0 {
		return 0, waitroom.Errorf(waitroom.CodeInvalid, "serving counter: must not be negative")
	}
	if value > waitroom.MaxServing {
		return 0, waitroom.ErrServingTooHigh()
	}
	var v int64
	err := s.locked(room, func(rs *roomState) error {
		v = rs.setServing(value, at)
		return nil
	})
	return v, err
}

func (rs *roomState) setServing(v int64, at time.Time) int64 {
	rs.counters.Serving = max(v, 0)
	rs.history.record(rs.counters.Serving, at)
	return rs.counters.Serving
}

// EntryTimeAt returns the entry time of the ticket at position.
func (s *Store) EntryTimeAt(_ context.Context, room string, position int64) (time.Time, bool, error) {
	var (
		at    time.Time
		found bool
	)
	err := s.locked(room, func(rs *roomState) error {
		if position >= 1 && position <= int64(len(rs.entries)) {
			at, found = time.Unix(0, rs.entries[position-1]), true
		}
		return nil
	})
	return at, found, err
}

// ServingRecordAtOrAbove returns the row with the smallest value >= position.
func (s *Store) ServingRecordAtOrAbove(_ context.Context, room string, position int64) (waitroom.ServingRecord, bool, error) {
	var (
		rec   waitroom.ServingRecord
		found bool
	)
	err := s.locked(room, func(rs *roomState) error {
		rec, found = rs.history.atOrAbove(position, rs.counters.Generation)
		return nil
	})
	return rec, found, err
}

// ServingHistory returns up to limit rows with value > above.
func (s *Store) ServingHistory(_ context.Context, room string, above int64, limit int) ([]waitroom.ServingRecord, error) {
	var rows []waitroom.ServingRecord
	err := s.locked(room, func(rs *roomState) error {
		rows = rs.history.above(above, limit, rs.counters.Generation)
		return nil
	})
	return rows, err
}

// MarkExpired applies one expiry-job step if it is still due.
func (s *Store) MarkExpired(_ context.Context, room string, gen, maxExpired, expired, advance int64, at time.Time) (bool, error) {
	applied := false
	err := s.locked(room, func(rs *roomState) error {
		c := &rs.counters
		if c.Generation != gen || c.MaxExpired >= maxExpired {
			return nil
		}
		c.MaxExpired = maxExpired
		c.Expired += expired
		if advance > 0 {
			rs.setServing(c.Serving+advance, at)
		}
		applied = true
		return nil
	})
	return applied, err
}

// Reset starts a new generation of the room.
func (s *Store) Reset(_ context.Context, room string) error {
	return s.locked(room, func(rs *roomState) error {
		rs.clear(rs.counters.Generation + 1)
		return nil
	})
}
