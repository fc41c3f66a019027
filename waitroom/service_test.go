package waitroom_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// countingStore counts room reads and can hide the serving history.
type countingStore struct {
	waitroom.Store
	roomReads    atomic.Int64
	historyReads atomic.Int64
	hideHistory  bool
}

func (c *countingStore) Room(ctx context.Context, id string) (waitroom.Room, error) {
	c.roomReads.Add(1)
	return c.Store.Room(ctx, id)
}

func (c *countingStore) ServingRecordAtOrAbove(ctx context.Context, room string, p int64) (waitroom.ServingRecord, bool, error) {
	c.historyReads.Add(1)
	if c.hideHistory {
		return waitroom.ServingRecord{}, false, nil
	}
	return c.Store.ServingRecordAtOrAbove(ctx, room, p)
}

func (c *countingStore) ServingHistory(ctx context.Context, room string, above int64, limit int) ([]waitroom.ServingRecord, error) {
	if c.hideHistory {
		return nil, nil
	}
	return c.Store.ServingHistory(ctx, room, above, limit)
}

type fixture struct {
	ctx   context.Context
	store *countingStore
	svc   *waitroom.Service
	now   time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{ctx: context.Background(), store: &countingStore{Store: newStore(t)}, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return f.now }
	keys, err := waitroom.LoadKeys(f.ctx, f.store, waitroom.KeyOptions{Algorithm: "ES256", Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = waitroom.NewService(f.store, keys, waitroom.Options{Clock: clock})
	return f
}

func (f *fixture) room(t *testing.T, edit func(*waitroom.Room)) string {
	t.Helper()
	r := waitroom.NewRoom("r1", "")
	if edit != nil {
		edit(&r)
	}
	if _, err := f.svc.CreateRoom(f.ctx, r); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func TestRoomIsCachedForTheTTL(t *testing.T) {
	f := newFixture(t)
	room := f.room(t, nil)
	for range 100 {
		if _, err := f.svc.Serving(f.ctx, room); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.store.roomReads.Load(); n != 1 {
		t.Fatalf("%d room reads for 100 calls within the TTL, want 1", n)
	}
	f.now = f.now.Add(waitroom.DefaultRoomCacheTTL)
	if _, err := f.svc.Serving(f.ctx, room); err != nil {
		t.Fatal(err)
	}
	if n := f.store.roomReads.Load(); n != 2 {
		t.Fatalf("room not read again after the TTL (%d reads)", n)
	}
	if _, err := f.svc.UpdateRoom(f.ctx, room, func(r *waitroom.Room) error { r.AutoAdvance = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if r, _ := f.svc.Room(f.ctx, room); !r.AutoAdvance {
		t.Fatal("this process's own update is not seen at once")
	}
}

// TestMissingHistoryRow: a served position no history row covers is
// neither an error nor expired; the job passes over it.
func TestMissingHistoryRow(t *testing.T) {
	f := newFixture(t)
	room := f.room(t, func(r *waitroom.Room) { r.ExpiryPeriod = waitroom.Duration(100 * time.Second) })
	tk, err := f.svc.Enqueue(f.ctx, room, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SetServing(f.ctx, room, 5); err != nil {
		t.Fatal(err)
	}
	f.store.hideHistory = true
	f.now = f.now.Add(time.Hour)
	left, err := f.svc.QueuePositionExpiry(f.ctx, room, tk.ID)
	if err != nil || left != 100*time.Second {
		t.Fatalf("QueuePositionExpiry = %v, %v; want the full period, no error", left, err)
	}
	if _, err := f.svc.ExpireRoom(f.ctx, room); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.IssueToken(f.ctx, room, tk.ID, "", 0); err != nil {
		t.Fatalf("IssueToken without a history row: %v", err)
	}
}

// TestYoungPositionIssuesWithoutHistory: a position that entered less
// than one expiry period ago cannot have expired, so its first issue reads
// no serving history; an older one still does, and still expires.
func TestYoungPositionIssuesWithoutHistory(t *testing.T) {
	f := newFixture(t)
	room := f.room(t, func(r *waitroom.Room) { r.ExpiryPeriod = waitroom.Duration(100 * time.Second) })
	young, err := f.svc.Enqueue(f.ctx, room, "")
	if err != nil {
		t.Fatal(err)
	}
	old, err := f.svc.Enqueue(f.ctx, room, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SetServing(f.ctx, room, 2); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(99 * time.Second)
	if _, err := f.svc.IssueToken(f.ctx, room, young.ID, "", 0); err != nil {
		t.Fatal(err)
	}
	if n := f.store.historyReads.Load(); n != 0 {
		t.Fatalf("%d history reads for a position 99 s old (period 100 s), want 0", n)
	}
	f.now = f.now.Add(2 * time.Second)
	_, err = f.svc.IssueToken(f.ctx, room, old.ID, "", 0)
	if waitroom.ErrorCode(err) != waitroom.CodeExpired {
		t.Fatalf("IssueToken 101 s after entry and admission = %v, want expired", err)
	}
	if n := f.store.historyReads.Load(); n == 0 {
		t.Fatal("an old position was judged without its history row")
	}
	if _, err := f.svc.IssueToken(f.ctx, room, young.ID, "", 0); err != nil {
		t.Fatalf("repeat issue after the period: %v (the token stops position expiry)", err)
	}
}

// TestExpiryPagesThroughLongHistory: more rows than one history page are
// all walked in one pass.
func TestExpiryPagesThroughLongHistory(t *testing.T) {
	f := newFixture(t)
	room := f.room(t, func(r *waitroom.Room) { r.ExpiryPeriod = waitroom.Duration(100 * time.Second) })
	for range 300 {
		if _, err := f.svc.Enqueue(f.ctx, room, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.ExpireRoom(f.ctx, room); err != nil {
		t.Fatal(err)
	}
	for range 200 {
		if _, err := f.svc.AdvanceServing(f.ctx, room, 1); err != nil {
			t.Fatal(err)
		}
	}
	f.now = f.now.Add(101 * time.Second)
	res, err := f.svc.ExpireRoom(f.ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	if res.MaxExpired != 200 || res.Expired != 200 || res.Steps != 200 {
		t.Fatalf("ExpireRoom = %+v, want all 200 rows applied", res)
	}
}

func TestExpireRoomWithExpiryOff(t *testing.T) {
	f := newFixture(t)
	room := f.room(t, func(r *waitroom.Room) { r.ExpiryEnabled = false })
	res, err := f.svc.ExpireRoom(f.ctx, room)
	if err != nil || res != (waitroom.ExpiryResult{}) {
		t.Fatalf("ExpireRoom with expiry off = %+v, %v", res, err)
	}
}

// TestRepeatIssueAfterRotation: a repeat issue signs with the key of the
// first issue, so the strings stay identical across a rotation.
func TestRepeatIssueAfterRotation(t *testing.T) {
	f := newFixture(t)
	room := f.room(t, nil)
	tk, err := f.svc.Enqueue(f.ctx, room, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SetServing(f.ctx, room, 1); err != nil {
		t.Fatal(err)
	}
	first, err := f.svc.IssueToken(f.ctx, room, tk.ID, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Keys().Rotate(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(waitroom.DefaultPublishAhead)
	if kid, _, _ := f.svc.Keys().Current(); kid == first.Record.KeyID {
		t.Fatal("rotation did not change the signing key")
	}
	again, err := f.svc.IssueToken(f.ctx, room, tk.ID, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if again.Access != first.Access || again.ID != first.ID {
		t.Fatal("repeat issue after a rotation changed the tokens")
	}
}

// interleavingStore runs hook once, just before the first CountTokens: the
// moment between planning an expiry step and applying it.
type interleavingStore struct {
	waitroom.Store
	once sync.Once
	hook func()
}

func (s *interleavingStore) CountTokens(ctx context.Context, room string, lo, hi int64) (int64, error) {
	s.once.Do(s.hook)
	return s.Store.CountTokens(ctx, room, lo, hi)
}

// TestExpiryPassInterleaved: another process runs a whole pass between
// this pass planning its first step and applying it; every step still
// applies exactly once.
func TestExpiryPassInterleaved(t *testing.T) {
	f := newFixture(t)
	room := f.room(t, func(r *waitroom.Room) { r.ExpiryPeriod = waitroom.Duration(100 * time.Second); r.AutoAdvance = true })
	clock := func() time.Time { return f.now }
	other := waitroom.NewService(f.store, f.svc.Keys(), waitroom.Options{Clock: clock})
	hooked := &interleavingStore{Store: f.store}
	hooked.hook = func() {
		if _, err := other.ExpireRoom(f.ctx, room); err != nil {
			t.Error(err)
		}
	}
	mine := waitroom.NewService(hooked, f.svc.Keys(), waitroom.Options{Clock: clock})
	for range 40 {
		if _, err := f.svc.Enqueue(f.ctx, room, ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []*waitroom.Service{mine, other} {
		if _, err := s.ExpireRoom(f.ctx, room); err != nil { // a first pass each, before any row is old
			t.Fatal(err)
		}
	}
	for v := int64(5); v <= 30; v += 5 {
		if _, err := f.svc.SetServing(f.ctx, room, v); err != nil {
			t.Fatal(err)
		}
	}
	f.now = f.now.Add(101 * time.Second)
	if _, err := mine.ExpireRoom(f.ctx, room); err != nil {
		t.Fatal(err)
	}
	c, _ := f.svc.Counters(f.ctx, room)
	if c.MaxExpired != 30 || c.Expired != 30 || c.Serving != 60 {
		t.Fatalf("counters = %+v, want each step once: expired 30, serving 60", c)
	}
}
