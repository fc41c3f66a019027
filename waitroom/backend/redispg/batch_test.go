package redispg_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/redispg"
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

// tokenRecord is an hour's admission of tk, issued at now.
func tokenRecord(tk waitroom.Ticket, now time.Time) waitroom.TokenRecord {
	return waitroom.TokenRecord{Room: tk.Room, RequestID: tk.ID, Position: tk.Position, Issuer: "https://issuer.test",
		IssuedAt: now, NotBefore: now, ExpiresAt: now.Add(time.Hour), KeyID: "k", Generation: tk.Generation}
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
	record := func(tk waitroom.Ticket) waitroom.TokenRecord { return tokenRecord(tk, now) }
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

// TestTicketReadBatch: one batched read answers found tickets, unknown
// ids, the same id asked twice and leaves a caller that gave up alone.
func TestTicketReadBatch(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	s := b.open(t)
	room := mustRoom(t, s)
	now := time.Now().UTC().Truncate(time.Microsecond)
	var tks []waitroom.Ticket
	for range 5 {
		tk, _, err := s.Enqueue(ctx, room, newTicket(now, ""))
		if err != nil {
			t.Fatal(err)
		}
		tks = append(tks, tk)
	}

	// A plug read waits on a table lock while the batch gathers.
	tx, err := s.DB().BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if got, err := s.Ticket(ctx, room, tks[0].ID); err != nil || got != tks[0] {
			t.Errorf("plug Ticket = %+v, %v", got, err)
		}
	})
	waitFor(t, "the plug read to be taken", func() bool {
		n, running := s.PendingTicketReads(room)
		return running && n == 0
	})
	type answer struct {
		tk  waitroom.Ticket
		err error
	}
	ids := []string{tks[1].ID, tks[2].ID, tks[2].ID, strings.ToUpper(tks[3].ID), uuid.NewString()}
	answers := make([]answer, len(ids))
	for i, id := range ids {
		wg.Go(func() {
			tk, err := s.Ticket(ctx, room, id)
			answers[i] = answer{tk, err}
		})
	}
	gone, cancel := context.WithCancel(ctx)
	left := make(chan error, 1)
	go func() { _, err := s.Ticket(gone, room, tks[4].ID); left <- err }()
	waitFor(t, "every read to join the pending batch", func() bool { n, _ := s.PendingTicketReads(room); return n == len(ids)+1 })
	cancel()
	wantCode(t, <-left, waitroom.CodeCanceled)
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, want := range []waitroom.Ticket{tks[1], tks[2], tks[2], tks[3]} {
		if answers[i].err != nil || answers[i].tk != want {
			t.Fatalf("read %d = %+v, %v; want %+v", i, answers[i].tk, answers[i].err, want)
		}
	}
	wantCode(t, answers[len(ids)-1].err, waitroom.CodeNotFound)
}

// TestBatchedReadPlans: the batched reads probe the id index even when the
// planner knows nothing of the tables (no ANALYZE yet) and plans them
// generically, as prepared statements are after a few runs. A plan through
// the (room, generation, ...) indexes would read the whole room per batch.
func TestBatchedReadPlans(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	s := b.open(t)
	room := mustRoom(t, s)
	if _, err := s.DB().ExecContext(ctx, `
		INSERT INTO tickets (room, generation, position, id, entry_time)
		SELECT $1, 0, g, gen_random_uuid(), now() FROM generate_series(1, 20000) g`, room); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `
		INSERT INTO tokens (room, generation, request_id, position, issuer, issued_at, not_before, expires, kid)
		SELECT $1, 0, gen_random_uuid(), g, '', now(), now(), now(), 'k' FROM generate_series(1, 20000) g`, room); err != nil {
		t.Fatal(err)
	}
	conn, err := s.DB().Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, mode := range []string{"force_generic_plan", "force_custom_plan"} {
		if _, err := conn.ExecContext(ctx, `SET plan_cache_mode = `+mode); err != nil {
			t.Fatal(err)
		}
		for _, q := range []struct{ query, index string }{
			{redispg.TicketsByIDQuery, "tickets_id"},
			{redispg.TokensByRequestIDQuery, "tokens_pkey"},
		} {
			var plan []string
			ids := "{" + uuid.NewString() + "," + uuid.NewString() + "}"
			if err := conn.SelectContext(ctx, &plan, `EXPLAIN `+q.query, room, ids); err != nil {
				t.Fatal(err)
			}
			text := strings.Join(plan, "\n")
			if !strings.Contains(text, q.index) {
				t.Fatalf("%s: plan does not probe %s:\n%s", mode, q.index, text)
			}
		}
	}
	if _, err := conn.ExecContext(ctx, `RESET plan_cache_mode`); err != nil {
		t.Fatal(err)
	}
}
