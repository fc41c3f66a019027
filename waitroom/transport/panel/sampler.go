package panel

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// Sample is one reading of a room's counters, for the chart.
type Sample struct {
	At      time.Time `json:"t"`
	Queue   int64     `json:"queue"`
	Serving int64     `json:"serving"`
	Waiting int64     `json:"waiting"`
	// Admitted is how far the serving counter moved since the previous
	// sample, scaled to a minute.
	AdmittedPerMinute float64 `json:"admitted_per_minute"`
}

// Sampler reads every room's counters at a fixed interval and keeps the
// last hour, so the control panel can draw the recent past. It keeps its
// history in memory: a restarted process starts a new chart.
type Sampler struct {
	svc   *waitroom.Service
	every time.Duration
	keep  time.Duration
	clock func() time.Time
	log   *slog.Logger

	mu    sync.Mutex
	rooms map[string][]Sample
}

// NewSampler samples every interval and keeps an hour.
func NewSampler(svc *waitroom.Service, every time.Duration, clock func() time.Time, log *slog.Logger) *Sampler {
	return &Sampler{svc: svc, every: every, keep: time.Hour, clock: clock, log: log, rooms: map[string][]Sample{}}
}

// Run samples until ctx ends.
func (s *Sampler) Run(ctx context.Context) {
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		s.SampleAll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SampleAll takes one sample of every room.
func (s *Sampler) SampleAll(ctx context.Context) {
	rooms, err := s.svc.Rooms(ctx)
	if err != nil {
		s.log.Warn("panel: sampling rooms", "err", err)
		return
	}
	for _, r := range rooms {
		if _, err := s.SampleRoom(ctx, r.ID); err != nil {
			s.log.Warn("panel: sampling room", "room", r.ID, "err", err)
		}
	}
}

// SampleRoom records the room's counters now and returns them.
func (s *Sampler) SampleRoom(ctx context.Context, room string) (waitroom.Counters, error) {
	c, err := s.svc.Counters(ctx, room)
	if err != nil {
		return c, err
	}
	s.record(room, c, s.clock())
	return c, nil
}

func (s *Sampler) record(room string, c waitroom.Counters, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hist := s.rooms[room]
	x := Sample{At: now, Queue: c.Queue, Serving: c.Serving, Waiting: c.Waiting()}
	if n := len(hist); n > 0 {
		prev := hist[n-1]
		if now.Sub(prev.At) < s.every/2 {
			return // sampled moments ago (a page view): keep the spacing even
		}
		if c.Serving >= prev.Serving && now.After(prev.At) {
			x.AdmittedPerMinute = float64(c.Serving-prev.Serving) / now.Sub(prev.At).Minutes()
		}
	}
	cut := 0
	for cut < len(hist) && now.Sub(hist[cut].At) > s.keep {
		cut++
	}
	s.rooms[room] = append(hist[cut:], x)
}

// History returns the room's samples, oldest first.
func (s *Sampler) History(room string) []Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sample(nil), s.rooms[room]...)
}

// RatePerMinute is the admission rate over the last five minutes of
// samples, counting only the time when people were waiting (an empty line
// admits nobody: those minutes say nothing of the pace); ok is false with
// less than a minute of such time.
func (s *Sampler) RatePerMinute(room string) (float64, bool) {
	hist := s.History(room)
	var moved int64
	var span time.Duration
	for i := 1; i < len(hist); i++ {
		a, b := hist[i-1], hist[i]
		if hist[len(hist)-1].At.Sub(a.At) > 5*time.Minute || a.Queue <= a.Serving || b.Serving < a.Serving {
			continue
		}
		moved += b.Serving - a.Serving
		span += b.At.Sub(a.At)
	}
	if span < time.Minute {
		return 0, false
	}
	return float64(moved) / span.Minutes(), true
}

// Forget drops a room's history (after a reset).
func (s *Sampler) Forget(room string) {
	s.mu.Lock()
	delete(s.rooms, room)
	s.mu.Unlock()
}
