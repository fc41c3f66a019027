// Package embedded is the in-process backend: every store of a
// waitroom.Backend kept in memory, with the signing keys optionally in a
// file. It serves a single node (trying waitroom out, tests) and passes the
// same conformance suite (waitroom/backend/storetest) as the production
// backend. Nothing but the keys survives a restart.
package embedded

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// Options configures the embedded store.
type Options struct {
	// KeyFile keeps the signing keys (JSON, mode 0600) so that tokens stay
	// verifiable across restarts; empty keeps them in memory only.
	KeyFile string
	// Clock drives the Ephemeral TTLs and the leases (time.Now by default),
	// so that tests can travel in time. Store methods take their time from
	// the caller.
	Clock func() time.Time
}

// Store is the in-process waitroom.Store and waitroom.Ephemeral.
type Store struct {
	mu    sync.RWMutex
	rooms map[string]*roomState

	keys keyRing
	eph  ephemeral

	leaseMu sync.Mutex
	leases  map[string]*lease
	clock   func() time.Time
}

var (
	_ waitroom.Store     = (*Store)(nil)
	_ waitroom.Ephemeral = (*Store)(nil)
)

// Open opens the embedded backend, reading the keys from opts.KeyFile if
// set.
func Open(opts Options) (*waitroom.Backend, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	s := &Store{
		rooms:  make(map[string]*roomState),
		keys:   keyRing{file: opts.KeyFile},
		eph:    ephemeral{clock: opts.Clock, items: make(map[string]ephemeralItem)},
		leases: map[string]*lease{},
		clock:  opts.Clock,
	}
	if err := s.keys.load(); err != nil {
		return nil, err
	}
	return &waitroom.Backend{
		Name:      "embedded",
		Store:     s,
		Ephemeral: s,
		Clients:   &clientStore{byID: map[string]waitroom.Client{}},
		Refresh:   &refreshStore{byID: map[string]waitroom.RefreshToken{}},
		Outbox:    &outbox{byID: map[int64]*waitroom.Delivery{}},
		Prequeue:  &prequeue{rooms: map[string]*prequeueRoom{}},
		Lease:     s.lease,
		Audit:     &auditTrail{},
	}, nil
}

// lease returns the lease called name: one per name for the process.
func (s *Store) lease(name string) waitroom.Lease {
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	l, ok := s.leases[name]
	if !ok {
		l = newLease(s.clock)
		s.leases[name] = l
	}
	return l
}

// Ping always answers: there is nothing to reach.
func (s *Store) Ping(context.Context) error { return nil }

// Close does nothing; the keys are written as they change.
func (s *Store) Close() error { return nil }

var errRoomNotFound = waitroom.Errorf(waitroom.CodeNotFound, "room not found")

// state returns the live state of a room.
func (s *Store) state(id string) (*roomState, error) {
	s.mu.RLock()
	rs, ok := s.rooms[id]
	s.mu.RUnlock()
	if !ok {
		return nil, errRoomNotFound
	}
	return rs, nil
}

// locked runs fn with the room's lock held; a room deleted meanwhile is
// not found.
func (s *Store) locked(id string, fn func(rs *roomState) error) error {
	rs, err := s.state(id)
	if err != nil {
		return err
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.deleted {
		return errRoomNotFound
	}
	return fn(rs)
}

// CreateRoom stores a new room.
func (s *Store) CreateRoom(_ context.Context, room waitroom.Room) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.rooms[room.ID]; ok {
		return waitroom.Errorf(waitroom.CodeConflict, "room %s already exists", room.ID)
	}
	s.rooms[room.ID] = newRoomState(room, 0)
	return nil
}

// Room returns one room.
func (s *Store) Room(_ context.Context, id string) (waitroom.Room, error) {
	var r waitroom.Room
	err := s.locked(id, func(rs *roomState) error { r = rs.room; return nil })
	return r, err
}

// Rooms returns every room, ordered by id.
func (s *Store) Rooms(ctx context.Context) ([]waitroom.Room, error) {
	s.mu.RLock()
	ids := make([]string, 0, len(s.rooms))
	for id := range s.rooms {
		ids = append(ids, id)
	}
	s.mu.RUnlock()
	sort.Strings(ids)
	rooms := make([]waitroom.Room, 0, len(ids))
	for _, id := range ids {
		if r, err := s.Room(ctx, id); err == nil {
			rooms = append(rooms, r)
		}
	}
	return rooms, nil
}

// UpdateRoom applies fn to a copy of the room and keeps it if fn succeeds.
func (s *Store) UpdateRoom(_ context.Context, id string, fn func(*waitroom.Room) error) (waitroom.Room, error) {
	var out waitroom.Room
	err := s.locked(id, func(rs *roomState) error {
		r := rs.room
		if err := fn(&r); err != nil {
			return err
		}
		rs.room, out = r, r
		return nil
	})
	return out, err
}

// DeleteRoom removes a room and everything in it.
func (s *Store) DeleteRoom(_ context.Context, id string) error {
	s.mu.Lock()
	rs, ok := s.rooms[id]
	delete(s.rooms, id)
	s.mu.Unlock()
	if !ok {
		return errRoomNotFound
	}
	rs.mu.Lock()
	rs.deleted = true
	rs.mu.Unlock()
	return nil
}
