package demo

import (
	"context"
	"log/slog"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// EnsureRoom creates the demo room if it does not exist.
func EnsureRoom(ctx context.Context, svc *waitroom.Service, room string) error {
	_, err := svc.CreateRoom(ctx, waitroom.NewRoom(room, "Demo room"))
	if waitroom.ErrorCode(err) == waitroom.CodeConflict {
		return nil
	}
	return err
}

// Inlet lets one visitor of the room in every `every` while someone is
// waiting, so that a newcomer sees a short, real wait and then gets
// through without touching the admin API. It runs until ctx ends. Meant
// for the single-node embedded default only: with several replicas each
// would advance the room.
func Inlet(ctx context.Context, svc *waitroom.Service, room string, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c, err := svc.Counters(ctx, room)
		if err != nil {
			log.WarnContext(ctx, "demo inlet", "room", room, "error", err)
			continue
		}
		if c.Serving < c.Queue {
			if _, err := svc.AdvanceServing(ctx, room, 1); err != nil {
				log.WarnContext(ctx, "demo inlet", "room", room, "error", err)
			}
		}
	}
}
