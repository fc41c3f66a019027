package waitroom

import (
	"context"
	"encoding/json"
	"time"
)

// AuditEntry is one change made through the admin API or the control
// panel: who (the admin key's name), when, what, and the record before and
// after (secrets redacted).
type AuditEntry struct {
	Seq   int64     `json:"seq"`
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	// Room is the room changed, or the room of the client changed; empty
	// for changes that concern no room.
	Room string `json:"room,omitempty"`
	// Action names the change: room.create, room.update, room.delete,
	// room.reset, room.serving, room.fill, client.create, client.update,
	// client.secret, client.delete.
	Action string `json:"action"`
	// Target is what else the action names (a client id).
	Target string          `json:"target,omitempty"`
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
}

// AuditEventType is the webhook event an audit entry of a room emits.
const AuditEventType = "admin_change"

// AuditStore keeps the audit trail.
type AuditStore interface {
	// AppendAudit stores e, assigning Seq (increasing) and returns it.
	AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error)
	// AuditTrail returns up to limit entries, newest first, of one room
	// ("" for every entry) with Seq below before (0: from the newest).
	AuditTrail(ctx context.Context, room string, before int64, limit int) ([]AuditEntry, error)
}

// Auditor records admin changes: in the AuditStore and, for a room's
// changes, as a webhook event of the room. A failure to record is logged,
// not returned: the change it describes is already made.
type Auditor interface {
	Record(ctx context.Context, e AuditEntry)
}
