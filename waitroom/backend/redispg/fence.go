package redispg

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// The token fence keeps the tokens / completed / abandoned counters exact
// through a rebuild. Those counters are increments, and an increment is
// lost if a rebuild reads PostgreSQL before a writer's commit but writes
// Redis after the writer found the hash missing (or double counted, the
// other way round). So a writer commits its token row and applies its Redis
// increment while holding the room's fence in shared mode (one transaction,
// the Redis call before COMMIT), and a rebuild reads PostgreSQL and writes
// Redis while holding it exclusively: each writer lands wholly before or
// wholly after the snapshot.
//
// The fence is a transaction-level advisory lock keyed by schema and room
// (a hash collision between two rooms only makes them wait for each other).
// waitroom_insert_tokens (migrations/0007_login_round_trips.sql) computes
// the same key in SQL for the token inserts.
const fenceKey = `$1, hashtext(current_schema() || '/' || $2)`

// fenceClass separates these advisory locks from any other user's.
const fenceClass = 0x77726663 // "wrfc"

// inTokenFence runs fn in a transaction holding the room's fence shared.
func (s *Store) inTokenFence(ctx context.Context, room string, fn func(tx *sqlx.Tx) error) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock_shared(`+fenceKey+`)`, fenceClass, room); err != nil {
			return err
		}
		return fn(tx)
	})
}

// lockFence takes the room's fence exclusively for the rest of tx; token
// writers in flight finish (commit and Redis update) first.
func lockFence(ctx context.Context, tx *sqlx.Tx, room string) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(`+fenceKey+`)`, fenceClass, room)
	return err
}
