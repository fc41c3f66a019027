package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/admission"
	"github.com/waitroom-idp/waitroom/waitroom/backend/backendtest"
	"github.com/waitroom-idp/waitroom/waitroom/transport/httpapi"
	"github.com/waitroom-idp/waitroom/waitroom/transport/webhook"
)

// TestPolicySettingsValidated: the admin API refuses invalid strategy
// settings with one answer naming every bad field, and never shows a
// webhook secret back.
func TestPolicySettingsValidated(t *testing.T) {
	e := newEnv(t, backends[0])
	e.room("sale")
	bad := `{"mode":"open","inlet":{"strategy":"periodic","increment":-1,"interval":"1m",
		"start":"2026-03-01T12:00:00Z","end":"2026-03-01T11:00:00Z"}}`
	msg := e.adminDo(http.MethodPatch, "/v1/rooms/sale", bad).expect(http.StatusBadRequest, "invalid_argument").field("message").(string)
	for _, field := range []string{"mode", "inlet.increment", "inlet.end"} {
		if !strings.Contains(msg, field) {
			t.Errorf("error %q does not name %s", msg, field)
		}
	}
	e.adminDo(http.MethodPatch, "/v1/rooms/sale", `{"inlet":{"strategy":"rate","per_minute":-5}}`).expect(http.StatusBadRequest, "invalid_argument")
	good := `{"mode":"queue","inlet":{"strategy":"rate","per_minute":600},
		"webhooks":[{"url":"https://hooks.example/w","secret":"0123456789abcdef-top-secret"}]}`
	a := e.adminDo(http.MethodPatch, "/v1/rooms/sale", good).expect(http.StatusOK, "")
	if strings.Contains(a.Body.String(), "top-secret") {
		t.Fatalf("PATCH answer shows the webhook secret: %s", a.Body)
	}
	for _, target := range []string{"/v1/rooms/sale", "/v1/rooms"} {
		if b := e.adminDo(http.MethodGet, target, "").expect(http.StatusOK, "").Body.String(); strings.Contains(b, "top-secret") || !strings.Contains(b, `"per_minute":600`) {
			t.Fatalf("GET %s: %s", target, b)
		}
	}
	r, _ := e.svc.Room(context.Background(), "sale")
	if r.Webhooks[0].Secret != "0123456789abcdef-top-secret" {
		t.Fatal("the stored secret was changed by redaction")
	}
}

func TestWebhookDeliveriesListed(t *testing.T) {
	box := backendtest.Embedded(t, nil).Outbox
	e := newEnv(t, backends[0], func(o *httpapi.Options) { o.Deliveries = box })
	room := e.room("sale", func(r *waitroom.Room) {
		r.Webhooks = []waitroom.Webhook{{URL: "https://hooks.example/w", Secret: "0123456789abcdef"}}
	})
	d := webhook.NewDispatcher(webhook.Config{Outbox: box, Clock: e.clock.Now,
		Rooms: func(ctx context.Context, id string) (waitroom.Room, error) { return room, nil }})
	d.Emit(context.Background(), room, "ticket_created", map[string]any{"request_id": "x"})
	got := e.adminDo(http.MethodGet, "/v1/rooms/sale/webhook_deliveries?state=pending", "").expect(http.StatusOK, "").json()
	ds := got["deliveries"].([]any)
	if len(ds) != 1 || ds[0].(map[string]any)["type"] != "ticket_created" || ds[0].(map[string]any)["state"] != "pending" {
		t.Fatalf("deliveries %v", got)
	}
	e.adminDo(http.MethodGet, "/v1/rooms/sale/webhook_deliveries?state=bogus", "").expect(http.StatusBadRequest, "invalid_argument")
	e.adminDo(http.MethodGet, "/v1/rooms/nope/webhook_deliveries", "").expect(http.StatusNotFound, "")
	e.do(e.admin, http.MethodGet, "/v1/rooms/sale/webhook_deliveries", "").expect(http.StatusUnauthorized, "")
}

func TestPrequeueDrawPublished(t *testing.T) {
	pre := admission.NewPrequeue(backendtest.Embedded(t, nil).Prequeue, nil, nil)
	e := newEnv(t, backends[0], func(o *httpapi.Options) { o.Draws = pre })
	room := e.room("gig", func(r *waitroom.Room) { r.Schedule.OpensAt = e.clock.Now().Add(3600e9) })
	e.get("/prequeue_draw?event_id=gig").expect(http.StatusNotFound, "")
	if err := pre.Commit(context.Background(), room, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	pub := e.get("/prequeue_draw?event_id=gig").expect(http.StatusOK, "").json()
	if len(pub["commitment"].(string)) != 64 || pub["seed"] != nil {
		t.Fatalf("before opening: %v", pub)
	}
}

func TestCounterStream(t *testing.T) {
	e := newEnv(t, backends[0])
	e.room("sale")
	e.enqueue("sale")
	e.adminDo(http.MethodGet, "/v1/rooms/nope/stream", "").expect(http.StatusNotFound, "")
	srv := httptest.NewServer(e.admin)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v1/rooms/sale/stream", nil)
	req.Header.Set("Authorization", "Bearer "+testAdminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	var event, data string
	for sc.Scan() && sc.Text() != "" {
		if v, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			event = v
		}
		if v, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			data = v
		}
	}
	var c map[string]any
	if err := json.Unmarshal([]byte(data), &c); err != nil || event != "counters" || c["queue"] != 1.0 || c["event_id"] != "sale" {
		t.Fatalf("first frame event %q data %q", event, data)
	}
}

// TestPatchIsAMergePatch: PATCH /v1/rooms/{id} is a JSON merge patch
// (RFC 7396): nested objects change field by field, null removes a
// setting, everything not named stays.
func TestPatchIsAMergePatch(t *testing.T) {
	e := newEnv(t, backends[0])
	e.room("sale")
	e.adminDo(http.MethodPatch, "/v1/rooms/sale", `{"inlet":{"strategy":"rate","per_minute":300},
		"schedule":{"opens_at":"2030-01-01T09:00:00Z","prequeue":"15m","closes_at":"2030-01-01T18:00:00Z"},
		"health_gate":{"url":"https://shop.example/health"},"branding":{"title":"Spring"}}`).expect(http.StatusOK, "")
	e.adminDo(http.MethodPatch, "/v1/rooms/sale", `{"inlet":{"per_minute":600},"schedule":{"opens_at":null,"prequeue":null},"health_gate":null}`).expect(http.StatusOK, "")
	r, err := e.svc.Room(context.Background(), "sale")
	if err != nil {
		t.Fatal(err)
	}
	if r.Inlet.Strategy != waitroom.StrategyRate || r.Inlet.PerMinute != 600 {
		t.Errorf("inlet %+v, want the rate kept and the number changed", r.Inlet)
	}
	if !r.Schedule.OpensAt.IsZero() || r.Schedule.Prequeue != 0 || r.Schedule.ClosesAt.IsZero() {
		t.Errorf("schedule %+v, want the opening removed and the closing kept", r.Schedule)
	}
	if r.HealthGate != nil || r.Branding.Title != "Spring" || r.Name != "Room sale" {
		t.Errorf("health gate %+v, title %q, name %q: want the gate removed, the rest kept", r.HealthGate, r.Branding.Title, r.Name)
	}
	e.adminDo(http.MethodPatch, "/v1/rooms/sale", `{"token_validity":null}`).expect(http.StatusBadRequest, "invalid_argument")
	e.adminDo(http.MethodPatch, "/v1/rooms/sale", `[1,2]`).expect(http.StatusBadRequest, "invalid_argument")
}

// TestPatchGate: a room's gate is set, changed field by field, refused
// when invalid (every problem named) and removed with null.
func TestPatchGate(t *testing.T) {
	e := newEnv(t, backends[0])
	e.room("sale")
	e.adminDo(http.MethodPatch, "/v1/rooms/sale", `{"gate":{"hosts":["shop.example"],"busy":["/api/**"]}}`).expect(http.StatusOK, "")
	e.adminDo(http.MethodPatch, "/v1/rooms/sale", `{"gate":{"pass":["/static/"]}}`).expect(http.StatusOK, "")
	r, err := e.svc.Room(context.Background(), "sale")
	if err != nil {
		t.Fatal(err)
	}
	if r.Gate == nil || r.Gate.Hosts[0] != "shop.example" || r.Gate.Busy[0] != "/api/**" || r.Gate.Pass[0] != "/static/" {
		t.Fatalf("gate %+v, want hosts and busy kept, pass added", r.Gate)
	}
	a := e.adminDo(http.MethodPatch, "/v1/rooms/sale", `{"gate":{"hosts":["bad host"],"protect":["nope"]}}`)
	a.expect(http.StatusBadRequest, "invalid_argument")
	for _, want := range []string{"gate.hosts[0]", "gate.protect[0]"} {
		if !strings.Contains(a.Body.String(), want) {
			t.Errorf("refusal %s does not name %s", a.Body, want)
		}
	}
	e.adminDo(http.MethodPatch, "/v1/rooms/sale", `{"gate":null}`).expect(http.StatusOK, "")
	if r, _ := e.svc.Room(context.Background(), "sale"); r.Gate != nil {
		t.Errorf("gate %+v after null, want none", r.Gate)
	}
}
