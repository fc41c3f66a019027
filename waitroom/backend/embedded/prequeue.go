package embedded

import (
	"context"
	"sort"
	"sync"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// prequeue is the in-process waitroom.PrequeueStore.
type prequeue struct {
	mu    sync.Mutex
	rooms map[string]*prequeueRoom
}

type prequeueRoom struct {
	entries []waitroom.PrequeueEntry // by Seq
	byID    map[string]int
	byKey   map[string]int
	draw    *waitroom.PrequeueDraw
}

func (m *prequeue) room(id string) *prequeueRoom {
	r, ok := m.rooms[id]
	if !ok {
		r = &prequeueRoom{byID: map[string]int{}, byKey: map[string]int{}}
		m.rooms[id] = r
	}
	return r
}

func (m *prequeue) Join(_ context.Context, room string, e waitroom.PrequeueEntry) (waitroom.PrequeueEntry, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.room(room)
	if i, ok := r.byKey[e.Key]; ok && e.Key != "" {
		return r.entries[i], false, nil
	}
	e.Seq = int64(len(r.entries)) + 1
	r.entries = append(r.entries, e)
	r.byID[e.ID] = len(r.entries) - 1
	if e.Key != "" {
		r.byKey[e.Key] = len(r.entries) - 1
	}
	return e, true, nil
}

func (m *prequeue) Entry(_ context.Context, room, id string) (waitroom.PrequeueEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.room(room)
	i, ok := r.byID[id]
	if !ok {
		return waitroom.PrequeueEntry{}, waitroom.Errorf(waitroom.CodeNotFound, "Request ID not found")
	}
	return r.entries[i], nil
}

func (m *prequeue) Entries(_ context.Context, room string, after int64, limit int) ([]waitroom.PrequeueEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	es := m.room(room).entries
	i := sort.Search(len(es), func(i int) bool { return es[i].Seq > after })
	j := min(len(es), i+limit)
	return append([]waitroom.PrequeueEntry(nil), es[i:j]...), nil
}

func (m *prequeue) CreateDraw(_ context.Context, room string, d waitroom.PrequeueDraw) (waitroom.PrequeueDraw, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.room(room)
	if r.draw == nil {
		r.draw = &d
	}
	return *r.draw, nil
}

func (m *prequeue) Draw(_ context.Context, room string) (waitroom.PrequeueDraw, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d := m.room(room).draw; d != nil {
		return *d, nil
	}
	return waitroom.PrequeueDraw{}, waitroom.Errorf(waitroom.CodeNotFound, "the room has no pre-queue draw")
}

func (m *prequeue) SaveProgress(_ context.Context, room string, converted int64, opened bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d := m.room(room).draw; d != nil {
		d.Converted = max(d.Converted, converted)
		d.Opened = d.Opened || opened
	}
	return nil
}
