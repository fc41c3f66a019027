package redispg

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// prequeue keeps the pre-queue of scheduled rooms (waitroom.PrequeueStore)
// in PostgreSQL.
type prequeue struct{ s *Store }

type entryRow struct {
	Seq      int64          `db:"seq"`
	ID       string         `db:"id"`
	Key      sql.NullString `db:"idem_key"`
	JoinedAt time.Time      `db:"joined_at"`
}

func (r entryRow) entry() waitroom.PrequeueEntry {
	return waitroom.PrequeueEntry{ID: r.ID, Key: r.Key.String, JoinedAt: r.JoinedAt.UTC(), Seq: r.Seq}
}

// Join stores an entry. Its number is taken from the room's draw row under
// its lock, so numbers follow commit order (the draw must exist: the
// pre-queue commits before the first join).
func (p prequeue) Join(ctx context.Context, room string, e waitroom.PrequeueEntry) (waitroom.PrequeueEntry, bool, error) {
	created := false
	err := p.s.inTx(ctx, func(tx *sqlx.Tx) error {
		// The draw's row lock comes first: a join racing another with the
		// same key then sees the other's entry once it holds the lock.
		var next int64
		if err := tx.GetContext(ctx, &next, `SELECT next_seq FROM prequeue_draws WHERE room = $1 FOR UPDATE`, room); err != nil {
			return err
		}
		if e.Key != "" {
			var row entryRow
			err := tx.GetContext(ctx, &row, `SELECT seq, id, idem_key, joined_at FROM prequeue_entries WHERE room = $1 AND idem_key = $2`, room, e.Key)
			if err == nil {
				e = row.entry()
				return nil
			} else if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if err := tx.GetContext(ctx, &e.Seq, `UPDATE prequeue_draws SET next_seq = next_seq + 1 WHERE room = $1 RETURNING next_seq`, room); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO prequeue_entries (room, seq, id, idem_key, joined_at) VALUES ($1, $2, $3, NULLIF($4, ''), $5)`,
			room, e.Seq, e.ID, e.Key, e.JoinedAt)
		created = err == nil
		return err
	})
	return e, created, mapErr(err, "the pre-queue entry could not be stored")
}

// Entry returns one entry.
func (p prequeue) Entry(ctx context.Context, room, id string) (waitroom.PrequeueEntry, error) {
	var row entryRow
	err := p.s.db.GetContext(ctx, &row, `SELECT seq, id, idem_key, joined_at FROM prequeue_entries WHERE room = $1 AND id = $2`, room, id)
	if errors.Is(err, sql.ErrNoRows) {
		return waitroom.PrequeueEntry{}, waitroom.Errorf(waitroom.CodeNotFound, "Request ID not found")
	}
	return row.entry(), mapErr(err, "the pre-queue could not be read")
}

// Entries returns up to limit entries after seq, in order.
func (p prequeue) Entries(ctx context.Context, room string, after int64, limit int) ([]waitroom.PrequeueEntry, error) {
	var rows []entryRow
	err := p.s.db.SelectContext(ctx, &rows, `SELECT seq, id, idem_key, joined_at FROM prequeue_entries
		WHERE room = $1 AND seq > $2 ORDER BY seq LIMIT $3`, room, after, limit)
	if err != nil {
		return nil, mapErr(err, "the pre-queue could not be read")
	}
	out := make([]waitroom.PrequeueEntry, len(rows))
	for i, r := range rows {
		out[i] = r.entry()
	}
	return out, nil
}

type drawRow struct {
	Seed        []byte    `db:"seed"`
	CommittedAt time.Time `db:"committed_at"`
	Converted   int64     `db:"converted"`
	Opened      bool      `db:"opened"`
}

// CreateDraw stores d unless the room has a draw, and returns the room's.
func (p prequeue) CreateDraw(ctx context.Context, room string, d waitroom.PrequeueDraw) (waitroom.PrequeueDraw, error) {
	_, err := p.s.db.ExecContext(ctx, `INSERT INTO prequeue_draws (room, seed, committed_at) VALUES ($1, $2, $3)
		ON CONFLICT (room) DO NOTHING`, room, d.Seed[:], d.CommittedAt)
	if err != nil {
		return waitroom.PrequeueDraw{}, mapErr(err, "the pre-queue draw could not be stored")
	}
	return p.Draw(ctx, room)
}

// Draw returns the room's draw.
func (p prequeue) Draw(ctx context.Context, room string) (waitroom.PrequeueDraw, error) {
	var row drawRow
	err := p.s.db.GetContext(ctx, &row, `SELECT seed, committed_at, converted, opened FROM prequeue_draws WHERE room = $1`, room)
	if errors.Is(err, sql.ErrNoRows) {
		return waitroom.PrequeueDraw{}, waitroom.Errorf(waitroom.CodeNotFound, "the room has no pre-queue draw")
	}
	if err != nil {
		return waitroom.PrequeueDraw{}, mapErr(err, "the pre-queue draw could not be read")
	}
	d := waitroom.PrequeueDraw{CommittedAt: row.CommittedAt.UTC(), Converted: row.Converted, Opened: row.Opened}
	copy(d.Seed[:], row.Seed)
	return d, nil
}

// SaveProgress records how far the opening pass has converted.
func (p prequeue) SaveProgress(ctx context.Context, room string, converted int64, opened bool) error {
	_, err := p.s.db.ExecContext(ctx, `UPDATE prequeue_draws SET converted = GREATEST(converted, $2), opened = opened OR $3
		WHERE room = $1`, room, converted, opened)
	return mapErr(err, "the pre-queue progress could not be saved")
}
