package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/server"
)

// TestRoomPoliciesValidatedAtStartUp: bad admission settings in the config
// file stop the start-up with every bad field named; good ones (YAML
// timestamps included) load as the admin API would read them.
func TestRoomPoliciesValidatedAtStartUp(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	writeFile(t, file, `
rooms:
  - id: bad
    mode: open
    inlet: {strategy: periodic, increment: 10, interval: 1m, start: 2026-03-01T12:00:00Z, end: 2026-03-01T11:00:00Z}
  - id: worse
    inlet: {strategy: rate, per_minute: -5}
  - id: good
    mode: passthrough
    safety_net_threshold: 500
    inlet: {strategy: max_active, max_active: 200}
    schedule: {opens_at: 2026-03-01T12:00:00Z, prequeue: 30m}
`)
	m, _ := newTestMain(nil)
	err := m.ParseFlags([]string{"serve", "-config", file})
	if err == nil {
		t.Fatal("invalid room policies accepted")
	}
	for _, want := range []string{`rooms[0].mode: unknown mode "open"`, "rooms[0].inlet.end", "rooms[1].inlet.per_minute"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("start-up error %q does not name %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "rooms[2]") {
		t.Errorf("the valid room was refused: %v", err)
	}
	good, err := server.RoomFromConfig(map[string]any{"id": "good", "inlet": map[string]any{"strategy": "rate", "per_minute": 600},
		"schedule": map[string]any{"opens_at": time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), "prequeue": "30m"}})
	if err != nil || good.Inlet.PerMinute != 600 || good.Schedule.Prequeue != waitroom.Duration(30*time.Minute) {
		t.Fatalf("good room: %+v, %v", good, err)
	}
}
