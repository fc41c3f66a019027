package roompage

import (
	"math"
	"sync"
	"time"
)

// RateMeter measures each room's admission rate from the serving counter
// seen by status requests: a small ring of (time, serving) samples per room,
// at most one every SampleEvery, kept for Window. It costs O(1) per request
// and needs no store access; several replicas each measure the same shared
// counter and so agree closely.
type RateMeter struct {
	SampleEvery time.Duration
	Window      time.Duration

	mu    sync.Mutex
	rooms map[string]*samples
}

type sample struct {
	at      time.Time
	serving int64
}

type samples struct {
	ring []sample // oldest first
}

// NewRateMeter measures over the last window, sampling at most every
// sampleEvery.
func NewRateMeter(window, sampleEvery time.Duration) *RateMeter {
	return &RateMeter{SampleEvery: sampleEvery, Window: window, rooms: map[string]*samples{}}
}

// minSpan is how much history the meter needs before it gives a rate:
// less than this would turn one admin click into a wild estimate.
const minSpan = 30 * time.Second

// Observe records the serving counter of room at time now and returns the
// admission rate per minute over the window; ok is false while there is too
// little history to say.
func (m *RateMeter) Observe(room string, serving int64, now time.Time) (perMinute float64, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.rooms[room]
	if s == nil {
		s = &samples{}
		m.rooms[room] = s
	}
	s.add(sample{now, serving}, m.SampleEvery, m.Window)
	return s.rate(now)
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

func (s *samples) rate(now time.Time) (float64, bool) {
	if len(s.ring) < 2 {
		return 0, false
	}
	first, last := s.ring[0], s.ring[len(s.ring)-1]
	span := now.Sub(first.at)
	if span < minSpan {
		return 0, false
	}
	return float64(last.serving-first.serving) / span.Minutes(), true
}

// WaitRange is an estimated wait, honest about its uncertainty.
type WaitRange struct {
	MinSeconds int64 `json:"min_seconds"`
	MaxSeconds int64 `json:"max_seconds"`
}

// EstimateWait turns the people ahead and the admission rate into a range:
// from 20 % faster to 30 % slower than the measured pace, because a rush
// rarely keeps a steady pace. ok is false when there is no rate to go by.
func EstimateWait(ahead int64, perMinute float64, rateKnown bool) (WaitRange, bool) {
	if ahead <= 0 {
		return WaitRange{}, true
	}
	if !rateKnown || perMinute <= 0 {
		return WaitRange{}, false
	}
	seconds := float64(ahead) / perMinute * 60
	return WaitRange{
		MinSeconds: int64(math.Floor(seconds * 0.8)),
		MaxSeconds: int64(math.Ceil(seconds * 1.3)),
	}, true
}
