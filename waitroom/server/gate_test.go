package server

import "testing"

func TestRoomFromConfigKeepsTheGate(t *testing.T) {
	r, err := RoomFromConfig(map[string]any{"id": "launch", "gate": map[string]any{
		"hosts": []any{"shop.example.com"}, "busy": []any{"/api/**"}, "retry_after": "15s"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Gate == nil || r.Gate.Hosts[0] != "shop.example.com" || r.Gate.Busy[0] != "/api/**" || r.Gate.RetryAfter.D().Seconds() != 15 {
		t.Fatalf("gate read from the config file as %+v", r.Gate)
	}
	if _, err := RoomFromConfig(map[string]any{"id": "launch", "gate": map[string]any{"hosts": []any{"bad host"}}}); err == nil {
		t.Fatal("an invalid gate was accepted")
	}
}
