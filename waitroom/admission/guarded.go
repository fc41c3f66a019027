package admission

import (
	"context"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// Guarded is the queue core as the transports should see it: arrivals go
// through the Entrance (modes, schedule, pre-queue) and the per-visitor
// events (ticket_created, token_generated, session_updated) are recorded
// for the room's webhooks. Everything else is the Service's own.
type Guarded struct {
	*waitroom.Service
	door   *Entrance
	events Emitter
	clock  func() time.Time
}

// NewGuarded wraps svc; events may be nil (no webhooks).
func NewGuarded(svc *waitroom.Service, door *Entrance, events Emitter, clock func() time.Time) *Guarded {
	if clock == nil {
		clock = time.Now
	}
	return &Guarded{Service: svc, door: door, events: events, clock: clock}
}

// Enqueue admits an arrival through the Entrance.
func (g *Guarded) Enqueue(ctx context.Context, room, key string) (waitroom.Ticket, error) {
	t, err := g.door.Enqueue(ctx, room, key)
	if err == nil {
		g.emit(ctx, room, "ticket_created", map[string]any{
			"request_id": t.ID, "queue_number": t.Position, "entry_time": t.EntryTime.Unix(), "prequeue": t.Position == 0,
		})
	}
	return t, err
}

// Ticket looks a ticket up through the Entrance (pre-queue aware).
func (g *Guarded) Ticket(ctx context.Context, room, id string) (waitroom.Ticket, error) {
	return g.door.Ticket(ctx, room, id)
}

// IssueToken issues (or re-signs) an admission token; the first issue of a
// request is recorded as token_generated.
func (g *Guarded) IssueToken(ctx context.Context, room, id, issuer string, validity time.Duration) (waitroom.Tokens, error) {
	start := g.clock()
	tk, err := g.Service.IssueToken(ctx, room, id, issuer, validity)
	if err == nil {
		g.tokenGenerated(ctx, room, tk.Record, start)
	}
	return tk, err
}

// tokenGenerated records token_generated when rec was created by the call
// that started at start. (A repeat within the same second as the first may
// be recorded again: deliveries are at least once and receivers
// deduplicate on request_id.)
func (g *Guarded) tokenGenerated(ctx context.Context, room string, rec waitroom.TokenRecord, start time.Time) {
	if rec.IssuedAt.Before(start.UTC().Truncate(time.Second)) {
		return
	}
	g.emit(ctx, room, "token_generated", map[string]any{
		"request_id": rec.RequestID, "queue_number": rec.Position, "issued_at": rec.IssuedAt.Unix(),
		"expires": rec.ExpiresAt.Unix(), "issuer": rec.Issuer,
	})
}

// UpdateSession closes a session and records session_updated.
func (g *Guarded) UpdateSession(ctx context.Context, room, id string, status waitroom.SessionStatus) error {
	err := g.Service.UpdateSession(ctx, room, id, status)
	if err == nil {
		g.emit(ctx, room, "session_updated", map[string]any{"request_id": id, "status": int(status)})
	}
	return err
}

// Admitted records that a visitor was let through (the room page or the
// OpenID flow calls it when it admits).
func (g *Guarded) Admitted(ctx context.Context, room string, t waitroom.Ticket) {
	g.emit(ctx, room, "admitted", map[string]any{"request_id": t.ID, "queue_number": t.Position})
}

// emit records an event; a failure to record never fails the visitor's
// call (webhooks are best effort at the edge, at least once once recorded).
func (g *Guarded) emit(ctx context.Context, room, event string, data map[string]any) {
	if g.events == nil {
		return
	}
	r, err := g.Service.Room(ctx, room)
	if err != nil || len(r.Webhooks) == 0 {
		return
	}
	_ = g.events.Emit(ctx, r, event, data)
}

// Admit records the admission of a ticket for the OpenID flow (oidc.Queue):
// the token record, token_generated on the first issue, and admitted. An
// id still in the pre-queue is not served yet.
func (g *Guarded) Admit(ctx context.Context, room, id, issuer string) (waitroom.TokenRecord, error) {
	start := g.clock()
	rec, err := g.Service.Admit(ctx, room, id, issuer)
	if waitroom.ErrorCode(err) == waitroom.CodeNotFound && g.door.pre != nil {
		if perr := g.door.pre.NotYetAssigned(ctx, room, id); waitroom.ErrorCode(perr) == waitroom.CodeNotServed {
			return waitroom.TokenRecord{}, perr
		}
	}
	return g.admitted(ctx, room, rec, err, start)
}

// AdmitTicket is Admit for a ticket just returned by Enqueue in the same
// request (see Service.AdmitTicket): it is not read again.
func (g *Guarded) AdmitTicket(ctx context.Context, room string, t waitroom.Ticket, issuer string) (waitroom.TokenRecord, error) {
	start := g.clock()
	rec, err := g.Service.AdmitTicket(ctx, room, t, issuer)
	return g.admitted(ctx, room, rec, err, start)
}

// admitted sends the events of an admission that succeeded.
func (g *Guarded) admitted(ctx context.Context, room string, rec waitroom.TokenRecord, err error, start time.Time) (waitroom.TokenRecord, error) {
	if err != nil {
		return waitroom.TokenRecord{}, err
	}
	g.tokenGenerated(ctx, room, rec, start)
	g.Admitted(ctx, room, waitroom.Ticket{ID: rec.RequestID, Position: rec.Position})
	return rec, nil
}
