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
	"github.com/lib/pq"

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

// tokenRequest is a CreateToken call waiting for its group commit.
type tokenRequest struct {
	ctx  context.Context
	rec  waitroom.TokenRecord
	done chan tokenResult // buffered: the committer never blocks on it
}

type tokenResult struct {
	rec     waitroom.TokenRecord
	created bool
	err     error
}

// CreateToken stores the record unless the request has one in the current
// generation. Records are group-committed per room (batch.go): one
// transaction under the token fence (fence.go) inserts a batch, applies
// the Redis counters of the records it created and commits, so a burst of
// first issues costs one commit and one Redis call per batch instead of
// four statements and a commit each. The insert reads room_state in the
// same statement, so a record for a generation that is no longer current
// is never stored; ON CONFLICT makes concurrent calls create exactly one.
func (s *Store) CreateToken(ctx context.Context, rec waitroom.TokenRecord) (waitroom.TokenRecord, bool, error) {
	id, err := uuid.Parse(rec.RequestID)
	if err != nil {
		return waitroom.TokenRecord{}, false, notFound("ticket")
	}
	rec.RequestID = id.String()
	req := &tokenRequest{ctx: ctx, rec: rec, done: make(chan tokenResult, 1)}
	res, err := await(ctx, s.tokens, rec.Room, req, req.done, "the token was stored")
	if err != nil {
		return waitroom.TokenRecord{}, false, err
	}
	return res.rec, res.created, res.err
}

// commitTokens stores one batch of a room's token records and answers
// every request: the record it created, the record already stored for
// the request (created=false), or the error.
func (s *Store) commitTokens(room string, batch []*tokenRequest) {
	// One insert per request (id and generation); repeats in the batch get
	// the answer of the first, as created=false.
	var live []*tokenRequest
	repeats := map[int][]*tokenRequest{}
	first := make(map[string]int, len(batch))
	for _, r := range batch {
		if r.ctx.Err() != nil {
			continue // the caller left; a later call finds or makes the record
		}
		k := r.rec.RequestID + "/" + strconv.FormatInt(r.rec.Generation, 10)
		if i, ok := first[k]; ok {
			repeats[i] = append(repeats[i], r)
			continue
		}
		first[k] = len(live)
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	answers := s.storeTokens(ctx, room, live)
	for i, r := range live {
		r.done <- answers[i]
		for _, again := range repeats[i] {
			again.done <- tokenResult{rec: answers[i].rec, err: answers[i].err}
		}
	}
}

// storeTokens inserts the batch in one transaction and returns an answer
// per request.
func (s *Store) storeTokens(ctx context.Context, room string, batch []*tokenRequest) []tokenResult {
	answers := make([]tokenResult, len(batch))
	var rows []tokenRow
	var event fastResult
	// insertTokens takes the room's fence (shared) in the same statement.
	err := s.inTx(ctx, func(tx *sqlx.Tx) (err error) {
		if rows, err = s.insertTokens(ctx, tx, room, batch); err == nil && len(rows) > 0 {
			event = s.tokensCreatedFast(ctx, room, rows)
		}
		return err
	})
	if err != nil {
		s.afterFailedCommit(room, event, err)
		err = mapErr(err, "the token could not be stored")
		for i := range answers {
			answers[i].err = err
		}
		return answers
	}
	if len(rows) > 0 {
		s.afterWrite(ctx, room, event.res, event.err)
	}
	created := make(map[string]tokenRow, len(rows))
	for _, row := range rows {
		created[row.RequestID] = row
	}
	// Not created: already there, or the room was reset since the ticket
	// was read. One read answers all of them.
	var missing []string
	for _, r := range batch {
		if row, ok := created[r.rec.RequestID]; !ok || row.Generation != r.rec.Generation {
			missing = append(missing, r.rec.RequestID)
		}
	}
	stored, readErr := s.currentTokens(ctx, room, missing)
	for i, r := range batch {
		if row, ok := created[r.rec.RequestID]; ok && row.Generation == r.rec.Generation {
			answers[i] = tokenResult{rec: row.record(), created: true}
		} else if rec, ok := stored[r.rec.RequestID]; ok && rec.Generation == r.rec.Generation {
			answers[i] = tokenResult{rec: rec}
		} else if readErr != nil {
			answers[i].err = readErr
		} else {
			answers[i].err = notFound("ticket")
		}
	}
	return answers
}

// insertTokens takes the room's token fence in shared mode for the rest of
// tx, stores the batch's records (in request-id order: two batches racing
// on the same ids cannot deadlock) and returns the rows it created: none
// for a record that exists or whose generation is no longer current. One
// round trip: waitroom_insert_tokens, migrations/0007_login_round_trips.sql.
func (s *Store) insertTokens(ctx context.Context, tx *sqlx.Tx, room string, batch []*tokenRequest) ([]tokenRow, error) {
	n := len(batch)
	gens, pos, status := make([]int64, n), make([]int64, n), make([]int64, n)
	iat, nbf, exp := make([]int64, n), make([]int64, n), make([]int64, n)
	ids, issuers, kids := make([]string, n), make([]string, n), make([]string, n)
	for i, r := range batch {
		rec := r.rec
		gens[i], ids[i], pos[i], issuers[i], kids[i], status[i] = rec.Generation, rec.RequestID, rec.Position, rec.Issuer, rec.KeyID, int64(rec.SessionStatus)
		iat[i], nbf[i], exp[i] = micros(rec.IssuedAt), micros(rec.NotBefore), micros(rec.ExpiresAt)
	}
	var rows []tokenRow
	err := s.txSel(ctx, tx, &rows, `SELECT `+tokenColumns+`
		FROM waitroom_insert_tokens($1, $2, $3::bigint[], $4::uuid[], $5::bigint[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::text[], $11::bigint[])`,
		fenceClass, room, pq.Array(gens), pq.Array(ids), pq.Array(pos), pq.Array(issuers), pq.Array(iat), pq.Array(nbf),
		pq.Array(exp), pq.Array(kids), pq.Array(status))
	return rows, err
}

// tokensByRequestID reads token records by request id ($2) with the
// generation of room $1.
const tokensByRequestID = `
	SELECT ` + tokenColumns + `, ` + currentGeneration + ` AS current
	FROM tokens WHERE request_id = ANY($2::uuid[])`

// currentTokens reads the records of the given requests in the room's
// current generation, by request id.
func (s *Store) currentTokens(ctx context.Context, room string, ids []string) (map[string]waitroom.TokenRecord, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	// By request id alone, which leads the primary key: with the room and
	// generation in the WHERE too, a planner without statistics walks the
	// room's tokens through tokens_position instead. They are checked here.
	var rows []struct {
		tokenRow
		Current sql.NullInt64 `db:"current"`
	}
	err := s.sel(ctx, &rows, tokensByRequestID, room, pq.Array(ids))
	if err != nil {
		return nil, mapErr(err, "the token could not be read")
	}
	out := make(map[string]waitroom.TokenRecord, len(rows))
	for _, row := range rows {
		if row.Room == room && row.Current.Valid && row.Generation == row.Current.Int64 {
			out[row.RequestID] = row.record()
		}
	}
	return out, nil
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

// tokensCreatedFast counts a batch of new token rows (one generation: the
// insert read it once) in Redis and adds the active ones to the active set,
// trimming members long expired.
func (s *Store) tokensCreatedFast(ctx context.Context, room string, rows []tokenRow) fastResult {
	oldest := rows[0].IssuedAt
	args := make([]any, 0, 3+2*len(rows))
	args = append(args, rows[0].Generation, len(rows), 0)
	for _, row := range rows {
		if row.IssuedAt.Before(oldest) {
			oldest = row.IssuedAt
		}
		if addIfActive(row) != "" {
			args = append(args, micros(row.Expires), row.RequestID)
		}
	}
	args[2] = micros(oldest.Add(-trimGrace))
	res, err := tokensCreated.Run(ctx, s.rdb, []string{s.countersKey(room), s.activeKey(room)}, args...).Int64()
	return fastResult{applied: err == nil && res == fastApplied, res: res, err: err}
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

// Token returns the token record of a request in the current generation.
func (s *Store) Token(ctx context.Context, room, requestID string) (waitroom.TokenRecord, error) {
	id, err := uuid.Parse(requestID)
	if err != nil {
		return waitroom.TokenRecord{}, notFound("token")
	}
	var row tokenRow
	err = s.get(ctx, &row, `
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
// While Redis is unreachable it counts them in PostgreSQL (fallback.go).
func (s *Store) ActiveTokens(ctx context.Context, room string, now time.Time) (int64, error) {
	n, err := s.activeInRedis(ctx, room, now)
	if waitroom.ErrorCode(err) == waitroom.CodeUnavailable {
		if fb, fbErr := s.activeFromPostgres(ctx, room, now); fbErr == nil {
			return fb, nil
		}
	}
	return n, err
}

func (s *Store) activeInRedis(ctx context.Context, room string, now time.Time) (int64, error) {
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
