package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/waitroom-idp/waitroom/waitroom"
)

func concurrencyTests() []testCase {
	return []testCase{
		{"ConcurrentEnqueueAcrossReplicas", true, testConcurrentEnqueue},
		{"ConcurrentKeyedEnqueueAcrossReplicas", true, testConcurrentKeyedEnqueue},
		{"LoseFastState", true, testLoseFastState},
		{"ResetDuringEnqueues", true, testResetDuringEnqueues},
	}
}

// testConcurrentEnqueue: 500 enqueues over 4 replicas give 500 distinct,
// contiguous positions and 500 tickets that can be read back.
func testConcurrentEnqueue(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	stores := []waitroom.Store{e.store, e.anotherStore(t), e.anotherStore(t), e.anotherStore(t)}
	const total = 500
	tickets := make([]waitroom.Ticket, total)
	errs := make([]error, total)
	var wg sync.WaitGroup
	for i := range total {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := stores[i%len(stores)]
			tickets[i], _, errs[i] = st.Enqueue(e.ctx, r.ID, waitroom.NewTicket{ID: uuid.NewString(), EntryTime: e.clock.Now()})
		}()
	}
	wg.Wait()
	seen := make(map[int64]bool, total)
	for i, tk := range tickets {
		noErr(t, errs[i])
		if seen[tk.Position] || tk.Position < 1 || tk.Position > total {
			t.Fatalf("position %d repeated or out of 1..%d", tk.Position, total)
		}
		seen[tk.Position] = true
	}
	for i, tk := range tickets {
		got, err := stores[(i+1)%len(stores)].Ticket(e.ctx, r.ID, tk.ID)
		noErr(t, err)
		if got.Position != tk.Position {
			t.Fatalf("ticket %s read back at %d, was given %d", tk.ID, got.Position, tk.Position)
		}
	}
	if c := e.counters(r.ID); c.Queue != total {
		t.Fatalf("queue counter = %d, want %d", c.Queue, total)
	}
}

// testConcurrentKeyedEnqueue: enqueues over 4 replicas where 40 keys are
// each sent 6 times at once, mixed with 60 calls without a key, give one
// ticket per key (every repeat answered with it, created once), one per
// keyless call, and contiguous positions: a repeated key never takes or
// skips a place. After a reset the same keys take new places.
func testConcurrentKeyedEnqueue(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	stores := []waitroom.Store{e.store, e.anotherStore(t), e.anotherStore(t), e.anotherStore(t)}
	const keys, repeats, keyless = 40, 6, 60
	type call struct {
		key     string
		ticket  waitroom.Ticket
		created bool
		err     error
	}
	run := func() []call {
		calls := make([]call, 0, keys*repeats+keyless)
		for k := range keys {
			for range repeats {
				calls = append(calls, call{key: fmt.Sprintf("browser-%d", k)})
			}
		}
		for range keyless {
			calls = append(calls, call{})
		}
		var wg sync.WaitGroup
		for i := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := &calls[i]
				c.ticket, c.created, c.err = stores[i%len(stores)].Enqueue(e.ctx, r.ID,
					waitroom.NewTicket{ID: uuid.NewString(), EntryTime: e.clock.Now(), Key: c.key})
			}()
		}
		wg.Wait()
		return calls
	}
	check := func(calls []call, gen int64) map[string]waitroom.Ticket {
		byKey := map[string]waitroom.Ticket{}
		made := map[string]int{}
		positions := map[int64]string{}
		for _, c := range calls {
			noErr(t, c.err)
			if c.ticket.Generation != gen {
				t.Fatalf("ticket of generation %d, want %d", c.ticket.Generation, gen)
			}
			if c.created {
				made[c.key]++
				if other, ok := positions[c.ticket.Position]; ok {
					t.Fatalf("position %d given twice (%q and %q)", c.ticket.Position, other, c.key)
				}
				positions[c.ticket.Position] = c.key
			}
			if c.key == "" {
				if !c.created {
					t.Fatal("an enqueue without a key was answered with an existing ticket")
				}
				continue
			}
			if first, ok := byKey[c.key]; ok && (first.ID != c.ticket.ID || first.Position != c.ticket.Position || !first.EntryTime.Equal(c.ticket.EntryTime)) {
				t.Fatalf("key %s answered with %+v and with %+v", c.key, first, c.ticket)
			}
			byKey[c.key] = c.ticket
		}
		for k := range byKey {
			if made[k] != 1 {
				t.Fatalf("key %s reported created %d times, want once", k, made[k])
			}
		}
		for p := int64(1); p <= keys+keyless; p++ {
			if _, ok := positions[p]; !ok {
				t.Fatalf("position %d skipped: %d places for %d keys and %d keyless calls", p, len(positions), keys, keyless)
			}
		}
		if c := e.counters(r.ID); c.Queue != keys+keyless || c.Generation != gen {
			t.Fatalf("counters = %+v, want queue %d in generation %d", c, keys+keyless, gen)
		}
		for k, tk := range byKey {
			got, err := stores[len(k)%len(stores)].Ticket(e.ctx, r.ID, tk.ID)
			noErr(t, err)
			if got.Position != tk.Position {
				t.Fatalf("ticket of %s read back at %d, was given %d", k, got.Position, tk.Position)
			}
		}
		return byKey
	}
	gen := e.counters(r.ID).Generation
	before := check(run(), gen)
	noErr(t, e.svc.Reset(e.ctx, r.ID))
	after := check(run(), gen+1)
	for k, tk := range after {
		if before[k].ID == tk.ID {
			t.Fatalf("key %s kept its ticket through a reset", k)
		}
	}
}

// testLoseFastState: losing the fast copy of the counters loses nothing.
func testLoseFastState(t *testing.T, b Backend) {
	e := newEnv(t, b)
	if e.inst.LoseFastState == nil {
		t.Skip("backend keeps no fast copy of the counters")
	}
	r := e.newRoom()
	tks := e.admitted(r.ID, 5)
	e.issue(r.ID, tks[0].ID)
	e.issue(r.ID, tks[1].ID)
	noErr(t, e.svc.UpdateSession(e.ctx, r.ID, tks[0].ID, waitroom.SessionCompleted))
	noErr(t, e.svc.UpdateSession(e.ctx, r.ID, tks[1].ID, waitroom.SessionAbandoned))
	gen := e.counters(r.ID).Generation
	_, err := e.store.MarkExpired(e.ctx, r.ID, gen, 3, 1, 1, e.clock.Now())
	noErr(t, err)
	before := e.counters(r.ID)
	e.inst.LoseFastState(t)
	after, err := e.store.Counters(e.ctx, r.ID)
	noErr(t, err)
	if after != before {
		t.Fatalf("counters after losing the fast state = %+v, want %+v", after, before)
	}
	e.inst.LoseFastState(t)
	tk := e.enqueue(r.ID)
	if tk.Position != 6 {
		t.Fatalf("enqueue after losing the fast state got position %d, want 6", tk.Position)
	}
	e.inst.LoseFastState(t)
	if c := e.counters(r.ID); c.Serving != before.Serving || c.Queue != 6 {
		t.Fatalf("counters = %+v", c)
	}
}

// testResetDuringEnqueues: a reset racing enqueues leaves consistent
// counters; tickets of the old generation are gone, the new ones are
// 1..queue.
func testResetDuringEnqueues(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	stores := []waitroom.Store{e.store, e.anotherStore(t)}
	const workers, each = 4, 50
	var (
		mu      sync.Mutex
		tickets []waitroom.Ticket
		wg      sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				tk, _, err := stores[w%2].Enqueue(e.ctx, r.ID, waitroom.NewTicket{ID: uuid.NewString(), EntryTime: e.clock.Now()})
				if err != nil && !isCode(err, waitroom.CodeUnavailable) {
					t.Errorf("Enqueue during reset: %v (only unavailable is allowed)", err)
				}
				if err == nil {
					mu.Lock()
					tickets = append(tickets, tk)
					mu.Unlock()
				}
			}
		}()
	}
	noErr(t, e.anotherStore(t).Reset(e.ctx, r.ID))
	wg.Wait()
	c := e.counters(r.ID)
	newPositions := map[int64]bool{}
	for _, tk := range tickets {
		_, err := e.store.Ticket(e.ctx, r.ID, tk.ID)
		if tk.Generation < c.Generation {
			wantCode(t, err, waitroom.CodeNotFound)
			continue
		}
		noErr(t, err)
		if newPositions[tk.Position] || tk.Position > c.Queue {
			t.Fatalf("position %d repeated or above the queue counter %d", tk.Position, c.Queue)
		}
		newPositions[tk.Position] = true
	}
	if int64(len(newPositions)) != c.Queue {
		t.Fatalf("%d tickets in the new generation, queue counter %d", len(newPositions), c.Queue)
	}
}
