package roompage

import (
	"math"
	"sync"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom/admission"
)

// RateMeter measures each room's admission rate from the counters seen by
// status requests: a small ring of (time, serving, queue) samples per
// room, at most one every SampleEvery, kept for Window. Only time when
// people were waiting counts: a room whose line is empty admits nobody,
// and counting those minutes would make every later estimate too long.
// It costs O(1) per request and needs no store access; replicas each
// measure the same shared counters and so agree closely.
type RateMeter struct {
	SampleEvery time.Duration
	Window      time.Duration

	mu    sync.Mutex
	rooms map[string]*samples
}

type sample struct {
	at             time.Time
	serving, queue int64
}

type samples struct {
	settings string
	ring     []sample // oldest first
}

// NewRateMeter measures over the last window, sampling at most every
// sampleEvery.
func NewRateMeter(window, sampleEvery time.Duration) *RateMeter {
	return &RateMeter{SampleEvery: sampleEvery, Window: window, rooms: map[string]*samples{}}
}

// minSpan is how much waiting time the meter needs before it gives a
// rate: less would turn one admin click into a wild estimate.
const minSpan = 30 * time.Second

// recency is the meter's memory: each move counts with weight
// e^(−age/recency), so that a room whose pace drifts is measured at its
// new pace within minutes while a room moved by occasional clicks still
// averages over several of them. (A change of the room's settings starts
// the measurement afresh: see Observe.)
const recency = 5 * time.Minute

// Measured is a measured admission pace.
type Measured struct {
	PerMinute float64
	// Batch is the average move of the serving counter when it moved:
	// admissions come in batches this big (an operator's "let 50 in", a
	// few sessions ending at once), one every Batch/PerMinute minutes.
	Batch float64
	// LastMove is when the serving counter last moved.
	LastMove time.Time
	// Spread is how irregular the moves are: the coefficient of variation
	// of one batch's time per admission (0 for clockwork, about 1 for
	// sessions ending at random). Moves is how many spacings were
	// measured. Together they size the estimate's range.
	Spread float64
	Moves  float64
	// Jitter is how irregular the spacing alone is (its coefficient of
	// variation): near 0 for an operator's steady clicks, about 1 for
	// sessions ending at random.
	Jitter float64
	Known  bool
}

// Observe records the counters of room at time now and returns the
// measured pace over the window. settings names what sets the room's
// pace (its inlet and mode): when it changes, what was measured before
// says nothing of the pace to come and is dropped.
func (m *RateMeter) Observe(room, settings string, serving, queue int64, now time.Time) Measured {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.rooms[room]
	if s == nil || s.settings != settings {
		s = &samples{settings: settings}
		m.rooms[room] = s
	}
	s.add(sample{now, serving, queue}, m.SampleEvery, m.Window)
	return s.measure()
}

// Forget drops a room's history (after a reset, the counter restarts at 0).
func (m *RateMeter) Forget(room string) {
	m.mu.Lock()
	delete(m.rooms, room)
	m.mu.Unlock()
}

func (s *samples) add(x sample, every, window time.Duration) {
	if n := len(s.ring); n > 0 {
		last := s.ring[n-1]
		if x.serving < last.serving { // the room was reset: old history means nothing
			s.ring = s.ring[:0]
		} else if x.at.Sub(last.at) < every {
			return
		}
	}
	s.ring = append(s.ring, x)
	cut := 0
	for cut < len(s.ring)-1 && x.at.Sub(s.ring[cut].at) > window {
		cut++
	}
	s.ring = s.ring[cut:]
}

// measure reads the room's pace from its moves: how many the serving
// counter let in each time it moved (the batch) and how long it waited
// since the move before while people were waiting (the spacing), recent
// moves weighing more. Pace is batch over spacing; a spell with nobody
// waiting breaks the chain, since nobody could be let in then.
func (s *samples) measure() Measured {
	if len(s.ring) < 2 {
		return Measured{}
	}
	now := s.ring[len(s.ring)-1].at
	var span time.Duration
	var w, w2, batches, gaps, gaps2, perHead, perHead2 float64
	var from, last time.Time // from: the last move, when the chain since is unbroken
	var still time.Duration  // waiting time since the last move
	for i := 1; i < len(s.ring); i++ {
		a, b := s.ring[i-1], s.ring[i]
		if a.queue <= a.serving {
			from = time.Time{}
			continue
		}
		span += b.at.Sub(a.at)
		if b.serving == a.serving {
			still += b.at.Sub(a.at)
			continue
		}
		still = 0
		if !from.IsZero() {
			x := math.Exp(-float64(now.Sub(b.at)) / float64(recency))
			batch, gap := float64(b.serving-a.serving), b.at.Sub(from).Minutes()
			w, w2 = w+x, w2+x*x
			batches += x * batch
			gaps += x * gap
			gaps2 += x * gap * gap
			perHead += x * gap / batch
			perHead2 += x * (gap / batch) * (gap / batch)
		}
		from, last = b.at, b.at
	}
	if span < minSpan || w == 0 {
		return Measured{}
	}
	batch, spacing := batches/w, gaps/w
	if open := still.Minutes(); open > 2*spacing {
		// The counter has been still, with people waiting, for far
		// longer than it usually is: the room has slowed down, to at
		// most half the pace that says.
		spacing = open / 2
	}
	m := Measured{PerMinute: batch / spacing, Batch: batch, LastMove: last, Moves: w * w / w2, Known: true}
	// The spread measured over a few moves says little: it starts from
	// priorSpread, worth priorMoves moves, and the moves take over as
	// they come.
	m.Spread = m.shrink(perHead/w, perHead2/w)
	m.Jitter = m.shrink(gaps/w, gaps2/w)
	return m
}

// shrink turns a weighted mean and mean square into a coefficient of
// variation, pulled towards priorSpread while there are few moves.
func (m Measured) shrink(mean, square float64) float64 {
	cv2 := max(square-mean*mean, 0) / (mean * mean)
	return math.Sqrt((m.Moves*cv2 + priorMoves*priorSpread*priorSpread) / (m.Moves + priorMoves))
}

// A room's moves are taken to be as irregular as sessions ending at
// random (priorSpread) until a few have been measured.
const (
	priorSpread = 0.6
	priorMoves  = 2
)

// WaitRange is an estimated wait, honest about its uncertainty: the most
// likely wait and the range around it.
type WaitRange struct {
	MinSeconds      int64 `json:"min_seconds"`
	MaxSeconds      int64 `json:"max_seconds"`
	ExpectedSeconds int64 `json:"expected_seconds"`
}

// Expected is the most likely wait.
func (w WaitRange) Expected() time.Duration { return time.Duration(w.ExpectedSeconds) * time.Second }

// EstimateWait turns the admissions a visitor still needs (their position
// minus the serving counter) into a range. A room whose settings fix its
// pace (a rate, a periodic inlet) is estimated from that pace, within a
// few percent and one release of it. A room that moves as operators or
// finishing sessions move it (manual, max-active) is estimated from the
// measured pace: admissions come in batches, the visitor needs
// ceil(needed/batch) of them, the first under way since the last move.
// Its range widens with how irregular the moves were and how few of them
// were measured or are still needed (about nine waits in ten fall in it
// when moves are independent), plus a tenth for drift and half a batch's
// spacing either way. ok is false when there is nothing to go by (paused,
// not open, no measurement yet).
func EstimateWait(needed int64, pace admission.Pace, measured Measured, now time.Time) (WaitRange, bool) {
	switch {
	case needed <= 0 || pace.Kind == admission.PacePassthrough:
		return WaitRange{}, true
	case pace.Known && pace.PerMinute > 0:
		c := float64(needed) / pace.PerMinute * 60
		release := 60 / pace.PerMinute // one admission's spacing
		return waitRange(c, 0.95*c-release, 1.1*c+release), true
	case pace.Known || !measured.Known || measured.PerMinute <= 0:
		return WaitRange{}, false
	}
	batch := max(measured.Batch, 1)
	spacing := batch / measured.PerMinute * 60 // seconds between batches
	batches := math.Ceil(float64(needed) / batch)
	// The batch under way: clockwork moves come spacing after the last
	// one, random ones (sessions ending) any time; most rooms are between.
	random := min(measured.Jitter, 1)
	first := (1-random)*max(spacing-now.Sub(measured.LastMove).Seconds(), 0) + random*spacing
	c := (batches-1)*spacing + first
	margin := 0.1 + 2*measured.Spread*math.Sqrt(1/batches+1/max(measured.Moves, 1))
	return waitRange(c, (1-margin)*c-spacing/2, (1+margin)*c+spacing/2), true
}

func waitRange(expected, lo, hi float64) WaitRange {
	return WaitRange{MinSeconds: int64(math.Floor(max(lo, 0))), MaxSeconds: int64(math.Ceil(max(hi, 1))),
		ExpectedSeconds: int64(math.Round(max(expected, 0)))}
}
