package redispg

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// currentGeneration is the room's generation as a scalar subquery on $1.
// PostgreSQL runs it first (an InitPlan) and then probes the table's index
// with (room, generation, ...) as if it were a constant; a join with
// room_state instead lets a planner without statistics pick a plan that
// scans the whole room, O(queue length) per call.
const currentGeneration = `(SELECT generation FROM room_state WHERE room = $1)`

// ticketRead is a Ticket call waiting for its batch.
type ticketRead struct {
	ctx  context.Context
	id   string
	done chan ticketReadResult // buffered: the reader never blocks on it
}

type ticketReadResult struct {
	ticket waitroom.Ticket
	err    error
}

// Ticket returns a ticket of the room's current generation. Lookups are
// batched per room like the writes (batch.go): the calls that arrive while
// one read runs share the next, one statement for all of them, which under
// a flood of position polls and first issues costs PostgreSQL and this
// process a fraction of a statement each. A lone call waits for one read.
func (s *Store) Ticket(ctx context.Context, room, id string) (waitroom.Ticket, error) {
	return s.batchedTicket(ctx, s.ticketReads, room, id)
}

// LookupTicket reads from the read replica when there is one, batched the
// same way, and asks the primary for a ticket the replica does not hold
// (yet): a replica lags, and a ticket just created must be found.
func (s *Store) LookupTicket(ctx context.Context, room, id string) (waitroom.Ticket, error) {
	if s.read == nil {
		return s.Ticket(ctx, room, id)
	}
	t, err := s.batchedTicket(ctx, s.lookupReads, room, id)
	if waitroom.ErrorCode(err) == waitroom.CodeNotFound || waitroom.ErrorCode(err) == waitroom.CodeUnavailable {
		return s.Ticket(ctx, room, id)
	}
	return t, err
}

func (s *Store) batchedTicket(ctx context.Context, reads *batcher[*ticketRead], room, id string) (waitroom.Ticket, error) {
	uid, err := uuid.Parse(id)
	if err != nil {
		return waitroom.Ticket{}, notFound("ticket")
	}
	req := &ticketRead{ctx: ctx, id: uid.String(), done: make(chan ticketReadResult, 1)}
	res, err := await(ctx, reads, room, req, req.done, "the ticket was read")
	if err != nil {
		return waitroom.Ticket{}, err
	}
	return res.ticket, res.err
}

type ticketRow struct {
	ID         string        `db:"id"`
	Room       string        `db:"room"`
	Position   int64         `db:"position"`
	EntryTime  time.Time     `db:"entry_time"`
	Generation int64         `db:"generation"`
	Current    sql.NullInt64 `db:"current"` // the room's generation
}

// ticketsByID reads tickets by id ($2) with the generation of room $1.
const ticketsByID = `
	SELECT id, room, position, entry_time, generation, ` + currentGeneration + ` AS current
	FROM tickets WHERE id = ANY($2::uuid[])`

// readTickets answers one batch of Ticket calls of a room, on the primary.
func (s *Store) readTickets(room string, batch []*ticketRead) {
	s.readTicketsWith(room, batch, s.sel)
}

// readReplicaTickets answers one batch of LookupTicket calls on the read
// replica (unprepared statements: the replica's pool is not the primary's).
func (s *Store) readReplicaTickets(room string, batch []*ticketRead) {
	s.readTicketsWith(room, batch, s.read.SelectContext)
}

func (s *Store) readTicketsWith(room string, batch []*ticketRead, sel func(ctx context.Context, dest any, query string, args ...any) error) {
	ids := make([]string, 0, len(batch))
	seen := make(map[string]bool, len(batch))
	for _, r := range batch {
		if r.ctx.Err() == nil && !seen[r.id] {
			seen[r.id] = true
			ids = append(ids, r.id)
		}
	}
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	// By id alone, the one index that condition can use: with the room and
	// generation in the WHERE too, a planner without statistics scans the
	// room's tickets through the primary key instead (it did). Ids are
	// unique; the room and generation are checked here.
	var rows []ticketRow
	err := sel(ctx, &rows, ticketsByID, room, pq.Array(ids))
	found := make(map[string]ticketRow, len(rows))
	for _, row := range rows {
		if row.Room == room && row.Current.Valid && row.Generation == row.Current.Int64 {
			found[row.ID] = row
		}
	}
	err = mapErr(err, "the ticket could not be read")
	for _, r := range batch {
		var res ticketReadResult
		row, ok := found[r.id]
		switch {
		case err != nil:
			res.err = err
		case !ok:
			res.err = notFound("ticket")
		default:
			res.ticket = waitroom.Ticket{ID: row.ID, Room: room, Position: row.Position, EntryTime: row.EntryTime.UTC(),
				Status: waitroom.TicketAssigned, Generation: row.Generation}
		}
		r.done <- res
	}
}

// stateRow is what the serving-changing statements return.
type stateRow struct {
	Generation int64 `db:"generation"`
	Serving    int64 `db:"serving"`
	Version    int64 `db:"version"`
	Expired    int64 `db:"expired"`
	MaxExpired int64 `db:"max_expired"`
}

// changeServing runs one statement that updates room_state and records the
// new serving value in the history (a single statement is atomic without
// an explicit transaction), then copies the state to Redis.
// changeServing applies set to the room's row where allowed holds (both
// may use $2, the argument, and $4, waitroom.MaxServing). A room whose row
// is not changed is either missing or refused by allowed.
func (s *Store) changeServing(ctx context.Context, room, set, allowed string, arg int64, at time.Time) (int64, error) {
	var st stateRow
	err := s.db.GetContext(ctx, &st, `
		WITH s AS (
			UPDATE room_state SET `+set+`, version = version + 1 WHERE room = $1 AND `+allowed+`
			RETURNING generation, serving, version, expired, max_expired
		), h AS (
			INSERT INTO serving_history (room, generation, serving, issued_at)
			SELECT $1, generation, serving, $3 FROM s
		)
		SELECT * FROM s`, room, arg, at, waitroom.MaxServing)
	if errors.Is(err, sql.ErrNoRows) {
		if err := s.roomExists(ctx, room); err != nil {
			return 0, err
		}
		return 0, waitroom.ErrServingTooHigh()
	}
	if err != nil {
		return 0, roomErr(err, "the serving counter could not be changed")
	}
	return st.Serving, s.copyState(ctx, room, st)
}

// AdvanceServing adds by (possibly negative) to the serving counter, never
// below 0 nor past waitroom.MaxServing. The bound is compared as a
// difference, which cannot overflow a bigint as serving + by could.
func (s *Store) AdvanceServing(ctx context.Context, room string, by int64, at time.Time) (int64, error) {
	return s.changeServing(ctx, room, `serving = greatest(0, serving + $2::bigint)`, `$2::bigint <= $4::bigint - serving`, by, at)
}

// SetServing sets the serving counter.
func (s *Store) SetServing(ctx context.Context, room string, value int64, at time.Time) (int64, error) {
	if value < 0 {
		return 0, waitroom.Errorf(waitroom.CodeInvalid, "the serving counter cannot be negative")
	}
	return s.changeServing(ctx, room, `serving = $2::bigint`, `$2::bigint <= $4::bigint`, value, at)
}

func (s *Store) copyState(ctx context.Context, room string, st stateRow) error {
	s.writeAbsolute(ctx, room, applyState, st.Generation, st.Version, st.Serving, st.Expired, st.MaxExpired)
	return nil
}

type historyRow struct {
	Serving    int64     `db:"serving"`
	IssuedAt   time.Time `db:"issued_at"`
	Generation int64     `db:"generation"`
}

func (h historyRow) record() waitroom.ServingRecord {
	return waitroom.ServingRecord{Serving: h.Serving, IssuedAt: h.IssuedAt.UTC(), Generation: h.Generation}
}

// ServingRecordAtOrAbove returns the earliest history row with the smallest
// serving value >= position in the current generation.
func (s *Store) ServingRecordAtOrAbove(ctx context.Context, room string, position int64) (waitroom.ServingRecord, bool, error) {
	var h historyRow
	err := s.get(ctx, &h, `
		SELECT serving, issued_at, generation FROM serving_history
		WHERE room = $1 AND generation = `+currentGeneration+` AND serving >= $2
		ORDER BY serving, issued_at LIMIT 1`, room, position)
	if errors.Is(err, sql.ErrNoRows) {
		return waitroom.ServingRecord{}, false, s.roomExists(ctx, room)
	}
	if err != nil {
		return waitroom.ServingRecord{}, false, mapErr(err, "the serving history could not be read")
	}
	return h.record(), true, nil
}

// EntryTimeAt reads one row through the tickets primary key (room,
// generation, position).
func (s *Store) EntryTimeAt(ctx context.Context, room string, position int64) (time.Time, bool, error) {
	var at time.Time
	err := s.get(ctx, &at, `
		SELECT entry_time FROM tickets
		WHERE room = $1 AND generation = `+currentGeneration+` AND position = $2`, room, position)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, s.roomExists(ctx, room)
	}
	if err != nil {
		return time.Time{}, false, mapErr(err, "the ticket could not be read")
	}
	return at.UTC(), true, nil
}

// ServingHistory returns up to limit rows with serving > above, one per
// serving value (the earliest), in increasing order.
func (s *Store) ServingHistory(ctx context.Context, room string, above int64, limit int) ([]waitroom.ServingRecord, error) {
	if limit <= 0 {
		return nil, nil
	}
	var rows []historyRow
	err := s.db.SelectContext(ctx, &rows, `
		SELECT DISTINCT ON (serving) serving, issued_at, generation FROM serving_history
		WHERE room = $1 AND generation = `+currentGeneration+` AND serving > $2
		ORDER BY serving, issued_at LIMIT $3`, room, above, limit)
	if err != nil {
		return nil, mapErr(err, "the serving history could not be read")
	}
	if len(rows) == 0 {
		return nil, s.roomExists(ctx, room)
	}
	out := make([]waitroom.ServingRecord, len(rows))
	for i, h := range rows {
		out[i] = h.record()
	}
	return out, nil
}

// MarkExpired applies one expiry-job step if it is still due: the
// generation matches and max_expired is below the new value.
func (s *Store) MarkExpired(ctx context.Context, room string, gen, maxExpired, expired, advance int64, at time.Time) (bool, error) {
	var st stateRow
	err := s.db.GetContext(ctx, &st, `
		WITH s AS (
			UPDATE room_state
			SET max_expired = $3, expired = expired + $4, serving = serving + $5, version = version + 1
			WHERE room = $1 AND generation = $2 AND max_expired < $3
			RETURNING generation, serving, version, expired, max_expired
		), h AS (
			INSERT INTO serving_history (room, generation, serving, issued_at)
			SELECT $1, generation, serving, $6 FROM s WHERE $5 > 0
		)
		SELECT * FROM s`, room, gen, maxExpired, expired, advance, at)
	if errors.Is(err, sql.ErrNoRows) {
		return false, s.roomExists(ctx, room)
	}
	if err != nil {
		return false, mapErr(err, "the expiry step could not be stored")
	}
	return true, s.copyState(ctx, room, st)
}

// Reset starts a new generation in one statement (it waits for a group
// commit holding the row lock, so an Enqueue lands wholly before or after),
// then replaces the Redis copy with the zeroed counters.
func (s *Store) Reset(ctx context.Context, room string) error {
	var st stateRow
	err := s.db.GetContext(ctx, &st, `
		UPDATE room_state
		SET generation = generation + 1, queue = 0, serving = 0, expired = 0, max_expired = 0, version = version + 1
		WHERE room = $1
		RETURNING generation, serving, version, expired, max_expired`, room)
	if err != nil {
		return roomErr(err, "the room could not be reset")
	}
	if _, err := s.writeFast(ctx, room, roomState{Generation: st.Generation, Version: st.Version}, "", false); err != nil {
		s.markStale(room, err) // the reset is durable; Redis catches up
	}
	s.goBackground(func(ctx context.Context) { s.purgeGenerations(ctx, room, st.Generation) })
	return nil
}

// purgeBatch bounds each DELETE, so that purging a room of ten million
// tickets never holds long locks or a huge transaction.
const purgeBatch = 5000

// purgeGenerations deletes the rows of generations before gen, which no
// longer count. It runs in the background after Reset; rows it leaves (the
// process stopped) are harmless and go with the next reset.
func (s *Store) purgeGenerations(ctx context.Context, room string, gen int64) {
	for _, table := range []string{"tickets", "tokens", "serving_history"} {
		for {
			// The room_state check stops the purge if the room was
			// deleted and created again (its generations restart at 0).
			res, err := s.db.ExecContext(ctx, `
				DELETE FROM `+table+` WHERE ctid = ANY(ARRAY(
					SELECT ctid FROM `+table+` WHERE room = $1 AND generation < $2 LIMIT $3))
				AND EXISTS (SELECT 1 FROM room_state WHERE room = $1 AND generation >= $2)`,
				room, gen, purgeBatch)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("purging rows of reset generations failed", "room", room, "table", table, "err", err)
				}
				return
			}
			if n, _ := res.RowsAffected(); n < purgeBatch {
				break
			}
		}
	}
}

// roomExists turns an empty answer into CodeNotFound when the room itself
// is unknown, and into nil otherwise.
func (s *Store) roomExists(ctx context.Context, room string) error {
	var one int
	err := s.get(ctx, &one, `SELECT 1 FROM room_state WHERE room = $1`, room)
	return roomErr(err, "the room could not be read")
}
