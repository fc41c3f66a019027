package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	jsonpatch "github.com/evanphx/json-patch"
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"

	"github.com/gorilla/mux"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// The resource API under /v1/rooms manages rooms and their counters. Its
// errors use the default statuses (an unknown room is 404 here, unlike on
// the AWS paths).

func pathRoom(r *http.Request) (string, error) {
	id := mux.Vars(r)["id"]
	if !waitroom.ValidRoomID(id) {
		return "", notFound("no such room")
	}
	return id, nil
}

func (a *API) listRooms(w http.ResponseWriter, r *http.Request) error {
	rooms, err := a.svc.Rooms(r.Context())
	if err != nil {
		return err
	}
	if rooms == nil {
		rooms = []waitroom.Room{}
	}
	for i := range rooms {
		rooms[i] = rooms[i].Redacted()
	}
	web.JSON(w, http.StatusOK, web.NoStore, map[string][]waitroom.Room{"rooms": rooms})
	return nil
}

// createRoom reads the room over the defaults, so that omitted settings get
// the default value rather than the zero value (expiry on, 15 min, ...).
func (a *API) createRoom(w http.ResponseWriter, r *http.Request) error {
	room := waitroom.NewRoom("", "")
	if err := web.DecodeJSON(r, &room, true); err != nil {
		return err
	}
	room.CreatedAt, room.UpdatedAt = time.Time{}, time.Time{}
	created, err := a.svc.CreateRoom(r.Context(), room)
	if err != nil {
		return err
	}
	a.audit(r, created.ID, "room.create", "", nil, created)
	w.Header().Set("Location", "/v1/rooms/"+created.ID)
	web.JSON(w, http.StatusCreated, web.NoStore, created.Redacted())
	return nil
}

func (a *API) getRoom(w http.ResponseWriter, r *http.Request) error {
	id, err := pathRoom(r)
	if err != nil {
		return err
	}
	room, err := a.svc.Room(r.Context(), id)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, web.NoStore, room.Redacted())
	return nil
}

// patchRoom merges the fields of the body into the stored room (fields left
// out keep their value). The body is parsed once up front so that a bad body
// never reaches the store, and again inside the update, which may run more
// than once.
func (a *API) patchRoom(w http.ResponseWriter, r *http.Request) error {
	id, err := pathRoom(r)
	if err != nil {
		return err
	}
	raw, err := web.ReadBody(r)
	if err != nil {
		return err
	}
	probe := waitroom.NewRoom(id, "")
	if err := web.UnmarshalJSON(raw, &probe, true); err != nil {
		return err
	}
	if probe.ID != id {
		return web.Invalid("id: a room cannot be renamed")
	}
	var before waitroom.Room
	room, err := a.svc.UpdateRoom(r.Context(), id, func(room *waitroom.Room) error {
		before = *room
		// A JSON merge patch (RFC 7396): the fields given replace the
		// room's, nested objects field by field, null removes a field.
		current, err := json.Marshal(room)
		if err != nil {
			return err
		}
		merged, err := jsonpatch.MergePatch(current, raw)
		if err != nil {
			return web.Invalid("the body is not a JSON merge patch of a room")
		}
		next := waitroom.Room{}
		if err := web.UnmarshalJSON(merged, &next, true); err != nil {
			return err
		}
		next.ID, next.CreatedAt, next.UpdatedAt = id, room.CreatedAt, room.UpdatedAt
		*room = next
		return nil
	})
	if err != nil {
		return err
	}
	a.audit(r, id, "room.update", "", before, room)
	web.JSON(w, http.StatusOK, web.NoStore, room.Redacted())
	return nil
}

func (a *API) deleteRoom(w http.ResponseWriter, r *http.Request) error {
	id, err := pathRoom(r)
	if err != nil {
		return err
	}
	before, err := a.svc.Room(r.Context(), id)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteRoom(r.Context(), id); err != nil {
		return err
	}
	a.audit(r, id, "room.delete", "", before, nil)
	w.Header().Set("Cache-Control", web.NoStore)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// countersAnswer is a room's counters with the derived figures an operator
// wants next to them.
type countersAnswer struct {
	EventID string `json:"event_id"`
	waitroom.Counters
	Waiting      int64 `json:"waiting"`
	ActiveTokens int64 `json:"active_tokens"`
}

func (a *API) roomCounters(w http.ResponseWriter, r *http.Request) error {
	id, err := pathRoom(r)
	if err != nil {
		return err
	}
	c, err := a.svc.Counters(r.Context(), id)
	if err != nil {
		return err
	}
	active, err := a.svc.ActiveTokens(r.Context(), id)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, web.NoStore, countersAnswer{EventID: id, Counters: c, Waiting: c.Waiting(), ActiveTokens: active})
	return nil
}

func (a *API) setServing(w http.ResponseWriter, r *http.Request) error {
	id, err := pathRoom(r)
	if err != nil {
		return err
	}
	var in struct {
		Serving *int64 `json:"serving"`
		Beyond  bool   `json:"allow_beyond_queue"`
	}
	if err := web.DecodeJSON(r, &in, true); err != nil {
		return err
	}
	v, err := requiredInt("serving", in.Serving)
	if err != nil {
		return err
	}
	if v < 0 {
		return web.Invalid("serving: must not be negative")
	}
	c, err := a.svc.Counters(r.Context(), id)
	if err != nil {
		return err
	}
	if err := beyondQueue(c, v, in.Beyond); err != nil {
		return err
	}
	n, err := a.svc.SetServing(r.Context(), id, v)
	if err != nil {
		return err
	}
	a.audit(r, id, "room.serving", "", servingDoc{c.Serving}, servingDoc{n})
	web.JSON(w, http.StatusOK, web.NoStore, map[string]any{"event_id": id, "serving": n})
	return nil
}

// servingDoc is the serving counter as the audit trail records it.
type servingDoc struct {
	Serving int64 `json:"serving"`
}

// maxAdvance bounds one advance; anything larger is a typo.
const maxAdvance = 1_000_000_000

// advanceRoom moves the serving counter forward by "by" (the panel's and
// the runbook's "let n more in"), refusing to pass the end of the line
// unless asked to.
func (a *API) advanceRoom(w http.ResponseWriter, r *http.Request) error {
	id, err := pathRoom(r)
	if err != nil {
		return err
	}
	var in struct {
		By     *int64 `json:"by"`
		Beyond bool   `json:"allow_beyond_queue"`
	}
	if err := web.DecodeJSON(r, &in, true); err != nil {
		return err
	}
	by, err := requiredInt("by", in.By)
	if err != nil {
		return err
	}
	if by < 1 || by > maxAdvance {
		return web.Invalid("by: from 1 to 1000000000")
	}
	c, err := a.svc.Counters(r.Context(), id)
	if err != nil {
		return err
	}
	if err := beyondQueue(c, c.Serving+by, in.Beyond); err != nil {
		return err
	}
	n, err := a.svc.AdvanceServing(r.Context(), id, by)
	if err != nil {
		return err
	}
	a.audit(r, id, "room.serving", "", servingDoc{n - by}, servingDoc{n})
	web.JSON(w, http.StatusOK, web.NoStore, map[string]any{"event_id": id, "serving": n})
	return nil
}

// beyondQueue refuses a serving counter above the room's queue (everyone
// who joined is already let in, and the next arrivals would skip the line)
// unless beyond is set.
func beyondQueue(c waitroom.Counters, serving int64, beyond bool) error {
	if beyond || serving <= c.Queue {
		return nil
	}
	skip := serving - c.Queue
	return &web.Problem{Status: http.StatusConflict, Code: "beyond_queue",
		Message: fmt.Sprintf("serving %d would pass the end of the line (%d have joined): the next %d arrivals would skip the line; "+
			"send \"allow_beyond_queue\": true to do it anyway", serving, c.Queue, skip)}
}

func (a *API) resetRoom(w http.ResponseWriter, r *http.Request) error {
	id, err := pathRoom(r)
	if err != nil {
		return err
	}
	before, err := a.svc.Counters(r.Context(), id)
	if err != nil {
		return err
	}
	if err := a.svc.Reset(r.Context(), id); err != nil {
		return err
	}
	a.audit(r, id, "room.reset", "", before, nil)
	c, err := a.svc.Counters(r.Context(), id)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, web.NoStore, countersAnswer{EventID: id, Counters: c})
	return nil
}
