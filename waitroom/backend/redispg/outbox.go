package redispg

import (
	"context"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// outbox is the durable webhook outbox (waitroom.Outbox) in PostgreSQL: an
// event recorded here survives a restart of every server.
type outbox struct{ s *Store }

type deliveryRow struct {
	Seq       int64     `db:"seq"`
	Room      string    `db:"room"`
	URL       string    `db:"url"`
	EventID   string    `db:"event_id"`
	Type      string    `db:"type"`
	Body      []byte    `db:"body"`
	State     string    `db:"state"`
	Attempts  int       `db:"attempts"`
	NextAt    time.Time `db:"next_at"`
	LastError string    `db:"last_error"`
	CreatedAt time.Time `db:"created_at"`
}

func (r deliveryRow) delivery() waitroom.Delivery {
	return waitroom.Delivery{Seq: r.Seq, Room: r.Room, URL: r.URL, EventID: r.EventID, Type: r.Type, Body: r.Body,
		State: waitroom.DeliveryState(r.State), Attempts: r.Attempts, NextAt: r.NextAt.UTC(), LastError: r.LastError,
		CreatedAt: r.CreatedAt.UTC()}
}

// Add stores deliveries as pending, due at once, in one statement.
func (o outbox) Add(ctx context.Context, ds []waitroom.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	rows := make([]map[string]any, len(ds))
	for i, d := range ds {
		rows[i] = map[string]any{"room": d.Room, "url": d.URL, "event_id": d.EventID, "type": d.Type,
			"body": d.Body, "next_at": d.CreatedAt, "created_at": d.CreatedAt}
	}
	_, err := o.s.db.NamedExecContext(ctx, `
		INSERT INTO webhook_outbox (room, url, event_id, type, body, next_at, created_at)
		VALUES (:room, :url, :event_id, :type, :body, :next_at, :created_at)`, rows)
	return mapErr(err, "the event could not be recorded")
}

const deliveryColumns = `seq, room, url, event_id, type, body, state, attempts, next_at, last_error, created_at`

// Due returns the due head of up to limit streams.
func (o outbox) Due(ctx context.Context, now time.Time, limit int) ([]waitroom.Delivery, error) {
	var rows []deliveryRow
	err := o.s.db.SelectContext(ctx, &rows, `
		SELECT `+deliveryColumns+` FROM (
			SELECT DISTINCT ON (room, url) `+deliveryColumns+`
			FROM webhook_outbox WHERE state = 'pending' ORDER BY room, url, seq
		) heads WHERE next_at <= $1 ORDER BY seq LIMIT $2`, now, limit)
	if err != nil {
		return nil, mapErr(err, "the outbox could not be read")
	}
	return deliveries(rows), nil
}

// Done deletes a delivered entry.
func (o outbox) Done(ctx context.Context, seq int64) error {
	_, err := o.s.db.ExecContext(ctx, `DELETE FROM webhook_outbox WHERE seq = $1`, seq)
	return mapErr(err, "the outbox could not be updated")
}

// Retry records a failed attempt and the time of the next.
func (o outbox) Retry(ctx context.Context, seq int64, attempts int, next time.Time, lastErr string) error {
	_, err := o.s.db.ExecContext(ctx, `
		UPDATE webhook_outbox SET attempts = $2, next_at = $3, last_error = $4 WHERE seq = $1`,
		seq, attempts, next, truncate(lastErr, 500))
	return mapErr(err, "the outbox could not be updated")
}

// Fail gives a delivery up.
func (o outbox) Fail(ctx context.Context, seq int64, attempts int, lastErr string) error {
	_, err := o.s.db.ExecContext(ctx, `
		UPDATE webhook_outbox SET state = 'failed', attempts = $2, last_error = $3 WHERE seq = $1`,
		seq, attempts, truncate(lastErr, 500))
	return mapErr(err, "the outbox could not be updated")
}

// List returns a room's deliveries in state (any when empty), newest first.
func (o outbox) List(ctx context.Context, room string, state waitroom.DeliveryState, limit int) ([]waitroom.Delivery, error) {
	var rows []deliveryRow
	err := o.s.db.SelectContext(ctx, &rows, `
		SELECT `+deliveryColumns+` FROM webhook_outbox
		WHERE room = $1 AND ($2 = '' OR state = $2) ORDER BY seq DESC LIMIT $3`, room, string(state), limit)
	if err != nil {
		return nil, mapErr(err, "the outbox could not be read")
	}
	return deliveries(rows), nil
}

func deliveries(rows []deliveryRow) []waitroom.Delivery {
	out := make([]waitroom.Delivery, len(rows))
	for i, r := range rows {
		out[i] = r.delivery()
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
