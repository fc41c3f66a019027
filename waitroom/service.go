package waitroom

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultRoomCacheTTL is how long Service trusts a room it read.
const DefaultRoomCacheTTL = time.Second

// Options configures a Service.
type Options struct {
	// Clock is the time source; time.Now by default. Tests travel with it.
	Clock  func() time.Time
	Logger *slog.Logger
	// RoomCacheTTL is how long a room read from the store is reused by this
	// process (default DefaultRoomCacheTTL), so hot paths do not read the
	// room on every request. Changes made through this Service are seen at
	// once; changes made by another replica after at most this long.
	RoomCacheTTL time.Duration
	// PollTTL lets the public polls (Serving, Waiting) answer from a copy
	// of the counters up to this old, one store read per room and period
	// whatever the number of browsers polling. 0 (the default) reads the
	// store every time. Writes through this Service forget the copy;
	// admission decisions never use it.
	PollTTL time.Duration
}

// Service applies the queue rules on top of a Store: validation, defaults,
// admission, tokens and expiry. It is safe for concurrent use.
type Service struct {
	store Store
	keys  *Keys
	clock func() time.Time
	log   *slog.Logger

	roomTTL time.Duration
	rooms   sync.Map // room id -> cachedRoom

	polls   pollCache
	tickets ticketCache
}

type cachedRoom struct {
	room  Room
	until time.Time
}

// NewService returns a Service over store, signing with keys.
func NewService(store Store, keys *Keys, opts Options) *Service {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.RoomCacheTTL <= 0 {
		opts.RoomCacheTTL = DefaultRoomCacheTTL
	}
	return &Service{
		store:   store,
		keys:    keys,
		clock:   opts.Clock,
		log:     opts.Logger,
		roomTTL: opts.RoomCacheTTL,
		polls:   pollCache{ttl: opts.PollTTL},
	}
}

// Keys returns the signing keys the Service uses.
func (s *Service) Keys() *Keys { return s.keys }

func (s *Service) now() time.Time { return s.clock() }

// stamp is the time written to the store: UTC, in microseconds, which is
// what PostgreSQL keeps, so a value reads back equal to what was written.
func (s *Service) stamp() time.Time { return stamp(s.now()) }

func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// CreateRoom validates the room (reporting every problem at once) and
// stores it. Start from NewRoom for the default settings: a zero duration
// is refused, never replaced, so that "expiry_period: 0s" cannot silently
// mean 15 minutes.
func (s *Service) CreateRoom(ctx context.Context, r Room) (Room, error) {
	now := s.stamp()
	r.CreatedAt, r.UpdatedAt = now, now
	if err := r.Validate(); err != nil {
		return Room{}, err
	}
	if err := s.store.CreateRoom(ctx, r); err != nil {
		return Room{}, err
	}
	s.rooms.Delete(r.ID)
	return r, nil
}

// Room returns a room, from the in-process cache when it is fresh.
func (s *Service) Room(ctx context.Context, id string) (Room, error) {
	if !ValidRoomID(id) {
		return Room{}, errInvalidRoomID
	}
	now := s.now()
	if c, ok := s.rooms.Load(id); ok && now.Before(c.(cachedRoom).until) {
		return c.(cachedRoom).room, nil
	}
	r, err := s.store.Room(ctx, id)
	if err != nil {
		return Room{}, err
	}
	s.rooms.Store(id, cachedRoom{room: r, until: now.Add(s.roomTTL)})
	return r, nil
}

// Rooms returns every room, ordered by id.
func (s *Service) Rooms(ctx context.Context) ([]Room, error) {
	return s.store.Rooms(ctx)
}

// UpdateRoom changes a room through fn; the result must validate and keep
// its id.
func (s *Service) UpdateRoom(ctx context.Context, id string, fn func(*Room) error) (Room, error) {
	if !ValidRoomID(id) {
		return Room{}, errInvalidRoomID
	}
	now := s.stamp()
	r, err := s.store.UpdateRoom(ctx, id, func(r *Room) error {
		if err := fn(r); err != nil {
			return err
		}
		if r.ID != id {
			return Errorf(CodeInvalid, "id: a room cannot be renamed")
		}
		r.UpdatedAt = now
		return r.Validate()
	})
	s.rooms.Delete(id)
	return r, err
}

// DeleteRoom removes a room and everything in it.
func (s *Service) DeleteRoom(ctx context.Context, id string) error {
	if !ValidRoomID(id) {
		return errInvalidRoomID
	}
	err := s.store.DeleteRoom(ctx, id)
	s.rooms.Delete(id)
	s.polls.forget(id)
	return err
}
