package redispg_test

import (
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/waitroom-idp/waitroom/waitroom"
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

// TestTokenBatchMixed: one group commit holding new records, records that
// exist already, repeats of one request and a record of a generation that
// is not current answers each caller as a lone CreateToken would, and
// counts only the records it created.
func TestTokenBatchMixed(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	s := b.open(t)
	room := mustRoom(t, s)
	now := time.Now().UTC().Truncate(time.Second)
	record := func(tk waitroom.Ticket) waitroom.TokenRecord {
		return waitroom.TokenRecord{Room: room, RequestID: tk.ID, Position: tk.Position, Issuer: "https://issuer.test",
			IssuedAt: now, NotBefore: now, ExpiresAt: now.Add(time.Hour), KeyID: "k", Generation: tk.Generation}
	}
	var tks []waitroom.Ticket
	for range 31 {
		tk, _, err := s.Enqueue(ctx, room, newTicket(now, ""))
		if err != nil {
			t.Fatal(err)
		}
		tks = append(tks, tk)
	}
	for _, tk := range tks[1:11] { // issued before: the batch finds them
		if _, created, err := s.CreateToken(ctx, record(tk)); err != nil || !created {
			t.Fatalf("CreateToken = %v, %v", created, err)
		}
	}

	// A plug batch waits on the fence while the mixed batch gathers.
	release, err := s.HoldTokenFenceExclusive(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, created, err := s.CreateToken(ctx, record(tks[0])); err != nil || !created {
			t.Errorf("plug CreateToken = %v, %v", created, err)
		}
	})
	waitFor(t, "the plug batch to be taken", func() bool {
		n, running := s.PendingTokens(room)
		return running && n == 0
	})
	type answer struct {
		rec     waitroom.TokenRecord
		created bool
		err     error
	}
	const calls = 2
	answers := make([][calls]answer, len(tks))
	for i, tk := range tks[1:] {
		for c := range calls {
			wg.Go(func() {
				rec, created, err := s.CreateToken(ctx, record(tk))
				answers[i+1][c] = answer{rec, created, err}
			})
		}
	}
	stale := record(tks[0])
	stale.RequestID, stale.Generation = uuid.NewString(), tks[0].Generation+1
	var staleErr error
	wg.Go(func() { _, _, staleErr = s.CreateToken(ctx, stale) })
	want := calls*(len(tks)-1) + 1
	waitFor(t, "every call to join the pending batch", func() bool { n, _ := s.PendingTokens(room); return n == want })
	if err := release(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	wantCode(t, staleErr, waitroom.CodeNotFound)
	for i, tk := range tks[1:] {
		a := answers[i+1]
		created := 0
		for _, x := range a {
			if x.err != nil {
				t.Fatalf("ticket %d: %v", i+1, x.err)
			}
			if x.rec.RequestID != tk.ID || x.rec != a[0].rec {
				t.Fatalf("ticket %d: records %+v and %+v", i+1, x.rec, a[0].rec)
			}
			if x.created {
				created++
			}
		}
		if want := map[bool]int{true: 0, false: 1}[i < 10]; created != want {
			t.Fatalf("ticket %d: %d calls created the record, want %d", i+1, created, want)
		}
	}
	c, err := s.Counters(ctx, room)
	if err != nil || c.Tokens != int64(len(tks)) {
		t.Fatalf("tokens counter = %d, %v; want %d", c.Tokens, err, len(tks))
	}
	n, err := s.ActiveTokens(ctx, room, now)
	if err != nil || n != int64(len(tks)) {
		t.Fatalf("active tokens = %d, %v; want %d", n, err, len(tks))
	}
}

// waitFor polls cond until it holds, failing the test after a long while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}
