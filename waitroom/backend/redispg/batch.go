package redispg

import (
	"context"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// batcher runs group commits per key (a room): a caller appends its
// request to the key's pending list and waits for its answer; one goroutine
// per key with pending requests takes them, up to max at a time, and hands
// each batch to commit. While a batch commits the next one gathers, so
// batches grow with the load and a lone caller waits for one commit only.
// The goroutine retires once nothing is pending, and Close waits for it
// (Store.flushing), so every submitted request is answered.
type batcher[R any] struct {
	s      *Store
	max    int
	commit func(key string, batch []R)
	// pending holds a key for as long as its goroutine runs (guarded by
	// s.mu, which also guards s.closed).
	pending map[string][]R
}

func newBatcher[R any](s *Store, max int, commit func(key string, batch []R)) *batcher[R] {
	return &batcher[R]{s: s, max: max, commit: commit, pending: map[string][]R{}}
}

// submit queues req for key's next batch; CodeUnavailable once the store
// is closing.
func (b *batcher[R]) submit(key string, req R) error {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	if b.s.closed {
		return waitroom.Errorf(waitroom.CodeUnavailable, "the store is shutting down")
	}
	list, running := b.pending[key]
	if !running {
		b.s.flushing.Add(1)
		go b.run(key)
	}
	b.pending[key] = append(list, req)
	return nil
}

// await submits req for key's next batch and waits for its answer on done
// (which the commit must fill), or for ctx to end: then CodeCanceled (the
// caller left) or CodeUnavailable (past its deadline),
// "the request ended before <what>".
func await[R, A any](ctx context.Context, b *batcher[R], key string, req R, done <-chan A, what string) (A, error) {
	var zero A
	if err := b.submit(key, req); err != nil {
		return zero, err
	}
	select {
	case res := <-done:
		return res, nil
	case <-ctx.Done():
		return zero, mapErr(ctx.Err(), "the request ended before "+what)
	}
}

func (b *batcher[R]) run(key string) {
	defer b.s.flushing.Done()
	for {
		batch := b.next(key)
		if batch == nil {
			return
		}
		b.commit(key, batch)
	}
}

// next takes up to max pending requests, or retires the key (nil) when
// there are none.
func (b *batcher[R]) next(key string) []R {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	list := b.pending[key]
	n := min(len(list), b.max)
	if n == 0 {
		delete(b.pending, key)
		return nil
	}
	batch := list[:n:n]
	if rest := list[n:]; len(rest) > 0 {
		b.pending[key] = append([]R(nil), rest...)
	} else {
		b.pending[key] = nil // the key stays: its goroutine still runs
	}
	return batch
}
