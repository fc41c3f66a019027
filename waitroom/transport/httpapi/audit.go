package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// audit records a change made through this API (the control panel's
// changes come through it too): who, what, and the record before and after.
// Rooms are recorded redacted (webhook secrets hidden).
func (a *API) audit(r *http.Request, room, action, target string, before, after any) {
	if a.opts.Audit == nil {
		return
	}
	actor, _ := web.ActorFrom(r.Context())
	a.opts.Audit.Record(r.Context(), waitroom.AuditEntry{
		At: a.now().UTC(), Actor: actor.Name, Room: room, Action: action, Target: target,
		Before: auditDoc(before), After: auditDoc(after),
	})
}

func auditDoc(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	if r, ok := v.(waitroom.Room); ok {
		v = r.Redacted()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

func (a *API) now() time.Time {
	if a.opts.Now != nil {
		return a.opts.Now()
	}
	return time.Now()
}

// maxAuditPage bounds one page of the audit trail.
const maxAuditPage = 500

type auditAnswer struct {
	Entries []waitroom.AuditEntry `json:"entries"`
	// Next is the "before" of the next page; 0 after the last one.
	Next int64 `json:"next,omitempty"`
}

// auditTrail answers GET /v1/audit?room=&before=&limit=: changes newest
// first, of one room or of everything.
func (a *API) auditTrail(w http.ResponseWriter, r *http.Request) error {
	if a.opts.AuditTrail == nil {
		return errPolicyOff
	}
	q := r.URL.Query()
	room := q.Get("room")
	if room != "" && !waitroom.ValidRoomID(room) {
		return web.Invalid("room: a room id")
	}
	before, err := optionalInt(q.Get("before"), 0, 1<<62, "before")
	if err != nil {
		return err
	}
	limit, err := optionalInt(q.Get("limit"), 100, maxAuditPage, "limit")
	if err != nil {
		return err
	}
	entries, err := a.opts.AuditTrail.AuditTrail(r.Context(), room, before, int(limit))
	if err != nil {
		return err
	}
	out := auditAnswer{Entries: entries}
	if out.Entries == nil {
		out.Entries = []waitroom.AuditEntry{}
	}
	if len(entries) == int(limit) {
		out.Next = entries[len(entries)-1].Seq
	}
	web.JSON(w, http.StatusOK, web.NoStore, out)
	return nil
}

// optionalInt reads a query parameter between 1 and most; empty gives def.
func optionalInt(v string, def, most int64, name string) (int64, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 || n > most {
		return 0, web.Invalid(name + ": a whole number from 1 to " + strconv.FormatInt(most, 10))
	}
	return n, nil
}
