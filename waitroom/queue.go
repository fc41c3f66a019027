package waitroom

import (
	"context"

	"github.com/google/uuid"
)

// Enqueue gives the caller the next position in the room. A non-empty key
// makes the call idempotent: the same key returns the same ticket and
// consumes no position (the room page uses it so a refresh keeps the place).
func (s *Service) Enqueue(ctx context.Context, room, key string) (Ticket, error) {
	if len(key) > maxIdempotencyKey {
		return Ticket{}, Errorf(CodeInvalid, "idempotency key: at most %d characters", maxIdempotencyKey)
	}
	if _, err := s.Room(ctx, room); err != nil {
		return Ticket{}, err
	}
	t, _, err := s.store.Enqueue(ctx, room, NewTicket{ID: uuid.NewString(), EntryTime: s.stamp(), Key: key})
	return t, err
}

// Counters returns the room's counters.
func (s *Service) Counters(ctx context.Context, room string) (Counters, error) {
	if _, err := s.Room(ctx, room); err != nil {
		return Counters{}, err
	}
	return s.store.Counters(ctx, room)
}

// Progress returns the room's counters, at most Options.PollTTL old: what
// the public polls show.
func (s *Service) Progress(ctx context.Context, room string) (Counters, error) {
	return s.pollCounters(ctx, room)
}

// Serving returns the serving counter, at most Options.PollTTL old.
func (s *Service) Serving(ctx context.Context, room string) (int64, error) {
	c, err := s.pollCounters(ctx, room)
	return c.Serving, err
}

// Waiting returns queue − tokens − expired, never negative, at most
// Options.PollTTL old.
func (s *Service) Waiting(ctx context.Context, room string) (int64, error) {
	c, err := s.pollCounters(ctx, room)
	return c.Waiting(), err
}

// MaxServing is the highest value of a serving counter: the largest
// integer every JSON client (a JavaScript page among them) reads exactly.
// Refusing to pass it also keeps the sum of a counter and a step inside
// int64 on every backend, so that no increment can overflow.
const MaxServing int64 = 1<<53 - 1

// ErrServingTooHigh refuses a move of the serving counter past MaxServing.
func ErrServingTooHigh() error {
	return Errorf(CodeInvalid, "serving counter: cannot pass %d", MaxServing)
}

// AdvanceServing moves the serving counter by by (negative moves back,
// clamped at 0; past MaxServing is refused) and records the new value in
// the history.
func (s *Service) AdvanceServing(ctx context.Context, room string, by int64) (int64, error) {
	if by > MaxServing {
		return 0, ErrServingTooHigh()
	}
	if _, err := s.Room(ctx, room); err != nil {
		return 0, err
	}
	defer s.polls.forget(room)
	return s.store.AdvanceServing(ctx, room, by, s.stamp())
}

// SetServing sets the serving counter to v (>= 0).
func (s *Service) SetServing(ctx context.Context, room string, v int64) (int64, error) {
	if v < 0 {
		return 0, Errorf(CodeInvalid, "serving counter: must not be negative")
	}
	if v > MaxServing {
		return 0, ErrServingTooHigh()
	}
	if _, err := s.Room(ctx, room); err != nil {
		return 0, err
	}
	defer s.polls.forget(room)
	return s.store.SetServing(ctx, room, v, s.stamp())
}

// Reset starts a new generation of the room: counters go to 0 and earlier
// tickets and tokens are answered as not found.
func (s *Service) Reset(ctx context.Context, room string) error {
	if _, err := s.Room(ctx, room); err != nil {
		return err
	}
	defer s.polls.forget(room)
	return s.store.Reset(ctx, room)
}
