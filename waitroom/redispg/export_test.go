package redispg

import "context"

// RepairStaleNow runs one pass of the repair loop, so tests need not wait
// for its tick.
func (s *Store) RepairStaleNow(ctx context.Context) { s.repairStale(ctx) }

// PurgeGenerations runs the purge that Reset starts in the background.
func (s *Store) PurgeGenerations(ctx context.Context, room string, gen int64) {
	s.purgeGenerations(ctx, room, gen)
}

// NewRedisClient exposes the client choice for tests.
var NewRedisClient = newRedisClient
