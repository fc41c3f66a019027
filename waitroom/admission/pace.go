package admission

import (
	"fmt"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// Pace is how fast a room lets visitors in, as its settings say: what the
// control panel shows next to the rate an operator changes, and what the
// waiting-room page's estimate starts from.
type Pace struct {
	// Kind names what sets the pace: rate, periodic, passthrough, paused,
	// not_open, manual or max_active.
	Kind string `json:"kind"`
	// PerMinute is the configured admissions a minute when Known.
	PerMinute float64 `json:"per_minute"`
	// Known: the settings fix the pace (rate, periodic, paused, not open).
	// Manual and max-active rooms move as operators and finishing sessions
	// do: only a measurement tells.
	Known bool `json:"known"`
	// Settings names the room settings the pace follows (mode, inlet,
	// safety net): a change of them makes earlier measurements moot.
	Settings string `json:"-"`
}

// Pace kinds.
const (
	PaceRate        = "rate"
	PacePeriodic    = "periodic"
	PacePassthrough = "passthrough"
	PacePaused      = "paused"
	PaceNotOpen     = "not_open"
	PaceManual      = "manual"
	PaceMaxActive   = "max_active"
)

// RoomPace is r's pace at now. A closed room keeps draining at its
// inlet's pace; a pass-through room with a safety net that is holding
// visitors back goes at its inlet's pace too (active is the number of
// occupied slots, for the safety net).
func RoomPace(r waitroom.Room, now time.Time, occupied int64) Pace {
	p := roomPace(r, now, occupied)
	p.Settings = fmt.Sprint(r.EffectiveMode(), r.SafetyNetThreshold, r.Inlet)
	return p
}

func roomPace(r waitroom.Room, now time.Time, occupied int64) Pace {
	switch {
	case !admitting(r, now):
		return Pace{Kind: PaceNotOpen, Known: true}
	case r.EffectiveMode() == waitroom.ModePaused:
		return Pace{Kind: PacePaused, Known: true}
	case r.EffectiveMode() == waitroom.ModePassthrough && (r.SafetyNetThreshold == 0 || occupied < r.SafetyNetThreshold):
		return Pace{Kind: PacePassthrough}
	}
	in := r.Inlet
	switch in.EffectiveStrategy() {
	case waitroom.StrategyRate:
		return Pace{Kind: PaceRate, PerMinute: float64(in.PerMinute), Known: true}
	case waitroom.StrategyPeriodic:
		p := Periodic{Increment: in.Increment, Interval: in.Interval.D(), Start: in.Start, End: in.End}
		if in.Interval <= 0 || now.Before(p.Start) || (!p.End.IsZero() && !now.Before(p.End)) {
			return Pace{Kind: PacePeriodic, Known: true}
		}
		return Pace{Kind: PacePeriodic, PerMinute: float64(in.Increment) * float64(time.Minute) / float64(in.Interval.D()), Known: true}
	case waitroom.StrategyMaxActive:
		return Pace{Kind: PaceMaxActive}
	}
	return Pace{Kind: PaceManual}
}
