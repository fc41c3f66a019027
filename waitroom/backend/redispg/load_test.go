package redispg_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/redispg"
)

// newLoadRun opens n stores on cfg, a Service on each, and creates room.
func newLoadRun(t *testing.T, cfg redispg.Config, n int, room string) (*loadRun, []*redispg.Store) {
	t.Helper()
	var stores []*redispg.Store
	for range n {
		stores = append(stores, backend{cfg: cfg}.open(t))
	}
	keys, err := waitroom.LoadKeys(ctx, stores[0], waitroom.KeyOptions{Algorithm: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	run := &loadRun{room: room, acked: map[string]int64{}, asked: map[string]bool{}}
	for _, s := range stores {
		run.services = append(run.services, waitroom.NewService(s, keys, waitroom.Options{}))
	}
	if _, err := run.services[0].CreateRoom(ctx, waitroom.NewRoom(room, room)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(run.finish)
	return run, stores
}

// start runs, per service, an enqueuer, a poller and an active-session
// counter, and one admitter over all of them.
func (r *loadRun) start() {
	for _, svc := range r.services {
		r.wg.Add(3)
		go func() { defer r.wg.Done(); r.enqueuer(svc) }()
		go func() { defer r.wg.Done(); r.poller(svc) }()
		go func() { defer r.wg.Done(); r.activeCounter(svc) }()
	}
	r.wg.Add(1)
	go func() { defer r.wg.Done(); r.admitter() }()
}

// finish stops the workers and waits for them.
func (r *loadRun) finish() {
	r.stop.Store(true)
	r.wg.Wait()
}

func (r *loadRun) activeCounter(svc *waitroom.Service) {
	for !r.stop.Load() {
		_, err := svc.ActiveTokens(ctx, r.room)
		r.active.record(time.Now(), err, false)
		time.Sleep(20 * time.Millisecond)
	}
}

// report logs each kind of call, and fails if one never ran or failed, or
// if a caller saw the serving counter move back.
func (r *loadRun) report(t *testing.T) {
	t.Helper()
	for _, k := range []struct {
		name string
		o    *outage
	}{{"enqueue", &r.enqueue}, {"poll counters", &r.poll}, {"ticket lookup", &r.lookup},
		{"advance serving", &r.admit}, {"issue token", &r.token}, {"active sessions", &r.active}} {
		t.Logf("%-15s %s", k.name, k.o)
		if k.o.calls == 0 {
			t.Errorf("%s never ran", k.name)
		}
		if k.o.errs > 0 {
			t.Errorf("%s: %d errors, want none", k.name, k.o.errs)
		}
	}
	if n := r.movedBack.Load(); n > 0 {
		t.Errorf("the serving counter was seen moving back %d times", n)
	}
	if r.poll.stales == 0 {
		t.Error("no counter read noticed the outage")
	}
}

// outage records, for one kind of call, when calls failed or answered
// stale counters.
type outage struct {
	mu                  sync.Mutex
	calls, errs, stales int
	firstBad, lastBad   time.Time
	lastErr             error
}

func (o *outage) record(at time.Time, err error, stale bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls++
	if err == nil && !stale {
		return
	}
	if err != nil {
		o.errs++
		o.lastErr = err
	} else {
		o.stales++
	}
	if o.firstBad.IsZero() {
		o.firstBad = at
	}
	o.lastBad = at
}

func (o *outage) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	window := time.Duration(0)
	if !o.firstBad.IsZero() {
		window = o.lastBad.Sub(o.firstBad)
	}
	return fmt.Sprintf("%d calls, %d errors, %d stale answers, first to last of those %v (last error: %v)",
		o.calls, o.errs, o.stales, window.Round(time.Millisecond), o.lastErr)
}

// loadRun is the shared state of the workers of the failover and restart
// tests: several store instances (as server replicas) on one Redis and one
// PostgreSQL schema.
type loadRun struct {
	room     string
	services []*waitroom.Service
	stop     atomic.Bool

	mu      sync.Mutex
	acked   map[string]int64 // request id -> position, as the caller heard it
	asked   map[string]bool  // request ids a token was asked for
	issued  int
	serving int64 // highest serving value the admitter heard

	enqueue, poll, lookup, admit, token, active outage
	movedBack                                   atomic.Int64
	wg                                          sync.WaitGroup
}

func (r *loadRun) enqueuer(svc *waitroom.Service) {
	for !r.stop.Load() {
		tk, err := svc.Enqueue(ctx, r.room, "")
		r.enqueue.record(time.Now(), err, false)
		if err == nil {
			r.mu.Lock()
			r.acked[tk.ID] = tk.Position
			r.mu.Unlock()
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// poller reads the counters as a visitor's poll does (no cache) and a
// ticket, and checks that the serving counter it sees never moves back.
func (r *loadRun) poller(svc *waitroom.Service) {
	var seen int64
	for !r.stop.Load() {
		c, err := svc.Counters(ctx, r.room)
		r.poll.record(time.Now(), err, c.Stale)
		if err == nil {
			if c.Serving < seen {
				r.movedBack.Add(1)
			}
			seen = max(seen, c.Serving)
		}
		if id, _ := r.anyTicket(); id != "" {
			_, err := svc.Ticket(ctx, r.room, id)
			r.lookup.record(time.Now(), err, false)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *loadRun) anyTicket() (string, int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, pos := range r.acked {
		return id, pos
	}
	return "", 0
}

// admitter raises the serving counter and issues tokens to the positions
// it reached, round robin over the services.
func (r *loadRun) admitter() {
	for i := 0; !r.stop.Load(); i++ {
		svc := r.services[i%len(r.services)]
		n, err := svc.AdvanceServing(ctx, r.room, 3)
		r.admit.record(time.Now(), err, false)
		if err == nil {
			r.mu.Lock()
			if n < r.serving {
				r.movedBack.Add(1)
			}
			r.serving = max(r.serving, n)
			r.mu.Unlock()
		}
		for _, id := range r.servedWithoutToken(n, 3) {
			_, err := svc.IssueToken(ctx, r.room, id, "https://issuer.test", 0)
			r.token.record(time.Now(), err, false)
			if err == nil {
				r.mu.Lock()
				r.issued++
				r.mu.Unlock()
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *loadRun) servedWithoutToken(serving int64, limit int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for id, pos := range r.acked {
		if pos <= serving && len(ids) < limit {
			if !r.asked[id] {
				r.asked[id] = true
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// checkAgainstPostgres compares what callers heard with PostgreSQL and, once
// the store repaired the room, with Redis.
func checkAgainstPostgres(t *testing.T, s *redispg.Store, run *loadRun) {
	t.Helper()
	positions := map[int64]string{}
	for id, pos := range run.acked {
		tk, err := s.Ticket(ctx, run.room, id)
		if err != nil || tk.Position != pos {
			t.Fatalf("acknowledged ticket %s (position %d): stored %+v, %v", id, pos, tk, err)
		}
		if other, dup := positions[pos]; dup {
			t.Fatalf("position %d held by %s and %s", pos, other, id)
		}
		positions[pos] = id
	}
	var tickets, distinct, tokens int64
	if err := s.DB().QueryRowContext(ctx, `SELECT count(*), count(DISTINCT position) FROM tickets WHERE room = $1`,
		run.room).Scan(&tickets, &distinct); err != nil {
		t.Fatal(err)
	}
	if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM tokens WHERE room = $1`, run.room).Scan(&tokens); err != nil {
		t.Fatal(err)
	}
	if tickets != distinct || tickets != int64(len(run.acked)) {
		t.Fatalf("PostgreSQL holds %d tickets on %d positions; %d were acknowledged", tickets, distinct, len(run.acked))
	}
	if tokens < int64(run.issued) {
		t.Fatalf("%d tokens stored, %d issued", tokens, run.issued)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		s.RepairStaleNow(ctx)
		c, err := s.Counters(ctx, run.room)
		if err == nil && !c.Stale && c.Queue == tickets && c.Tokens == tokens && c.Serving >= run.serving {
			t.Logf("afterwards: %d tickets, %d tokens (%d acknowledged), serving %d; Redis agrees with PostgreSQL",
				tickets, tokens, run.issued, c.Serving)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Redis counters %+v (%v) never agreed with PostgreSQL: queue %d, tokens %d, serving >= %d",
				c, err, tickets, tokens, run.serving)
		}
	}
}
