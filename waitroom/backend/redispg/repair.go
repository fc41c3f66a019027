package redispg

import (
	"context"
	"time"
)

// A write whose Redis step failed after the PostgreSQL commit leaves the
// Redis copy of that room behind (an increment lost, a value not raised).
// The durable write stands and the caller is answered; the room is marked
// stale here and its Redis copy is rewritten from PostgreSQL as soon as
// Redis answers again.

const repairEvery = time.Second

// markStale logs once per room until the repair.
func (s *Store) markStale(room string, err error) {
	s.staleMu.Lock()
	already := s.stale[room]
	s.stale[room] = true
	s.staleMu.Unlock()
	if !already {
		s.log.Warn("Redis copy of the room counters is behind; will rebuild it from PostgreSQL", "room", room, "err", err)
	}
}

func (s *Store) isStale(room string) bool {
	s.staleMu.Lock()
	defer s.staleMu.Unlock()
	return s.stale[room]
}

func (s *Store) staleRooms() []string {
	s.staleMu.Lock()
	defer s.staleMu.Unlock()
	rooms := make([]string, 0, len(s.stale))
	for r := range s.stale {
		rooms = append(rooms, r)
	}
	return rooms
}

func (s *Store) repairLoop(ctx context.Context) {
	tick := time.NewTicker(repairEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			s.repairStale(ctx)
		}
	}
}

// repairStale force-rewrites the Redis copy of every stale room.
func (s *Store) repairStale(ctx context.Context) {
	for _, room := range s.staleRooms() {
		if err := s.forceRebuild(ctx, room); err != nil {
			return // still unreachable: try again at the next tick
		}
		s.staleMu.Lock()
		delete(s.stale, room)
		s.staleMu.Unlock()
	}
}

func (s *Store) forceRebuild(ctx context.Context, room string) error {
	_, err := s.rebuildFenced(ctx, room, true)
	if isNotFound(err) { // the room was deleted: drop its leftovers
		return s.rdb.Del(ctx, s.countersKey(room), s.activeKey(room)).Err()
	}
	return err
}
