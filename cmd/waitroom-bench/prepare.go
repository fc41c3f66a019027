package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// The unmeasured work around a run: admitting visitors, filling the room,
// preparing tickets for the token and lookup floods.

func raiseTo64(a *atomic.Int64, v int64) {
	for cur := a.Load(); v > cur; cur = a.Load() {
		if a.CompareAndSwap(cur, v) {
			return
		}
	}
}

// fanOut calls fn(i) for i in [0, n) on conc goroutines and returns the
// first error (the others stop soon after).
func fanOut(ctx context.Context, n int64, conc int, fn func(ctx context.Context, i int64) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < n && ctx.Err() == nil; i = next.Add(1) - 1 {
				if err := fn(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		})
	}
	wg.Wait()
	return first
}

// enqueueMany adds n tickets to the room through the public API, keeping
// every id in ids (which must have room for n) and returning the highest
// position.
func enqueueMany(ctx context.Context, b *Bench, ids []string, withPositions bool) (int64, error) {
	var maxPos atomic.Int64
	err := fanOut(ctx, int64(len(ids)), b.cfg.PrefillConc, func(ctx context.Context, i int64) error {
		id, pos, err := b.queue.Assign(ctx, b.scratch)
		if err != nil {
			return err
		}
		ids[i] = id
		if withPositions && pos == 0 { // an answer without the position (AWS)
			pos, err = awaitPosition(ctx, b, b.scratch, id)
		}
		raiseTo64(&maxPos, pos)
		return err
	})
	return maxPos.Load(), err
}

// prepareTokenPool enqueues as many tickets as the run can use and admits
// them all, so that each operation of the run is a first token issue.
func prepareTokenPool(ctx context.Context, b *Bench) error {
	n := int64(b.cfg.PoolSize)
	if b.cfg.Mode == "open" {
		n = int64(b.cfg.Rate*(b.cfg.Warmup+b.cfg.Duration).Seconds()) + 1
	}
	b.tokenIDs = make([]string, n)
	b.tokenNext.Store(0)
	b.logf("token: preparing %d admitted tickets", n)
	maxPos, err := enqueueMany(ctx, b, b.tokenIDs, true)
	if err != nil {
		return fmt.Errorf("token pool: %w", err)
	}
	return admitUpTo(ctx, b, maxPos)
}

// admitUpTo raises the serving counter to at least pos.
func admitUpTo(ctx context.Context, b *Bench, pos int64) error {
	return b.queue.RaiseServing(ctx, b.scratch, pos)
}

// prepareLookup uses the ids sampled while filling the room, or enqueues a
// few tickets of its own when the room was not filled.
func prepareLookup(ctx context.Context, b *Bench) error {
	if len(b.lookupIDs) > 0 {
		return nil
	}
	ids := make([]string, min(b.cfg.PoolSize, 1000))
	if _, err := enqueueMany(ctx, b, ids, false); err != nil {
		return fmt.Errorf("lookup pool: %w", err)
	}
	b.lookupIDs = ids
	return nil
}

// fill brings the room up to depth waiting tickets through the public
// enqueue path, or the admin API's bulk path when configured, keeping a
// uniform sample of the new ids (reservoir sampling) so lookups hit the
// whole depth of the queue.
func fill(ctx context.Context, b *Bench, depth int64) (int64, error) {
	waiting, err := b.queue.Waiting(ctx, b.scratch)
	if err != nil || waiting >= depth {
		return waiting, err
	}
	need := depth - waiting
	sample := newReservoir(b.cfg.PoolSize)
	start := time.Now()
	var done atomic.Int64
	stop := b.progress("fill", &done, need)
	if b.cfg.BulkFill {
		err = bulkFill(ctx, b, need, sample, &done)
	} else {
		err = fanOut(ctx, need, b.cfg.PrefillConc, func(ctx context.Context, i int64) error {
			id, _, err := b.queue.Assign(ctx, b.scratch)
			if err == nil {
				sample.offer(id)
				done.Add(1)
			}
			return err
		})
	}
	stop()
	if err != nil {
		return 0, fmt.Errorf("filling the room: %w", err)
	}
	b.logf("fill: %d tickets in %v (%.0f/s)", need, time.Since(start).Round(time.Millisecond), float64(need)/time.Since(start).Seconds())
	b.lookupIDs = sample.items()
	return b.queue.Waiting(ctx, b.scratch)
}

// fillBatch is the size of one bulk-fill call (the server's maximum is
// 100000): small enough that several calls run at once and progress shows.
const fillBatch = 20000

// bulkFill adds need tickets in calls of fillBatch, a few at a time. Each
// call's sample is a uniform sample of its batch, and batches are equal,
// so offering every sampled id keeps the reservoir uniform.
func bulkFill(ctx context.Context, b *Bench, need int64, sample *reservoir, done *atomic.Int64) error {
	calls := (need + fillBatch - 1) / fillBatch
	return fanOut(ctx, calls, min(b.cfg.PrefillConc, 4), func(ctx context.Context, i int64) error {
		n := min(fillBatch, need-i*fillBatch)
		ids, err := b.queue.Fill(ctx, b.scratch, n)
		for _, id := range ids {
			sample.offer(id)
		}
		if err == nil {
			done.Add(n)
		}
		return err
	})
}

// reservoir keeps a uniform random sample of up to size offered values.
type reservoir struct {
	mu     sync.Mutex
	seen   int64
	sample []string
	size   int
}

func newReservoir(size int) *reservoir { return &reservoir{size: size} }

func (r *reservoir) offer(v string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen++
	if len(r.sample) < r.size {
		r.sample = append(r.sample, v)
		return
	}
	if j := rand.Int64N(r.seen); j < int64(r.size) {
		r.sample[j] = v
	}
}

func (r *reservoir) items() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.sample...)
}
