package redispg

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// Enqueue is group-committed (batch.go): one transaction per batch of
// waiting Enqueue calls of a room.

type enqueueRequest struct {
	ctx    context.Context
	ticket waitroom.NewTicket
	done   chan enqueueResult // buffered: the committer never blocks on it
}

type enqueueResult struct {
	ticket  waitroom.Ticket
	created bool
	err     error
}

const maxKeyLen = 512

// Enqueue assigns the next position of the room in a group commit and
// returns once the ticket is committed in PostgreSQL.
func (s *Store) Enqueue(ctx context.Context, room string, t waitroom.NewTicket) (waitroom.Ticket, bool, error) {
	id, err := uuid.Parse(t.ID)
	if err != nil {
		return waitroom.Ticket{}, false, waitroom.Errorf(waitroom.CodeInvalid, "the ticket id must be a UUID")
	}
	if len(t.Key) > maxKeyLen {
		return waitroom.Ticket{}, false, waitroom.Errorf(waitroom.CodeInvalid, "the idempotency key is longer than %d bytes", maxKeyLen)
	}
	t.ID = id.String()
	req := &enqueueRequest{ctx: ctx, ticket: t, done: make(chan enqueueResult, 1)}
	res, err := await(ctx, s.enqueues, room, req, req.done, "the ticket was stored")
	if err != nil {
		return waitroom.Ticket{}, false, err
	}
	return res.ticket, res.created, res.err
}

// observeEnqueueBatches makes fn hear the number of tickets of every
// group-commit transaction (the server's waitroom_enqueue_batch_size).
// fn runs on the committer goroutine and must be quick.
func (s *Store) observeEnqueueBatches(fn func(size int)) {
	s.observeBatch.Store(&fn)
}

func (s *Store) commitBatch(room string, batch []*enqueueRequest) {
	live := batch[:0:0]
	ids := make(map[string]bool, len(batch))
	for _, r := range batch {
		switch {
		case r.ctx.Err() != nil: // a caller that left gets no ticket
		case ids[r.ticket.ID]:
			// Ticket ids are unique (tickets_id); a repeated id must not
			// fail the whole batch.
			r.done <- enqueueResult{err: waitroom.Errorf(waitroom.CodeConflict, "the ticket id is already in use")}
		default:
			ids[r.ticket.ID] = true
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	results, gen, queue, err := s.commitTickets(ctx, room, live)
	if fn := s.observeBatch.Load(); fn != nil {
		(*fn)(len(live))
	}
	if err != nil {
		err = roomErr(err, "the ticket could not be stored")
		for _, r := range live {
			r.done <- enqueueResult{err: err}
		}
		return
	}
	if queue > 0 {
		// The tickets are durable; a Redis failure only delays the copy.
		s.writeAbsolute(ctx, room, raiseQueue, gen, queue)
	}
	for i, r := range live {
		r.done <- results[i]
	}
}

// commitTickets writes one batch and returns a result per request, the
// generation and the new queue counter (0 when no position was used).
func (s *Store) commitTickets(ctx context.Context, room string, batch []*enqueueRequest) ([]enqueueResult, int64, int64, error) {
	for _, r := range batch {
		if r.ticket.Key != "" {
			return s.commitKeyed(ctx, room, batch)
		}
	}
	return s.commitPlain(ctx, room, batch)
}

// commitPlain: no idempotency keys, so one statement does it all (the
// UPDATE takes the row lock, the INSERT numbers the rows after it).
func (s *Store) commitPlain(ctx context.Context, room string, batch []*enqueueRequest) ([]enqueueResult, int64, int64, error) {
	ids, times := make([]string, len(batch)), make([]int64, len(batch))
	for i, r := range batch {
		ids[i], times[i] = r.ticket.ID, micros(r.ticket.EntryTime)
	}
	var st struct {
		Generation int64 `db:"generation"`
		Queue      int64 `db:"queue"`
	}
	err := s.get(ctx, &st, `
		WITH s AS (
			UPDATE room_state SET queue = queue + $2 WHERE room = $1
			RETURNING generation, queue
		), ins AS (
			INSERT INTO tickets (room, generation, position, id, entry_time)
			SELECT $1, s.generation, s.queue - $2 + u.ord, u.id::uuid,
			       timestamptz 'epoch' + u.us * interval '1 microsecond'
			FROM s, unnest($3::text[], $4::bigint[]) WITH ORDINALITY AS u(id, us, ord)
		)
		SELECT generation, queue FROM s`, room, len(batch), pq.Array(ids), pq.Array(times))
	if err != nil {
		return nil, 0, 0, err
	}
	gen, queue := st.Generation, st.Queue
	results := make([]enqueueResult, len(batch))
	base := queue - int64(len(batch))
	for i, r := range batch {
		results[i] = enqueueResult{ticket: newTicket(room, gen, base+int64(i)+1, r.ticket), created: true}
	}
	return results, gen, queue, nil
}

// keyedRow is waitroom_enqueue_keyed's answer for one request of a batch
// (migrations/0007_login_round_trips.sql).
type keyedRow struct {
	Generation int64     `db:"generation"`
	Queue      int64     `db:"queue"`
	Position   int64     `db:"position"`
	Created    bool      `db:"created"`
	ID         string    `db:"id"`
	EntryTime  time.Time `db:"entry_time"`
}

// commitKeyed places a batch whose requests carry idempotency keys in one
// statement: under the room_state row lock, a key already used in the
// generation, or earlier in the batch, is answered with its ticket, and
// every other request takes the next position.
func (s *Store) commitKeyed(ctx context.Context, room string, batch []*enqueueRequest) (results []enqueueResult, gen, queue int64, err error) {
	ids, times, keys := make([]string, len(batch)), make([]int64, len(batch)), make([][]byte, len(batch))
	for i, r := range batch {
		ids[i], times[i], keys[i] = r.ticket.ID, micros(r.ticket.EntryTime), []byte(r.ticket.Key)
	}
	var rows []keyedRow
	err = s.sel(ctx, &rows, `SELECT generation, queue, position, created, id, entry_time
		FROM waitroom_enqueue_keyed($1, $2::uuid[], $3::bigint[], $4::bytea[])`,
		room, pq.Array(ids), pq.Array(times), pq.ByteaArray(keys))
	switch {
	case err != nil:
		return nil, 0, 0, err
	case len(rows) == 0:
		return nil, 0, 0, sql.ErrNoRows // the room does not exist
	case len(rows) != len(batch):
		return nil, 0, 0, fmt.Errorf("waitroom_enqueue_keyed answered %d rows for %d requests", len(rows), len(batch))
	}
	results = make([]enqueueResult, len(batch))
	fresh := false
	for i, row := range rows { // in request order: the function sorts by ord
		t := waitroom.NewTicket{ID: row.ID, EntryTime: row.EntryTime}
		results[i] = enqueueResult{ticket: newTicket(room, row.Generation, row.Position, t), created: row.Created}
		fresh = fresh || row.Created
	}
	gen, queue = rows[0].Generation, rows[0].Queue
	if !fresh {
		queue = 0 // no position used: nothing to copy to Redis
	}
	return results, gen, queue, nil
}

func newTicket(room string, gen, pos int64, t waitroom.NewTicket) waitroom.Ticket {
	return waitroom.Ticket{ID: t.ID, Room: room, Position: pos, EntryTime: pgTime(t.EntryTime),
		Status: waitroom.TicketAssigned, Generation: gen}
}

// pgTime is t as PostgreSQL gives it back: microseconds, UTC.
func pgTime(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }
