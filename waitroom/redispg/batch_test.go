package redispg_test

import (
	"sync"
	"testing"
	"time"
)

// TestObserveEnqueueBatches: the observer hears every group commit once,
// with its size: the sizes add up to the tickets stored.
func TestObserveEnqueueBatches(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	s := b.open(t)
	room := mustRoom(t, s)
	var mu sync.Mutex
	var commits, tickets int
	s.ObserveEnqueueBatches(func(size int) {
		mu.Lock()
		defer mu.Unlock()
		commits++
		tickets += size
	})
	const n = 40
	now := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, _, err := s.Enqueue(ctx, room, newTicket(now, "")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if tickets != n || commits < 1 || commits > n {
		t.Fatalf("observed %d commits carrying %d tickets, want %d tickets in 1..%d commits", commits, tickets, n, n)
	}
}
