package main

import (
	"context"
	"fmt"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/transport/httpapi"
)

// demoRoomID is the room created for newcomers.
const demoRoomID = "demo"

// demoPerMinute is the demo room's rate inlet: a newcomer sees a short,
// real wait and then gets through without touching the admin API. It is an
// ordinary room setting, so the control panel or the admin API can change
// it (set the inlet to manual to drive the room by hand).
const demoPerMinute = 12

// demoRoom is the room created when no room is configured.
func demoRoom() waitroom.Room {
	r := waitroom.NewRoom(demoRoomID, "Demo room")
	r.Inlet = waitroom.Inlet{Strategy: waitroom.StrategyRate, PerMinute: demoPerMinute}
	return r
}

// ensureRooms creates the configured rooms that do not exist yet; existing
// rooms keep their stored settings (the admin API may have changed them).
// With no room configured and none stored, it creates the demo room.
// It reports whether the demo room was created.
func ensureRooms(ctx context.Context, cfg Config, svc *waitroom.Service) (demo bool, err error) {
	for _, raw := range cfg.Rooms {
		r, err := roomFromConfig(raw) // validated already
		if err != nil {
			return false, err
		}
		if err := createIfMissing(ctx, svc, r); err != nil {
			return false, err
		}
	}
	if len(cfg.Rooms) > 0 || !cfg.DemoRoom {
		return false, nil
	}
	rooms, err := svc.Rooms(ctx)
	if err != nil || len(rooms) > 0 {
		return false, err
	}
	return true, createIfMissing(ctx, svc, demoRoom())
}

func createIfMissing(ctx context.Context, svc *waitroom.Service, r waitroom.Room) error {
	_, err := svc.CreateRoom(ctx, r)
	if waitroom.ErrorCode(err) == waitroom.CodeConflict {
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating room %q: %w", r.ID, err)
	}
	return nil
}

// adminKeyHashes returns the configured hashes, or generates a key for this
// run when none is configured (returned so that the banner can show it; it
// is never logged).
func adminKeyHashes(cfg Config) (hashes []string, generated string) {
	if len(cfg.AdminKeyHashes) > 0 {
		return cfg.AdminKeyHashes, ""
	}
	key := newAdminKey()
	return []string{httpapi.HashAdminKey(key)}, key
}
