package redispg

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// Enqueue is group-committed (batch.go): one transaction per batch of
// waiting Enqueue calls of a room.

type enqueueRequest struct {
	ctx     context.Context
	ticket  waitroom.NewTicket
	keyHash string             // set by the committer once the generation is known
	done    chan enqueueResult // buffered: the committer never blocks on it
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

type keyedTicket struct {
	KeyHash   string    `db:"idem_key"`
	ID        string    `db:"id"`
	Position  int64     `db:"position"`
	EntryTime time.Time `db:"entry_time"`
}

// commitKeyed resolves idempotency keys against the stored tickets of the
// generation and within the batch, under the room_state row lock.
func (s *Store) commitKeyed(ctx context.Context, room string, batch []*enqueueRequest) (results []enqueueResult, gen, queue int64, err error) {
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.QueryRowxContext(ctx, `SELECT generation, queue FROM room_state WHERE room = $1 FOR UPDATE`, room).Scan(&gen, &queue); err != nil {
			return err
		}
		for _, r := range batch {
			r.keyHash = hashKey(room, gen, r.ticket.Key)
		}
		known, err := knownKeys(ctx, tx, room, gen, batch)
		if err != nil {
			return err
		}
		var fresh []waitroom.Ticket
		var keys []string
		results, fresh, keys = assignKeyed(room, gen, queue, batch, known)
		if len(fresh) == 0 {
			queue = 0
			return nil
		}
		queue += int64(len(fresh))
		return insertTickets(ctx, tx, room, gen, queue, fresh, keys)
	})
	return results, gen, queue, err
}

func knownKeys(ctx context.Context, tx *sqlx.Tx, room string, gen int64, batch []*enqueueRequest) (map[string]waitroom.Ticket, error) {
	var hashes []string
	for _, r := range batch {
		if r.keyHash != "" {
			hashes = append(hashes, r.keyHash)
		}
	}
	var rows []keyedTicket
	// By idem_key alone, on purpose: see tickets_idem_key in 0001_core.sql.
	err := tx.SelectContext(ctx, &rows, `
		SELECT idem_key, id, position, entry_time FROM tickets
		WHERE idem_key = ANY($1::uuid[])`, pq.Array(hashes))
	known := make(map[string]waitroom.Ticket, len(rows))
	for _, k := range rows {
		known[k.KeyHash] = waitroom.Ticket{ID: k.ID, Room: room, Position: k.Position, EntryTime: k.EntryTime.UTC(),
			Status: waitroom.TicketAssigned, Generation: gen}
	}
	return known, err
}

// assignKeyed gives each request its answer: the stored ticket of its key,
// the ticket an earlier request of the batch got for the same key, or the
// next position.
func assignKeyed(room string, gen, queue int64, batch []*enqueueRequest, known map[string]waitroom.Ticket) ([]enqueueResult, []waitroom.Ticket, []string) {
	results := make([]enqueueResult, len(batch))
	var fresh []waitroom.Ticket
	var keys []string
	for i, r := range batch {
		if t, ok := known[r.keyHash]; ok && r.keyHash != "" {
			results[i] = enqueueResult{ticket: t}
			continue
		}
		t := newTicket(room, gen, queue+int64(len(fresh))+1, r.ticket)
		fresh, keys = append(fresh, t), append(keys, r.keyHash)
		results[i] = enqueueResult{ticket: t, created: true}
		if r.keyHash != "" {
			known[r.keyHash] = t
		}
	}
	return results, fresh, keys
}

func insertTickets(ctx context.Context, tx *sqlx.Tx, room string, gen, queue int64, fresh []waitroom.Ticket, keys []string) error {
	ids, times, pos := make([]string, len(fresh)), make([]int64, len(fresh)), make([]int64, len(fresh))
	for i, t := range fresh {
		ids[i], times[i], pos[i] = t.ID, micros(t.EntryTime), t.Position
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO tickets (room, generation, position, id, entry_time, idem_key)
		SELECT $1, $2, u.pos, u.id::uuid, timestamptz 'epoch' + u.us * interval '1 microsecond', nullif(u.k, '')::uuid
		FROM unnest($3::bigint[], $4::text[], $5::bigint[], $6::text[]) AS u(pos, id, us, k)`,
		room, gen, pq.Array(pos), pq.Array(ids), pq.Array(times), pq.Array(keys)); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE room_state SET queue = $2 WHERE room = $1`, room, queue)
	return err
}

// hashKey maps an idempotency key of any length, in its room and
// generation, to the 16 bytes stored in tickets.idem_key (SHA-256,
// truncated: collisions are out of reach).
func hashKey(room string, gen int64, key string) string {
	if key == "" {
		return ""
	}
	h := sha256.New()
	var g [8]byte
	binary.BigEndian.PutUint64(g[:], uint64(gen))
	h.Write([]byte(room)) // room ids cannot contain 0
	h.Write([]byte{0})
	h.Write(g[:])
	h.Write([]byte(key))
	return uuid.UUID(h.Sum(nil)[:16]).String()
}

func newTicket(room string, gen, pos int64, t waitroom.NewTicket) waitroom.Ticket {
	return waitroom.Ticket{ID: t.ID, Room: room, Position: pos, EntryTime: pgTime(t.EntryTime),
		Status: waitroom.TicketAssigned, Generation: gen}
}

// pgTime is t as PostgreSQL gives it back: microseconds, UTC.
func pgTime(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }
