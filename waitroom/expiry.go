package waitroom

import (
	"context"
	"time"
)

// Queue-position expiry.
//
// A served position's clock starts at the later of its entry time and the
// time the serving counter first reached it (the issue time of the smallest
// history row at or above it). Before its first token, a position is expired
// when it is at or below MaxExpired or its clock exceeds the room's expiry
// period. Once a token exists, position expiry no longer applies.
//
// Missing history: if no history row covers a served position (history lost,
// or counters rebuilt from elsewhere), nobody knows when it was admitted. We
// then do not start its clock: the position is reported with the full period
// left and the job does not expire it. Expiring a visitor's place on missing
// evidence would be worse than leaving one slot unused.

// ExpiryResult reports one pass of the expiry job.
type ExpiryResult struct {
	// MaxExpired is the room's highest expired position after the pass.
	MaxExpired int64
	// Expired is how many positions this pass expired.
	Expired int64
	// Advanced is how far this pass moved the serving counter.
	Advanced int64
	// Steps is how many history rows this pass applied.
	Steps int
}

const (
	historyPage     = 64
	maxStepsPerPass = 10000
)

// QueuePositionExpiry returns how long a served position has left to take
// its token. With a token already issued it returns the token's remaining
// lifetime, since the position itself can no longer expire.
func (s *Service) QueuePositionExpiry(ctx context.Context, room, id string) (time.Duration, error) {
	id, err := roomAndRequest(room, id)
	if err != nil {
		return 0, err
	}
	r, err := s.Room(ctx, room)
	if err != nil {
		return 0, err
	}
	if !r.ExpiryEnabled {
		return 0, Errorf(CodeExpiryDisabled, "Queue position expiry is disabled")
	}
	t, err := s.store.Ticket(ctx, room, id)
	if err != nil {
		return 0, err
	}
	c, err := s.store.Counters(ctx, room)
	if err != nil {
		return 0, err
	}
	if t.Position > c.Serving {
		return 0, Errorf(CodeNotServed, "Request ID not being served yet")
	}
	return s.expiryOrTokenLifetime(ctx, r, t, c)
}

func (s *Service) expiryOrTokenLifetime(ctx context.Context, r Room, t Ticket, c Counters) (time.Duration, error) {
	now := s.now()
	rec, err := s.store.Token(ctx, r.ID, t.ID)
	if err == nil {
		return max(rec.ExpiresAt.Sub(now), 0), nil
	}
	if ErrorCode(err) != CodeNotFound {
		return 0, err
	}
	return s.positionExpiry(ctx, r, t, c, now)
}

// positionExpiry returns the time left on a served position without a
// token, or CodeExpired. It does nothing when expiry is off for the room.
func (s *Service) positionExpiry(ctx context.Context, r Room, t Ticket, c Counters, now time.Time) (time.Duration, error) {
	if !r.ExpiryEnabled {
		return 0, nil
	}
	if t.Position <= c.MaxExpired {
		return 0, errPositionExpired
	}
	row, found, err := s.store.ServingRecordAtOrAbove(ctx, r.ID, t.Position)
	if err != nil {
		return 0, err
	}
	if !found {
		return r.ExpiryPeriod.D(), nil // no evidence of admission: clock not started
	}
	start := t.EntryTime
	if row.IssuedAt.After(start) {
		start = row.IssuedAt
	}
	left := r.ExpiryPeriod.D() - now.Sub(start)
	if left <= 0 {
		return 0, errPositionExpired
	}
	return left, nil
}

// positionExpired returns CodeExpired when a served position without a
// token ran out of time to take it. A position that entered less than one
// expiry period ago cannot have: its clock starts at its entry or later. So
// it is answered without reading the serving history, which is the usual
// case of a first token issue (one statement less per issue).
func (s *Service) positionExpired(ctx context.Context, r Room, t Ticket, c Counters, now time.Time) error {
	if r.ExpiryEnabled && t.Position > c.MaxExpired && now.Sub(t.EntryTime) < r.ExpiryPeriod.D() {
		return nil
	}
	_, err := s.positionExpiry(ctx, r, t, c, now)
	return err
}

var errPositionExpired = Errorf(CodeExpired, "Queue position has expired")

// ExpireRoom runs one pass of the expiry job for a room: it walks the
// serving history above MaxExpired in serving order and, for each row whose
// admission is older than the expiry period, raises MaxExpired to it,
// counting the positions of its range that took no token as expired and,
// with AutoAdvance, moving the serving counter forward by that many.
//
// Unlike the algorithm it follows, it never stops at a gap (it walks the
// rows that exist, whatever values they skip), never fails on a missing row,
// and treats rows of equal value as one. Each step is applied with the
// store's conditional MarkExpired, so two processes running the job at once
// never apply a step twice.
//
// Positions that entered the queue after the serving counter passed them
// start their clock at entry, which the history cannot tell. So a pass
// never expires a position that entered less than one expiry period ago:
// it reads the entry time of the ticket at the step's top position (one
// index lookup) and, when that one is too young, finds the highest old
// enough position by bisection, since positions are handed out in entry
// order. The evidence is durable, so a process that just started (or a new
// leader) expires on its first pass.
func (s *Service) ExpireRoom(ctx context.Context, room string) (ExpiryResult, error) {
	r, err := s.Room(ctx, room)
	if err != nil || !r.ExpiryEnabled {
		return ExpiryResult{}, err
	}
	c, err := s.store.Counters(ctx, room)
	if err != nil {
		return ExpiryResult{}, err
	}
	now := s.now()
	pass := expiryPass{s: s, room: r, gen: c.Generation, queue: c.Queue, cutoff: now.Add(-r.ExpiryPeriod.D()), now: now}
	pass.res.MaxExpired = c.MaxExpired
	err = pass.run(ctx)
	if pass.res.Steps > 0 {
		s.log.Info("queue positions expired", "room", room, "max_expired", pass.res.MaxExpired,
			"expired", pass.res.Expired, "advanced", pass.res.Advanced)
	}
	return pass.res, err
}

// expiryPass is the state of one ExpireRoom pass.
type expiryPass struct {
	s    *Service
	room Room
	gen  int64
	// queue bounds the positions that can hold a ticket.
	queue int64
	// cutoff: only positions that entered at or before it may expire.
	cutoff time.Time
	now    time.Time
	res    ExpiryResult
}

func (p *expiryPass) run(ctx context.Context) error {
	for p.res.Steps < maxStepsPerPass {
		rows, err := p.s.store.ServingHistory(ctx, p.room.ID, p.res.MaxExpired, historyPage)
		if err != nil {
			return err
		}
		more, err := p.applyRows(ctx, rows)
		if err != nil || !more || len(rows) < historyPage {
			return err
		}
	}
	return nil
}

// applyRows applies rows in order; more=false when the pass must stop.
func (p *expiryPass) applyRows(ctx context.Context, rows []ServingRecord) (more bool, err error) {
	for _, row := range rows {
		if p.now.Sub(row.IssuedAt) <= p.room.ExpiryPeriod.D() {
			return false, nil // this row's positions are still within the period
		}
		top, err := p.enteredBy(ctx, p.res.MaxExpired, min(row.Serving, p.queue))
		if err != nil || top <= p.res.MaxExpired {
			return false, err
		}
		applied, err := p.step(ctx, top)
		if err != nil || !applied || top < row.Serving {
			return false, err
		}
	}
	return true, nil
}

// step expires the positions in (MaxExpired, top] that took no token.
func (p *expiryPass) step(ctx context.Context, top int64) (bool, error) {
	prev := p.res.MaxExpired
	if moved, err := p.movedElsewhere(ctx, prev); err != nil || moved {
		return false, err
	}
	served, err := p.s.store.CountTokens(ctx, p.room.ID, prev, top)
	if err != nil {
		return false, err
	}
	expired := max((top-prev)-served, 0)
	var advance int64
	if p.room.AutoAdvance {
		advance = expired
	}
	applied, err := p.s.store.MarkExpired(ctx, p.room.ID, p.gen, top, expired, advance, stamp(p.now))
	p.s.polls.forget(p.room.ID)
	if err != nil || !applied {
		return false, err // not applied: another process is ahead of us
	}
	p.res.MaxExpired = top
	p.res.Expired += expired
	p.res.Advanced += advance
	p.res.Steps++
	return true, nil
}

// movedElsewhere reports whether another process raised MaxExpired (or
// reset the room) since this pass last looked. MarkExpired only refuses a
// step that is not above the stored MaxExpired; this check also keeps a
// pass from applying a step computed from a stale lower bound. The window
// left between this read and MarkExpired is closed by the job's lease.
func (p *expiryPass) movedElsewhere(ctx context.Context, prev int64) (bool, error) {
	c, err := p.s.store.Counters(ctx, p.room.ID)
	if err != nil {
		return false, err
	}
	return c.MaxExpired != prev || c.Generation != p.gen, nil
}

// enteredBy returns the highest position in (low, high] whose ticket
// entered at or before the cutoff, or low when there is none. It reads
// high first (the usual answer: a row older than the period covers
// positions older still), then bisects, which assumes entry times grow with
// positions; they do, up to the clock skew between processes.
func (p *expiryPass) enteredBy(ctx context.Context, low, high int64) (int64, error) {
	ok, err := p.enteredInTime(ctx, high)
	if err != nil || ok {
		return high, err
	}
	// Invariant: low is old enough (or the floor), high is not.
	for high-low > 1 {
		mid := low + (high-low)/2
		ok, err := p.enteredInTime(ctx, mid)
		if err != nil {
			return 0, err
		}
		if ok {
			low = mid
		} else {
			high = mid
		}
	}
	return low, nil
}

// enteredInTime: the ticket at position exists and entered by the cutoff.
func (p *expiryPass) enteredInTime(ctx context.Context, position int64) (bool, error) {
	at, found, err := p.s.store.EntryTimeAt(ctx, p.room.ID, position)
	return found && !at.After(p.cutoff), err
}
