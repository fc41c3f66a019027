package waitroom_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// TestPollCounters: with a PollTTL the public polls answer from a copy up
// to that old (a change by another replica shows after at most the TTL),
// this Service's own writes show at once, and a burst of polls costs one
// store read.
func TestPollCounters(t *testing.T) {
	f := newFixture(t)
	room := f.room(t, nil)
	clock := func() time.Time { return f.now }
	keys, err := waitroom.LoadKeys(f.ctx, f.store, waitroom.KeyOptions{Algorithm: "ES256", Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	reads := &counterReads{Store: f.store}
	svc := waitroom.NewService(reads, keys, waitroom.Options{Clock: clock, PollTTL: time.Second})
	serving := func() int64 {
		t.Helper()
		n, err := svc.Serving(f.ctx, room)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := serving(); got != 0 {
		t.Fatalf("serving %d, want 0", got)
	}

	// Another replica moves the counter: not seen until the copy is a TTL old.
	if _, err := f.store.AdvanceServing(f.ctx, room, 5, f.now); err != nil {
		t.Fatal(err)
	}
	if got := serving(); got != 0 {
		t.Fatalf("serving %d within the TTL, want the copy (0)", got)
	}
	f.now = f.now.Add(time.Second)
	if got := serving(); got != 5 {
		t.Fatalf("serving %d after the TTL, want 5", got)
	}

	// This Service's own write is seen at once.
	if _, err := svc.AdvanceServing(f.ctx, room, 2); err != nil {
		t.Fatal(err)
	}
	if got := serving(); got != 7 {
		t.Fatalf("serving %d right after this process advanced it, want 7", got)
	}

	// 200 concurrent polls within the TTL: no further store read.
	before := reads.n.Load()
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			if _, err := svc.Waiting(f.ctx, room); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := reads.n.Load() - before; n != 0 {
		t.Fatalf("%d counter reads for 200 polls within the TTL, want 0", n)
	}
}

// TestPollTTLZeroReadsEveryTime: without a PollTTL every poll reads the store.
func TestPollTTLZeroReadsEveryTime(t *testing.T) {
	f := newFixture(t)
	room := f.room(t, nil)
	reads := &counterReads{Store: f.store}
	svc := waitroom.NewService(reads, f.svc.Keys(), waitroom.Options{Clock: func() time.Time { return f.now }})
	for range 3 {
		if _, err := svc.Serving(f.ctx, room); err != nil {
			t.Fatal(err)
		}
	}
	if n := reads.n.Load(); n != 3 {
		t.Fatalf("%d counter reads for 3 polls, want 3", n)
	}
}

// counterReads counts Counters calls.
type counterReads struct {
	waitroom.Store
	n atomic.Int64
}

func (c *counterReads) Counters(ctx context.Context, room string) (waitroom.Counters, error) {
	c.n.Add(1)
	return c.Store.Counters(ctx, room)
}

// ticketReads counts the lookups' store reads (LookupTicket).
type ticketReads struct {
	waitroom.Store
	n atomic.Int64
}

func (c *ticketReads) LookupTicket(ctx context.Context, room, id string) (waitroom.Ticket, error) {
	c.n.Add(1)
	return c.Store.LookupTicket(ctx, room, id)
}

// TestTicketLookupCache: with a PollTTL, repeated lookups of a ticket read
// the store once; an unknown id is read every time; without a PollTTL
// every lookup reads the store.
func TestTicketLookupCache(t *testing.T) {
	for _, ttl := range []time.Duration{time.Second, 0} {
		f := newFixture(t)
		room := f.room(t, nil)
		reads := &ticketReads{Store: f.store}
		svc := waitroom.NewService(reads, f.svc.Keys(), waitroom.Options{Clock: func() time.Time { return f.now }, PollTTL: ttl})
		tk, err := svc.Enqueue(f.ctx, room, "")
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			got, err := svc.Ticket(f.ctx, room, strings.ToUpper(tk.ID))
			if err != nil || got != tk {
				t.Fatalf("Ticket = %+v, %v; want %+v", got, err, tk)
			}
		}
		want := map[bool]int64{true: 1, false: 10}[ttl > 0]
		if n := reads.n.Load(); n != want {
			t.Fatalf("PollTTL %v: %d store reads for 10 lookups, want %d", ttl, n, want)
		}
		reads.n.Store(0)
		for range 3 {
			_, err := svc.Ticket(f.ctx, room, "4b1f7a1e-0000-4000-8000-000000000000")
			if waitroom.ErrorCode(err) != waitroom.CodeNotFound {
				t.Fatalf("unknown ticket: %v", err)
			}
		}
		if n := reads.n.Load(); n != 3 {
			t.Fatalf("PollTTL %v: %d store reads for 3 lookups of an unknown id, want 3", ttl, n)
		}
	}
}
