package admission

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/backendtest"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

// fakeCore keeps counters for rooms in memory; the crowd simulation drives
// tokens, sessions and expiry through its fields.
type fakeCore struct {
	mu       sync.Mutex
	rooms    map[string]waitroom.Room
	counters map[string]*waitroom.Counters
	active   map[string]int64
	advances []int64 // every AdvanceServing amount, in order
}

func newFakeCore(rooms ...waitroom.Room) *fakeCore {
	f := &fakeCore{rooms: map[string]waitroom.Room{}, counters: map[string]*waitroom.Counters{}, active: map[string]int64{}}
	for _, r := range rooms {
		f.rooms[r.ID] = r
		f.counters[r.ID] = &waitroom.Counters{}
	}
	return f
}

func (f *fakeCore) Rooms(context.Context) ([]waitroom.Room, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []waitroom.Room
	for _, r := range f.rooms {
		out = append(out, r)
	}
	return out, nil
}

func (f *fakeCore) Counters(_ context.Context, room string) (waitroom.Counters, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.counters[room], nil
}

func (f *fakeCore) ActiveTokens(_ context.Context, room string) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.active[room], nil
}

func (f *fakeCore) AdvanceServing(_ context.Context, room string, by int64) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.counters[room]
	c.Serving = max(0, c.Serving+by)
	f.advances = append(f.advances, by)
	return c.Serving, nil
}

func (f *fakeCore) update(room string, fn func(c *waitroom.Counters)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.counters[room])
}

func (f *fakeCore) serving(room string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counters[room].Serving
}

var quiet = slog.New(slog.DiscardHandler)

// newLease is an in-process lease on clock.
func newLease(t testing.TB, clock *testenv.Clock) waitroom.Lease {
	return backendtest.Embedded(t, clock.Now).Lease("admission")
}
