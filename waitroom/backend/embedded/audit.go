package embedded

import (
	"context"
	"slices"
	"sync"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// auditKept bounds the in-memory trail: the embedded store serves one
// node for trying waitroom out; the oldest entries go first.
const auditKept = 10000

// auditTrail is the in-process waitroom.AuditStore.
type auditTrail struct {
	mu      sync.Mutex
	seq     int64
	entries []waitroom.AuditEntry // oldest first
}

func (a *auditTrail) AppendAudit(_ context.Context, e waitroom.AuditEntry) (waitroom.AuditEntry, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seq++
	e.Seq = a.seq
	e.Before, e.After = slices.Clone(e.Before), slices.Clone(e.After)
	a.entries = append(a.entries, e)
	if len(a.entries) > auditKept {
		a.entries = slices.Delete(a.entries, 0, len(a.entries)-auditKept)
	}
	return e, nil
}

func (a *auditTrail) AuditTrail(_ context.Context, room string, before int64, limit int) ([]waitroom.AuditEntry, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []waitroom.AuditEntry
	for i := len(a.entries) - 1; i >= 0 && len(out) < limit; i-- {
		e := a.entries[i]
		if (before == 0 || e.Seq < before) && (room == "" || e.Room == room) {
			out = append(out, e)
		}
	}
	return out, nil
}
