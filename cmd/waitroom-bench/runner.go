package main

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// window is what one measured run saw.
type window struct {
	rec      *Recorder
	start    time.Time // end of the warm-up
	elapsed  time.Duration
	server   procUsage
	self     procUsage
	delayed  int64 // open loop: arrivals that waited for a free slot (-c reached)
	stopped  bool  // the run ended early: its pool was used up
	inFlight int64 // operations still running when the drain time ran out
	// completed counts operations that ended inside the window (whenever
	// they were due): the throughput. The latency histogram holds the
	// operations due inside it (started, in closed loop), wherever they
	// ended, so that slow ones are not left out.
	completed int64
	// acknowledged counts the enqueues answered 200 during the whole run
	// (warm-up included).
	acknowledged uint64
}

// run is the shared state of one measurement.
type run struct {
	b          *Bench
	sc         Scenario
	warm, meas *Recorder
	measStart  time.Time
	end        time.Time
	exhausted  atomic.Bool
	stopAt     atomic.Int64 // unix nanos when the pool ran out (0: it did not)
	inWindow   atomic.Int64 // operations that completed inside the measured window
	running    atomic.Int64
	delayed    atomic.Int64
}

// measure runs sc for the warm-up and the measured duration, in the
// configured loop mode, and returns the measured window.
func (b *Bench) measure(ctx context.Context, sc Scenario) window {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	now := time.Now()
	r := &run{b: b, sc: sc, warm: NewRecorder(sc.Steps), meas: NewRecorder(sc.Steps),
		measStart: now.Add(b.cfg.Warmup)}
	r.end = r.measStart.Add(b.cfg.Duration)
	b.rec.Store(r.warm)
	// Background work (the admitter) records into the measured window from
	// the end of the warm-up.
	switchRec := time.AfterFunc(b.cfg.Warmup, func() { b.rec.Store(r.meas) })
	defer switchRec.Stop()
	hooks := b.windowHooks()
	defer hooks.finish()
	if sc.Background != nil {
		bg, stopBG := context.WithCancel(ctx)
		defer stopBG()
		go sc.Background(bg, b)
	}
	watch := r.watchProcesses()
	var wg sync.WaitGroup
	if b.cfg.Mode == "open" {
		r.openLoop(ctx, now, &wg)
	} else {
		r.closedLoop(ctx, &wg)
	}
	inFlight := r.drain(&wg, cancel)
	hooks.finish()
	w := window{rec: r.meas, start: r.measStart, delayed: r.delayed.Load(), stopped: r.exhausted.Load(), inFlight: inFlight}
	w.server, w.self = watch()
	w.elapsed = r.window()
	w.completed = r.inWindow.Load()
	w.acknowledged = acknowledgedEnqueues(r.warm) + acknowledgedEnqueues(r.meas)
	b.rec.Store(b.scratch)
	return w
}

// recorderFor picks the recorder of an operation due (or started) at t.
func (r *run) recorderFor(t time.Time) *Recorder {
	if t.Before(r.measStart) {
		return r.warm
	}
	return r.meas
}

// do runs one operation and records it; it reports false when the
// scenario's pool is used up.
func (r *run) do(ctx context.Context, due time.Time, open bool) bool {
	rec := r.recorderFor(due)
	if open {
		rec.Lag.Record(time.Since(due))
	}
	err := r.sc.Op(ctx, r.b, rec)
	if errors.Is(err, errExhausted) {
		if r.exhausted.CompareAndSwap(false, true) {
			r.stopAt.Store(time.Now().UnixNano())
		}
		return false
	}
	done := time.Now()
	rec.Op(due, done, err)
	if !done.Before(r.measStart) && !done.After(r.end) {
		r.inWindow.Add(1)
	}
	return true
}

// closedLoop keeps cfg.Users users busy, each starting its next operation
// when the last one ends, until the end of the run.
func (r *run) closedLoop(ctx context.Context, wg *sync.WaitGroup) {
	for range r.b.cfg.Users {
		r.running.Add(1)
		wg.Go(func() {
			defer r.running.Add(-1)
			for {
				start := time.Now()
				if !start.Before(r.end) || ctx.Err() != nil || r.exhausted.Load() {
					return
				}
				if !r.do(ctx, start, false) {
					return
				}
			}
		})
	}
}

// openLoop starts operations on the schedule, each on its own goroutine,
// with at most cfg.Users in flight. When that many are running the next
// arrival waits for a slot, but its latency still counts from its due time.
func (r *run) openLoop(ctx context.Context, start time.Time, wg *sync.WaitGroup) {
	s := Schedule{Start: start, Rate: r.b.cfg.Rate, End: r.end}
	slots := make(chan struct{}, r.b.cfg.Users)
	for next, total := int64(0), s.Total(); next < total; {
		for due := s.DueBy(time.Now()); next < due; next++ {
			if !r.acquire(ctx, slots) || r.exhausted.Load() {
				return
			}
			r.running.Add(1)
			at := s.Due(next)
			wg.Go(func() {
				defer func() { <-slots; r.running.Add(-1) }()
				r.do(ctx, at, true)
			})
		}
		// Sleep until the next arrival is due; what the timer oversleeps
		// is charged to the latency of the arrivals it delays.
		if next < total && r.sleepUntil(ctx, s.Due(next)) != nil {
			return
		}
	}
}

func (r *run) acquire(ctx context.Context, slots chan struct{}) bool {
	select {
	case slots <- struct{}{}:
		return true
	default:
	}
	r.delayed.Add(1)
	select {
	case slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (r *run) sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// drain waits for running operations until cfg.Drain after the planned
// end, then cancels them (they are recorded as canceled) and returns how
// many were cut off.
func (r *run) drain(wg *sync.WaitGroup, cancel context.CancelFunc) int64 {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	timer := time.NewTimer(time.Until(r.end.Add(r.b.cfg.Drain)))
	defer timer.Stop()
	select {
	case <-done:
		return 0
	case <-timer.C:
	}
	n := r.running.Load()
	cancel()
	<-done
	return n
}

// window returns the measured window's length: from the end of the
// warm-up to the planned end, or to when the pool ran out if earlier.
func (r *run) window() time.Duration {
	end := r.end
	if at := r.stopAt.Load(); at != 0 && time.Unix(0, at).Before(end) {
		end = time.Unix(0, at)
	}
	return max(end.Sub(r.measStart), time.Millisecond)
}

// watchProcesses samples the server's and the generator's CPU time and
// memory from the end of the warm-up to the planned end of the run (or
// until the returned function is called, if earlier).
func (r *run) watchProcesses() func() (server, self procUsage) {
	ctx, cancel := context.WithCancel(context.Background())
	var server, self procUsage
	var wg sync.WaitGroup
	wg.Go(func() {
		if r.sleepUntil(ctx, r.measStart) != nil {
			return
		}
		srv := startProcWatch(r.b.cfg.ServerPID)
		me := startProcWatch(selfPID())
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		end := time.NewTimer(time.Until(r.end))
		defer end.Stop()
		for {
			select {
			case <-t.C:
				srv.sample()
				me.sample()
				continue
			case <-ctx.Done():
			case <-end.C:
			}
			server, self = srv.stop(), me.stop()
			return
		}
	})
	return func() (procUsage, procUsage) {
		cancel()
		wg.Wait()
		return server, self
	}
}

func acknowledgedEnqueues(rec *Recorder) uint64 {
	s, ok := rec.steps[stepAssign]
	if !ok {
		return 0
	}
	return s.statuses[200].Load()
}
