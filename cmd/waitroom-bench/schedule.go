package main

import (
	"math"
	"time"
)

// Schedule is the arrival plan of an open-loop run: arrival i is due at
// Start + i/Rate, whatever happened to earlier arrivals. Latency is measured
// from the due time, not from when the request was actually sent, so a
// server that stalls is charged for the whole stall (no coordinated
// omission: a slow answer does not hide the arrivals that should have
// happened meanwhile).
type Schedule struct {
	Start time.Time
	Rate  float64 // arrivals per second, > 0
	End   time.Time
}

// Due returns when arrival i is due.
func (s Schedule) Due(i int64) time.Time {
	return s.Start.Add(time.Duration(float64(i) * float64(time.Second) / s.Rate))
}

// DueBy returns how many arrivals are due at or before now (arrivals
// 0 .. n-1), never counting arrivals due at or after End.
func (s Schedule) DueBy(now time.Time) int64 {
	if now.Before(s.Start) {
		return 0
	}
	if now.After(s.End) {
		now = s.End
	}
	// Estimate from the rate, then settle rounding at the edge against Due
	// itself so that DueBy and Due never disagree.
	n := min(int64(math.Floor(now.Sub(s.Start).Seconds()*s.Rate))+1, s.Total())
	for n < s.Total() && !s.Due(n).After(now) {
		n++
	}
	for n > 0 && s.Due(n-1).After(now) {
		n--
	}
	return n
}

// Total is the number of arrivals in the whole run: those due in [Start, End).
func (s Schedule) Total() int64 {
	return int64(math.Ceil(s.End.Sub(s.Start).Seconds() * s.Rate))
}
