package main

import (
	"context"
	"sync/atomic"
	"time"
)

// admission moves one room's serving counter during a run, the way an
// operator or an inlet strategy would: at a fixed rate of admissions per
// second, or (rate 0) up to the highest position a visitor of this run has
// learned, which admits everyone as soon as they have queued.
type admission struct {
	queue       *queueAPI
	rate        float64
	serving     atomic.Int64 // last value the admitter saw or set
	maxPosition atomic.Int64 // highest position a visitor learned
}

func newAdmission(q *queueAPI, rate float64) *admission {
	return &admission{queue: q, rate: rate}
}

// start learns where the serving counter stands, so that the admitter
// only moves it forward from there.
func (a *admission) start(ctx context.Context, rec *Recorder) error {
	serving, err := a.queue.Serving(ctx, rec)
	a.serving.Store(serving)
	return err
}

// queued tells the admitter a visitor holds position pos.
func (a *admission) queued(pos int64) { raiseTo64(&a.maxPosition, pos) }

// run admits every admitEvery until ctx ends, recording its admin calls
// into whatever recorder current returns at the time.
func (a *admission) run(ctx context.Context, current func() *Recorder) {
	const every = 100 * time.Millisecond
	t := time.NewTicker(every)
	defer t.Stop()
	var owed float64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var by int64
		if a.rate > 0 {
			by, owed = admissionsDue(a.rate, every, owed)
		} else {
			by = a.maxPosition.Load() - a.serving.Load()
		}
		if by > 0 {
			a.increment(ctx, current(), by)
		}
	}
}

func (a *admission) increment(ctx context.Context, rec *Recorder, by int64) {
	serving, err := a.queue.Increment(ctx, rec, by)
	if err != nil {
		if ctx.Err() == nil {
			rec.Fail(err)
		}
		return
	}
	a.serving.Store(serving)
}

// admissionsDue returns how many whole admissions a tick of length dt owes
// at rate per second, carrying the fraction left over to the next tick so
// that a rate below one per tick is still met over time.
func admissionsDue(rate float64, dt time.Duration, carried float64) (by int64, carry float64) {
	owed := carried + rate*dt.Seconds()
	by = int64(owed)
	return by, owed - float64(by)
}
