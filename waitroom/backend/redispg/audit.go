package redispg

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// auditTrail is the audit trail (waitroom.AuditStore) in PostgreSQL.
type auditTrail struct{ db *sqlx.DB }

type auditRow struct {
	Seq    int64          `db:"seq"`
	At     time.Time      `db:"at"`
	Actor  string         `db:"actor"`
	Room   string         `db:"room"`
	Action string         `db:"action"`
	Target string         `db:"target"`
	Before sql.NullString `db:"before"`
	After  sql.NullString `db:"after"`
}

func (r auditRow) entry() waitroom.AuditEntry {
	e := waitroom.AuditEntry{Seq: r.Seq, At: r.At.UTC(), Actor: r.Actor, Room: r.Room, Action: r.Action, Target: r.Target}
	if r.Before.Valid {
		e.Before = []byte(r.Before.String)
	}
	if r.After.Valid {
		e.After = []byte(r.After.String)
	}
	return e
}

// jsonText passes a JSON document as text (with binary parameters a
// []byte would reach jsonb in binary form); nil stays NULL.
func jsonText(b []byte) sql.NullString {
	return sql.NullString{String: string(b), Valid: len(b) > 0}
}

func (a auditTrail) AppendAudit(ctx context.Context, e waitroom.AuditEntry) (waitroom.AuditEntry, error) {
	err := a.db.GetContext(ctx, &e.Seq, `INSERT INTO audit_log (at, actor, room, action, target, before, after)
		VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb) RETURNING seq`,
		e.At, e.Actor, e.Room, e.Action, e.Target, jsonText(e.Before), jsonText(e.After))
	return e, mapErr(err, "the audit entry could not be stored")
}

func (a auditTrail) AuditTrail(ctx context.Context, room string, before int64, limit int) ([]waitroom.AuditEntry, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	var rows []auditRow
	var err error
	if room == "" {
		err = a.db.SelectContext(ctx, &rows, `SELECT * FROM audit_log WHERE seq < $1 ORDER BY seq DESC LIMIT $2`, before, limit)
	} else {
		err = a.db.SelectContext(ctx, &rows, `SELECT * FROM audit_log WHERE room = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`, room, before, limit)
	}
	if err != nil {
		return nil, mapErr(err, "the audit trail could not be read")
	}
	out := make([]waitroom.AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = r.entry()
	}
	return out, nil
}
