package admission

import (
	"context"
	"sort"
	"sync"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// MemoryPrequeue is the in-process PrequeueStore (embedded store, tests).
type MemoryPrequeue struct {
	mu    sync.Mutex
	rooms map[string]*memoryPrequeueRoom
}

type memoryPrequeueRoom struct {
	entries []PrequeueEntry // by Seq
	byID    map[string]int
	byKey   map[string]int
	draw    *Draw
}

// NewMemoryPrequeue returns an empty in-process pre-queue store.
func NewMemoryPrequeue() *MemoryPrequeue {
	return &MemoryPrequeue{rooms: map[string]*memoryPrequeueRoom{}}
}

func (m *MemoryPrequeue) room(id string) *memoryPrequeueRoom {
	r, ok := m.rooms[id]
	if !ok {
		r = &memoryPrequeueRoom{byID: map[string]int{}, byKey: map[string]int{}}
		m.rooms[id] = r
	}
	return r
}

func (m *MemoryPrequeue) Join(_ context.Context, room string, e PrequeueEntry) (PrequeueEntry, bool, error) {
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

func (m *MemoryPrequeue) Entry(_ context.Context, room, id string) (PrequeueEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.room(room)
	i, ok := r.byID[id]
	if !ok {
		return PrequeueEntry{}, waitroom.Errorf(waitroom.CodeNotFound, "Request ID not found")
	}
	return r.entries[i], nil
}

func (m *MemoryPrequeue) Entries(_ context.Context, room string, after int64, limit int) ([]PrequeueEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	es := m.room(room).entries
	i := sort.Search(len(es), func(i int) bool { return es[i].Seq > after })
	j := min(len(es), i+limit)
	return append([]PrequeueEntry(nil), es[i:j]...), nil
}

func (m *MemoryPrequeue) CreateDraw(_ context.Context, room string, d Draw) (Draw, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.room(room)
	if r.draw == nil {
		r.draw = &d
	}
	return *r.draw, nil
}

func (m *MemoryPrequeue) Draw(_ context.Context, room string) (Draw, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d := m.room(room).draw; d != nil {
		return *d, nil
	}
	return Draw{}, waitroom.Errorf(waitroom.CodeNotFound, "the room has no pre-queue draw")
}

func (m *MemoryPrequeue) SaveProgress(_ context.Context, room string, converted int64, opened bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d := m.room(room).draw; d != nil {
		d.Converted = max(d.Converted, converted)
		d.Opened = d.Opened || opened
	}
	return nil
}
