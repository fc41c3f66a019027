package server

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// auditTrail records admin changes in the backend's audit store and, for
// a room's changes, as an admin_change webhook event of that room (so a
// receiver hears of a rate change the moment it is made).
type auditTrail struct {
	store  waitroom.AuditStore
	rooms  func(ctx context.Context, id string) (waitroom.Room, error)
	events interface {
		Emit(ctx context.Context, room waitroom.Room, event string, data map[string]any) error
	}
	logger *slog.Logger
}

var _ waitroom.Auditor = auditTrail{}

func (a auditTrail) Record(ctx context.Context, e waitroom.AuditEntry) {
	// The change is made: its record must not be lost to the caller
	// hanging up.
	ctx = context.WithoutCancel(ctx)
	e, err := a.store.AppendAudit(ctx, e)
	if err != nil {
		a.logger.Error("recording an admin change failed", "actor", e.Actor, "room", e.Room, "action", e.Action, "err", err)
		return
	}
	a.logger.Info("admin change", "actor", e.Actor, "room", e.Room, "action", e.Action, "target", e.Target, "seq", e.Seq)
	if e.Room == "" {
		return
	}
	room, err := a.rooms(ctx, e.Room)
	if err != nil {
		return // deleted: nobody left to tell
	}
	detail := map[string]any{"seq": e.Seq, "actor": e.Actor, "action": e.Action, "at": e.At}
	if e.Target != "" {
		detail["target"] = e.Target
	}
	for k, doc := range map[string]json.RawMessage{"before": e.Before, "after": e.After} {
		if len(doc) > 0 {
			detail[k] = doc
		}
	}
	if err := a.events.Emit(ctx, room, waitroom.AuditEventType, detail); err != nil {
		a.logger.Warn("queueing the admin_change webhook failed", "room", e.Room, "err", err)
	}
}
