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
// real wait (one visitor every 5 s) and then gets through without touching
// the admin API. It is an ordinary room setting, so the admin API can
// change it (PATCH /v1/rooms/demo; an inlet of strategy manual leaves the
// room to be driven by hand).
const demoPerMinute = 12

// demoRoom is the room created when no room is configured.
func demoRoom() waitroom.Room {
	r := waitroom.NewRoom(demoRoomID, "Demo room")
	r.Inlet = waitroom.Inlet{Strategy: waitroom.StrategyRate, PerMinute: demoPerMinute}
	return r
}

// demoSetup says what of the demo this start has: whether it is on and
// why (Config.DemoOn), and whether the demo room was created now.
type demoSetup struct {
	on, created bool
	why         string
}

// provider is the OpenID provider's demo configuration, nil without the
// demo.
func (d demoSetup) provider() *oidc.DemoConfig {
	if !d.on {
		return nil
	}
	return &oidc.DemoConfig{Room: demoRoomID, AdvanceNote: fmt.Sprintf("The demo room lets %d visitors a minute in while someone waits (its rate inlet, a room setting of the admin API: PATCH /v1/rooms/demo). Let visitors in by hand with POST /increment_serving_counter on the admin API, or the serving form of the control panel.", demoPerMinute)}
}

// ensureRooms creates the configured rooms that do not exist yet, and the
// demo room when the demo is on; existing rooms keep their stored settings
// (the admin API may have changed them).
func ensureRooms(ctx context.Context, cfg Config, svc *waitroom.Service) (demoSetup, error) {
	for _, raw := range cfg.Rooms {
		r, err := RoomFromConfig(raw) // validated already
		if err != nil {
			return demoSetup{}, err
		}
		if _, err := createIfMissing(ctx, svc, r); err != nil {
			return demoSetup{}, err
		}
	}
	d := demoSetup{}
	d.on, d.why = cfg.DemoOn()
	if !d.on {
		return d, nil
	}
	var err error
	d.created, err = createIfMissing(ctx, svc, demoRoom())
	return d, err
}

// createIfMissing creates r unless a room of that id exists; it reports
// whether it created it.
func createIfMissing(ctx context.Context, svc *waitroom.Service, r waitroom.Room) (bool, error) {
	_, err := svc.CreateRoom(ctx, r)
	if waitroom.ErrorCode(err) == waitroom.CodeConflict {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("creating room %q: %w", r.ID, err)
	}
	return true, nil
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
