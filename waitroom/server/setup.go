package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/waitroom-idp/waitroom/oidc"
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

// demoSetup says what of the demo this start has: the room created now,
// and the demo client and relying party (the demo room in use: no room
// configured, demo_room on, the room present).
type demoSetup struct {
	created, inUse bool
}

// provider is the OpenID provider's demo configuration, nil without the
// demo.
func (d demoSetup) provider() *oidc.DemoConfig {
	if !d.inUse {
		return nil
	}
	return &oidc.DemoConfig{Room: demoRoomID, AdvanceNote: fmt.Sprintf("The demo room lets %d visitors a minute in while someone waits (its rate inlet: change it in the control panel, or let visitors in by hand with POST /increment_serving_counter on the admin API).", demoPerMinute)}
}

// ensureRooms creates the configured rooms that do not exist yet; existing
// rooms keep their stored settings (the admin API may have changed them).
// With no room configured and none stored, it creates the demo room.
func ensureRooms(ctx context.Context, cfg Config, svc *waitroom.Service) (demoSetup, error) {
	for _, raw := range cfg.Rooms {
		r, err := RoomFromConfig(raw) // validated already
		if err != nil {
			return demoSetup{}, err
		}
		if err := createIfMissing(ctx, svc, r); err != nil {
			return demoSetup{}, err
		}
	}
	if len(cfg.Rooms) > 0 || !cfg.DemoRoom {
		return demoSetup{}, nil
	}
	rooms, err := svc.Rooms(ctx)
	if err != nil {
		return demoSetup{}, err
	}
	if len(rooms) == 0 {
		return demoSetup{created: true, inUse: true}, createIfMissing(ctx, svc, demoRoom())
	}
	_, err = svc.Room(ctx, demoRoomID)
	if waitroom.ErrorCode(err) == waitroom.CodeNotFound {
		return demoSetup{}, nil
	}
	return demoSetup{inUse: err == nil}, err
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
	key := NewAdminKey()
	return []string{"admin:" + httpapi.HashAdminKey(key)}, key
}

// NewAdminKey returns 32 random bytes, URL-safe base64.
func NewAdminKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}
