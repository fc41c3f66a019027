package admission

import (
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// Snapshot is the state of a room a strategy decides on.
type Snapshot struct {
	Counters waitroom.Counters
	// Active is the number of active, unexpired sessions (tokens).
	Active int64
}

// Pending is the number of admitted positions that have neither taken a
// token nor expired: each holds a slot until it does one or the other.
func (s Snapshot) Pending() int64 {
	c := s.Counters
	return max(0, min(c.Serving, c.Queue)-c.Tokens-c.Expired)
}

// Occupied is the number of slots in use: active sessions plus admitted
// positions not yet used.
func (s Snapshot) Occupied() int64 { return s.Active + s.Pending() }

// Behind is how many enqueued visitors the serving counter has not reached.
func (s Snapshot) Behind() int64 { return max(0, s.Counters.Queue-s.Counters.Serving) }

// Strategy moves the serving counter tick by tick. Ticks are numbered so
// that each one can be claimed, and so applied, once only whatever the
// number of replicas.
type Strategy interface {
	// TickAt returns the number of the latest tick due at or before now;
	// false when none is due yet.
	TickAt(now time.Time) (int64, bool)
	// TickTime is when tick n falls due.
	TickTime(n int64) time.Time
	// Amount is how far tick n moves the serving counter, given s.
	Amount(n int64, s Snapshot) int64
	// CatchUp reports whether a tick missed (during a leader change) is
	// still applied late. Time-driven strategies catch up; state-driven
	// ones only act on the present.
	CatchUp() bool
}

// Periodic advances by Increment every Interval from Start (tick 0 falls
// on Start) until End, when End is set: tick n counts if Start+n·Interval
// is before End.
type Periodic struct {
	Increment int64
	Interval  time.Duration
	Start     time.Time
	End       time.Time
}

func (p Periodic) TickAt(now time.Time) (int64, bool) {
	if now.Before(p.Start) {
		return 0, false
	}
	return int64(now.Sub(p.Start) / p.Interval), true
}

func (p Periodic) TickTime(n int64) time.Time { return p.Start.Add(time.Duration(n) * p.Interval) }

func (p Periodic) Amount(n int64, _ Snapshot) int64 {
	if n < 0 || (!p.End.IsZero() && !p.TickTime(n).Before(p.End)) {
		return 0
	}
	return p.Increment
}

func (Periodic) CatchUp() bool { return true }

// Rate admits PerMinute visitors a minute, spread over the seconds of the
// minute: second m of a minute releases ⌊R(m+1)/60⌋ − ⌊Rm/60⌋, so any 60
// consecutive seconds release exactly R and no second more than ⌈R/60⌉.
// A second's share is never moved past the last enqueued position: a quiet
// minute does not bank admissions for a later rush. (Periodic, like the
// inlet it replaces, counts regardless.)
type Rate struct{ PerMinute int64 }

func (Rate) TickAt(now time.Time) (int64, bool) { return now.Unix(), true }

func (Rate) TickTime(n int64) time.Time { return time.Unix(n, 0) }

func (r Rate) Amount(n int64, s Snapshot) int64 {
	return min(r.Share(n), s.Behind())
}

// Share is second n's part of the per-minute rate.
func (r Rate) Share(n int64) int64 {
	m := ((n % 60) + 60) % 60
	return r.PerMinute*(m+1)/60 - r.PerMinute*m/60
}

func (Rate) CatchUp() bool { return true }

// MaxActive keeps occupied slots (active sessions plus admitted positions
// not yet used) at or below Max. A slot frees when a session completes, is
// abandoned or logged out, when its token expires, and when an admitted
// position expires unused — so visitors who walk away never stall the room.
// It never moves the counter past the last enqueued position, so later
// arrivals still wait for a free slot.
type MaxActive struct{ Max int64 }

func (MaxActive) TickAt(now time.Time) (int64, bool) { return now.Unix(), true }

func (MaxActive) TickTime(n int64) time.Time { return time.Unix(n, 0) }

func (m MaxActive) Amount(_ int64, s Snapshot) int64 {
	return max(0, min(m.Max-s.Occupied(), s.Behind()))
}

func (MaxActive) CatchUp() bool { return false }

// passthrough admits everybody waiting, every second.
type passthrough struct{}

func (passthrough) TickAt(now time.Time) (int64, bool) { return now.Unix(), true }
func (passthrough) TickTime(n int64) time.Time         { return time.Unix(n, 0) }
func (passthrough) Amount(_ int64, s Snapshot) int64   { return s.Behind() }
func (passthrough) CatchUp() bool                      { return false }

// safetyNet passes everybody through while fewer than threshold slots are
// occupied, and otherwise leaves the room to its inlet strategy (queue).
type safetyNet struct {
	threshold int64
	queue     Strategy // nil: manual
}

func (s safetyNet) TickAt(now time.Time) (int64, bool) { return now.Unix(), true }
func (s safetyNet) TickTime(n int64) time.Time         { return time.Unix(n, 0) }
func (s safetyNet) CatchUp() bool                      { return false }

func (s safetyNet) Amount(n int64, snap Snapshot) int64 {
	if snap.Occupied() < s.threshold {
		return snap.Behind()
	}
	if s.queue == nil {
		return 0
	}
	// The queue strategy runs on second ticks here; time-driven
	// strategies map a second to their own tick.
	return s.queue.Amount(n, snap)
}

// InletStrategy returns the strategy of a room's inlet settings; nil for
// manual (only the admin API moves the counter).
func InletStrategy(in waitroom.Inlet) Strategy {
	switch in.EffectiveStrategy() {
	case waitroom.StrategyPeriodic:
		return Periodic{Increment: in.Increment, Interval: in.Interval.D(), Start: in.Start, End: in.End}
	case waitroom.StrategyRate:
		return Rate{PerMinute: in.PerMinute}
	case waitroom.StrategyMaxActive:
		return MaxActive{Max: in.MaxActive}
	}
	return nil
}

// RoomStrategy returns what moves a room's counter under its mode: nil when
// nothing automatic does (manual inlet, paused room).
func RoomStrategy(r waitroom.Room) Strategy {
	switch r.EffectiveMode() {
	case waitroom.ModePaused:
		return nil
	case waitroom.ModePassthrough:
		if r.SafetyNetThreshold > 0 {
			return safetyNet{threshold: r.SafetyNetThreshold, queue: secondTicks(InletStrategy(r.Inlet))}
		}
		return passthrough{}
	}
	return InletStrategy(r.Inlet)
}

// secondTicks adapts a strategy to one-second ticks (used under the safety
// net, which decides every second): a periodic strategy contributes on the
// second its own tick falls due.
func secondTicks(s Strategy) Strategy {
	p, ok := s.(Periodic)
	if !ok {
		return s
	}
	return periodicBySecond{p}
}

type periodicBySecond struct{ p Periodic }

func (q periodicBySecond) TickAt(now time.Time) (int64, bool) { return now.Unix(), true }
func (q periodicBySecond) TickTime(n int64) time.Time         { return time.Unix(n, 0) }
func (q periodicBySecond) CatchUp() bool                      { return false }

func (q periodicBySecond) Amount(n int64, s Snapshot) int64 {
	k, ok := q.p.TickAt(time.Unix(n, 0))
	if !ok || q.p.TickTime(k).Unix() != n {
		return 0
	}
	return q.p.Amount(k, s)
}
