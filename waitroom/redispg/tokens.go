package redispg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/waitroom-idp/waitroom/waitroom"
)

type tokenRow struct {
	Room          string    `db:"room"`
	Generation    int64     `db:"generation"`
	RequestID     string    `db:"request_id"`
	Position      int64     `db:"position"`
	Issuer        string    `db:"issuer"`
	IssuedAt      time.Time `db:"issued_at"`
	NotBefore     time.Time `db:"not_before"`
	Expires       time.Time `db:"expires"`
	KeyID         string    `db:"kid"`
	SessionStatus int       `db:"session_status"`
}

func (r tokenRow) record() waitroom.TokenRecord {
	return waitroom.TokenRecord{Room: r.Room, RequestID: r.RequestID, Position: r.Position, Issuer: r.Issuer,
		IssuedAt: r.IssuedAt.UTC(), NotBefore: r.NotBefore.UTC(), ExpiresAt: r.Expires.UTC(), KeyID: r.KeyID,
		SessionStatus: waitroom.SessionStatus(r.SessionStatus), Generation: r.Generation}
}

const tokenColumns = `room, generation, request_id, position, issuer, issued_at, not_before, expires, kid, session_status`

// CreateToken inserts the record if the request has none in the current
// generation, and counts it in Redis within the same transaction under the
// token fence (fence.go). The INSERT reads room_state in the same
// statement, so a record for a generation that is no longer current is
// never stored; ON CONFLICT makes concurrent calls create exactly one.
func (s *Store) CreateToken(ctx context.Context, rec waitroom.TokenRecord) (waitroom.TokenRecord, bool, error) {
	id, err := uuid.Parse(rec.RequestID)
	if err != nil {
		return waitroom.TokenRecord{}, false, notFound("ticket")
	}
	rec.RequestID = id.String()
	var row tokenRow
	var event fastResult
	err = s.inTokenFence(ctx, rec.Room, func(tx *sqlx.Tx) (err error) {
		if row, err = insertToken(ctx, tx, rec); err == nil {
			// Trimming on creation keeps the active set bounded when
			// nobody asks for ActiveTokens.
			event = s.tokenEventFast(ctx, row, "t", addIfActive(row), micros(row.IssuedAt.Add(-trimGrace)))
		}
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		// Already there, or the room was reset since the ticket was read.
		stored, err := s.tokenOfGeneration(ctx, rec.Room, rec.RequestID, rec.Generation)
		return stored, false, err
	}
	if err != nil {
		s.afterFailedCommit(rec.Room, event, err)
		return waitroom.TokenRecord{}, false, mapErr(err, "the token could not be stored")
	}
	s.afterWrite(ctx, rec.Room, event.res, event.err)
	return row.record(), true, nil
}

// insertToken stores rec; sql.ErrNoRows if it exists or its generation is
// no longer current.
func insertToken(ctx context.Context, tx *sqlx.Tx, rec waitroom.TokenRecord) (tokenRow, error) {
	var row tokenRow
	err := tx.GetContext(ctx, &row, `
		INSERT INTO tokens (room, generation, request_id, position, issuer, issued_at, not_before, expires, kid, session_status)
		SELECT $1, s.generation, $3, $4, $5, $6, $7, $8, $9, $10
		FROM room_state s WHERE s.room = $1 AND s.generation = $2
		ON CONFLICT DO NOTHING
		RETURNING `+tokenColumns,
		rec.Room, rec.Generation, rec.RequestID, rec.Position, rec.Issuer, rec.IssuedAt, rec.NotBefore,
		rec.ExpiresAt, rec.KeyID, int(rec.SessionStatus))
	return row, err
}

// addIfActive is the active-set operation for a new token.
func addIfActive(row tokenRow) string {
	if row.SessionStatus == int(waitroom.SessionActive) {
		return "add"
	}
	return ""
}

// fastResult is the answer of a Redis write script.
type fastResult struct {
	applied bool // the script ran (its answer may still say "missing")
	res     int64
	err     error
}

func (s *Store) tokenEventFast(ctx context.Context, row tokenRow, field, op string, trimBelow int64) fastResult {
	res, err := tokenEvent.Run(ctx, s.rdb, []string{s.countersKey(row.Room), s.activeKey(row.Room)},
		row.Generation, field, op, row.RequestID, micros(row.Expires), trimBelow).Int64()
	return fastResult{applied: err == nil && res == fastApplied, res: res, err: err}
}

// afterFailedCommit: the Redis increment may have been applied for a row
// that did not commit (or did, unknown): have the room rewritten.
func (s *Store) afterFailedCommit(room string, event fastResult, err error) {
	if event.applied || event.err != nil {
		s.markStale(room, err)
	}
}

func (s *Store) tokenOfGeneration(ctx context.Context, room, requestID string, gen int64) (waitroom.TokenRecord, error) {
	rec, err := s.Token(ctx, room, requestID)
	if err == nil && rec.Generation != gen {
		return waitroom.TokenRecord{}, notFound("ticket")
	}
	return rec, err
}

// Token returns the token record of a request in the current generation.
func (s *Store) Token(ctx context.Context, room, requestID string) (waitroom.TokenRecord, error) {
	id, err := uuid.Parse(requestID)
	if err != nil {
		return waitroom.TokenRecord{}, notFound("token")
	}
	var row tokenRow
	err = s.db.GetContext(ctx, &row, `
		SELECT `+tokenColumns+` FROM tokens
		WHERE room = $1 AND generation = `+currentGeneration+` AND request_id = $2`, room, id.String())
	if errors.Is(err, sql.ErrNoRows) {
		return waitroom.TokenRecord{}, notFound("token")
	}
	if err != nil {
		return waitroom.TokenRecord{}, mapErr(err, "the token could not be read")
	}
	return row.record(), nil
}

// UpdateSession moves an active session to completed or abandoned; only
// the call that changes the row bumps the counter.
func (s *Store) UpdateSession(ctx context.Context, room, requestID string, status waitroom.SessionStatus) error {
	field := map[waitroom.SessionStatus]string{waitroom.SessionCompleted: "c", waitroom.SessionAbandoned: "a"}[status]
	if field == "" {
		return waitroom.Errorf(waitroom.CodeInvalid, "the session status must be 1 (completed) or -1 (abandoned)")
	}
	id, err := uuid.Parse(requestID)
	if err != nil {
		return notFound("token")
	}
	var row tokenRow
	var event fastResult
	err = s.inTokenFence(ctx, room, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &row, `
			UPDATE tokens SET session_status = $3
			WHERE room = $1 AND generation = `+currentGeneration+` AND request_id = $2 AND session_status = 0
			RETURNING `+tokenColumns, room, id.String(), int(status))
		if err != nil {
			return err
		}
		event = s.tokenEventFast(ctx, row, field, "rem", 0)
		return nil
	})
	if errors.Is(err, sql.ErrNoRows) {
		return waitroom.Errorf(waitroom.CodeNotFound, "request id doesn't exist or status already set")
	}
	if err != nil {
		s.afterFailedCommit(room, event, err)
		return mapErr(err, "the session could not be updated")
	}
	s.afterWrite(ctx, room, event.res, event.err)
	return nil
}

// trimGrace: members of the active set expired more than this before a
// caller's now are deleted. Callers pass their own now (replicas' clocks
// differ, the expiry job looks back), so the set keeps an hour of expired
// members; that is the memory price of never miscounting a lagging caller.
const trimGrace = time.Hour

// ActiveTokens counts active sessions expiring after now in the Redis
// sorted set (ZCOUNT is O(log n)); members long expired are trimmed first.
func (s *Store) ActiveTokens(ctx context.Context, room string, now time.Time) (int64, error) {
	if _, err := s.ensureFast(ctx, room); err != nil {
		return 0, err
	}
	key := s.activeKey(room)
	pipe := s.rdb.TxPipeline()
	pipe.ZRemRangeByScore(ctx, key, "-inf", "("+strconv.FormatInt(micros(now.Add(-trimGrace)), 10))
	count := pipe.ZCount(ctx, key, "("+strconv.FormatInt(micros(now), 10), "+inf")
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, mapErr(err, "the active tokens could not be counted")
	}
	return count.Val(), nil
}

// ExpiredTokens pages through tokens with expires <= now by (expires,
// request id) on the tokens_expires index. The cursor is
// "<expires µs>.<request id>" of the last id returned.
func (s *Store) ExpiredTokens(ctx context.Context, room string, now time.Time, cursor string, limit int) ([]string, string, error) {
	if limit <= 0 {
		return nil, "", waitroom.Errorf(waitroom.CodeInvalid, "the page size must be positive")
	}
	after, afterID, err := parseCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	// Two statements rather than "$3 IS NULL OR ...", so that the row
	// comparison is an index condition on tokens_expires.
	var rows []activeToken
	if !after.Valid {
		err = s.db.SelectContext(ctx, &rows, `
			SELECT request_id, expires FROM tokens
			WHERE room = $1 AND generation = `+currentGeneration+` AND expires <= $2
			ORDER BY expires, request_id LIMIT $3`, room, now, limit+1)
	} else {
		err = s.db.SelectContext(ctx, &rows, `
			SELECT request_id, expires FROM tokens
			WHERE room = $1 AND generation = `+currentGeneration+` AND expires <= $2
			  AND (expires, request_id) > (timestamptz 'epoch' + $3 * interval '1 microsecond', $4::uuid)
			ORDER BY expires, request_id LIMIT $5`, room, now, after.Int64, afterID, limit+1)
	}
	if err != nil {
		return nil, "", mapErr(err, "the expired tokens could not be read")
	}
	if len(rows) == 0 {
		return nil, "", s.roomExists(ctx, room)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		next = fmt.Sprintf("%d.%s", micros(last.Expires), last.RequestID)
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.RequestID
	}
	return ids, next, nil
}

// parseCursor returns a NULL position for the first page.
func parseCursor(c string) (sql.NullInt64, string, error) {
	if c == "" {
		return sql.NullInt64{}, uuid.Nil.String(), nil
	}
	us, id, ok := strings.Cut(c, ".")
	n, err := strconv.ParseInt(us, 10, 64)
	if _, uerr := uuid.Parse(id); !ok || err != nil || uerr != nil {
		return sql.NullInt64{}, "", waitroom.Errorf(waitroom.CodeInvalid, "the cursor is not valid")
	}
	return sql.NullInt64{Int64: n, Valid: true}, id, nil
}

// CountTokens counts tokens with position in (lo, hi] (expiry job only).
func (s *Store) CountTokens(ctx context.Context, room string, lo, hi int64) (int64, error) {
	var n int64
	err := s.db.GetContext(ctx, &n, `
		SELECT count(*) FROM tokens
		WHERE room = $1 AND generation = `+currentGeneration+` AND position > $2 AND position <= $3`, room, lo, hi)
	if err != nil {
		return 0, mapErr(err, "the tokens could not be counted")
	}
	if n == 0 {
		return 0, s.roomExists(ctx, room)
	}
	return n, nil
}
