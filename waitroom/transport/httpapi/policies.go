package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom/transport/web"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/admission"
)

// Admission-policy endpoints: the webhook outbox of a room (admin), a live
// stream of a room's counters for the control panel (admin, server-sent
// events) and the published pre-queue draw (public: anyone may verify the
// order).

// DeliveryLister lists a room's webhook deliveries (waitroom.Outbox).
type DeliveryLister interface {
	List(ctx context.Context, room string, state waitroom.DeliveryState, limit int) ([]waitroom.Delivery, error)
}

// DrawPublisher publishes a room's pre-queue draw (*admission.Prequeue).
type DrawPublisher interface {
	Publish(ctx context.Context, r waitroom.Room) (admission.Publication, error)
}

var errPolicyOff = notFound("not enabled on this server")

func (a *API) policyRoutes(public, admin *routeTable, wrap func(func(http.ResponseWriter, *http.Request) error) http.Handler) {
	admin.add(http.MethodGet, "/v1/rooms/{id}/webhook_deliveries", wrap(a.webhookDeliveries))
	admin.add(http.MethodGet, "/v1/rooms/{id}/stream", wrap(a.counterStream))
	public.add(http.MethodGet, "/prequeue_draw", a.handle(a.prequeueDraw))
}

func (a *API) webhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	id, err := pathRoom(r)
	if err != nil {
		return err
	}
	if a.opts.Deliveries == nil {
		return errPolicyOff
	}
	state := waitroom.DeliveryState(r.URL.Query().Get("state"))
	switch state {
	case "", waitroom.DeliveryPending, waitroom.DeliveryFailed:
	default:
		return web.Invalid("state: pending or failed")
	}
	limit, err := pageLimit(r.URL.Query())
	if err != nil {
		return err
	}
	if _, err := a.svc.Room(r.Context(), id); err != nil {
		return err
	}
	ds, err := a.opts.Deliveries.List(r.Context(), id, state, limit)
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []waitroom.Delivery{}
	}
	web.JSON(w, http.StatusOK, web.NoStore, map[string]any{"event_id": id, "deliveries": ds})
	return nil
}

func (a *API) prequeueDraw(w http.ResponseWriter, r *http.Request) error {
	id, err := queryEventID(r)
	if err != nil {
		return err
	}
	if a.opts.Draws == nil {
		return errPolicyOff
	}
	room, err := a.svc.Room(r.Context(), id)
	if err != nil {
		return err
	}
	pub, err := a.opts.Draws.Publish(r.Context(), room)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, web.NoStore, pub)
	return nil
}

// streamEvery is how often the counter stream sends a frame; streamFor
// bounds one connection (the browser's EventSource reconnects).
const (
	streamEvery = time.Second
	streamFor   = 10 * time.Minute
)

// counterStream sends the room's counters as server-sent events, one
// "counters" event per second, until the client leaves.
func (a *API) counterStream(w http.ResponseWriter, r *http.Request) error {
	id, err := pathRoom(r)
	if err != nil {
		return err
	}
	first, err := a.countersFrame(r.Context(), id)
	if err != nil {
		return err // before any byte is written: a normal error answer
	}
	rc := http.NewResponseController(w)
	// The server's write timeout is meant for ordinary answers; a stream
	// lives longer. (Ignored where unsupported: the stream then ends early
	// and EventSource reconnects.)
	_ = rc.SetWriteDeadline(time.Now().Add(streamFor + time.Minute))
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", web.NoStore)
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	ctx, cancel := context.WithTimeout(r.Context(), streamFor)
	defer cancel()
	tick := time.NewTicker(streamEvery)
	defer tick.Stop()
	frame := first
	for seq := 1; ; seq++ {
		fmt.Fprintf(w, "id: %d\nevent: counters\ndata: %s\n\n", seq, frame)
		if rc.Flush() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if frame, err = a.countersFrame(ctx, id); err != nil {
			fmt.Fprintf(w, "event: error\ndata: %s\n\n", strconv.Quote(waitroom.ErrorMessage(err)))
			_ = rc.Flush()
			return nil
		}
	}
}

func (a *API) countersFrame(ctx context.Context, id string) ([]byte, error) {
	c, err := a.svc.Counters(ctx, id)
	if err != nil {
		return nil, err
	}
	active, err := a.svc.ActiveTokens(ctx, id)
	if err != nil {
		return nil, err
	}
	return json.Marshal(countersAnswer{EventID: id, Counters: c, Waiting: c.Waiting(), ActiveTokens: active})
}
