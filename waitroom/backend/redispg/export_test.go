package redispg

import (
	"context"

	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// RepairStaleNow runs one pass of the repair loop, so tests need not wait
// for its tick.
func (s *Store) RepairStaleNow(ctx context.Context) { s.repairStale(ctx) }

// PurgeGenerations runs the purge that Reset starts in the background.
func (s *Store) PurgeGenerations(ctx context.Context, room string, gen int64) {
	s.purgeGenerations(ctx, room, gen)
}

// NewRedisClient exposes the client choice for tests.
var NewRedisClient = newRedisClient

// HoldTokenFence opens a transaction holding the room's token fence as a
// token writer does, and returns its commit.
func (s *Store) HoldTokenFence(ctx context.Context, room string) (exec func(query string, args ...any) error, commit func() error, err error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock_shared(`+fenceKey+`)`, fenceClass, room); err != nil {
		tx.Rollback()
		return nil, nil, err
	}
	exec = func(q string, args ...any) error { _, err := tx.ExecContext(ctx, q, args...); return err }
	return exec, tx.Commit, nil
}

// MarkStaleForTest marks a room's Redis copy as behind.
func (s *Store) MarkStaleForTest(room string) { s.markStale(room, nil) }

// CountersKeyForTest is the Redis key of a room's counters.
func (s *Store) CountersKeyForTest(room string) string { return s.countersKey(room) }

// HoldTokenFenceExclusive takes the room's fence as a rebuild does: token
// batches wait for release.
func (s *Store) HoldTokenFenceExclusive(ctx context.Context, room string) (release func() error, err error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if err := lockFence(ctx, tx, room); err != nil {
		tx.Rollback()
		return nil, err
	}
	return tx.Commit, nil
}

// PendingTokens is how many CreateToken calls of the room wait for the
// next batch, and whether a batch of the room is being committed or
// gathered.
func (s *Store) PendingTokens(room string) (n int, running bool) { return pending(s, s.tokens, room) }

// PendingTicketReads is PendingTokens for Ticket calls.
func (s *Store) PendingTicketReads(room string) (n int, running bool) {
	return pending(s, s.ticketReads, room)
}

func pending[R any](s *Store, b *batcher[R], key string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list, running := b.pending[key]
	return len(list), running
}

// Queries whose plans the tests check.
var (
	TicketsByIDQuery       = ticketsByID
	TokensByRequestIDQuery = tokensByRequestID
)

// OpenStore opens the store itself, for tests that reach into Redis or
// PostgreSQL.
var OpenStore = openStore

// Backend bundles the store as Open does.
func (s *Store) Backend(cfg Config) *waitroom.Backend { return s.backend(cfg) }

// Redis returns the Redis client.
func (s *Store) Redis() redis.UniversalClient { return s.rdb }

// DB returns the PostgreSQL handle.
func (s *Store) DB() *sqlx.DB { return s.db }

// ObserveEnqueueBatches makes fn hear every group commit's size.
func (s *Store) ObserveEnqueueBatches(fn func(size int)) { s.observeEnqueueBatches(fn) }
