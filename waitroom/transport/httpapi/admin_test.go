package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/backendtest"
	"github.com/waitroom-idp/waitroom/waitroom/transport/httpapi"
)

func TestAdminNeedsAKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.room("demo")
		for _, ep := range e.api.Endpoints("admin") {
			if open := map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true, "/openapi.json": true}; open[ep.Path] {
				continue
			}
			target := strings.ReplaceAll(ep.Path, "{id}", "demo") + "?event_id=demo"
			for _, auth := range []string{"", "Bearer", "Bearer wrong-key", "Basic " + testAdminKey, "bearer " + testAdminKey + "x"} {
				a := e.do(e.admin, ep.Method, target, `{"event_id":"demo"}`, "Authorization", auth).expect(http.StatusUnauthorized, "unauthorized")
				if !strings.HasPrefix(a.Header().Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("%s %s: WWW-Authenticate %q", ep.Method, ep.Path, a.Header().Get("WWW-Authenticate"))
				}
			}
		}
		// The scheme is case-insensitive.
		e.do(e.admin, http.MethodGet, "/num_active_tokens?event_id=demo", "", "Authorization", "bearer "+testAdminKey).expect(http.StatusOK, "")
	})
}

func TestIncrementServingCounter(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.room("demo")
		inc := func(body string) answer { return e.adminDo(http.MethodPost, "/increment_serving_counter", body) }
		if v := inc(`{"event_id":"demo","increment_by":10}`).expect(http.StatusOK, "").field("serving_num"); v != 10.0 {
			t.Fatalf("serving_num %v", v)
		}
		if v := inc(`{"event_id":"demo","increment_by":-3}`).expect(http.StatusOK, "").field("serving_num"); v != 7.0 {
			t.Fatalf("serving_num after -3: %v", v)
		}
		inc(`{"event_id":"nope","increment_by":1}`).expect(http.StatusBadRequest, "Invalid event ID")
		inc(`{"event_id":"demo"}`).expect(http.StatusBadRequest, "invalid_argument")
		inc(`{"event_id":"demo","increment_by":"5"}`).expect(http.StatusBadRequest, "invalid_argument")
		inc(`{"event_id":"demo","increment_by":1.5}`).expect(http.StatusBadRequest, "invalid_argument")
		inc(`{"event_id":"demo","increment_by":1,"typo":1}`).expect(http.StatusBadRequest, "invalid_argument")
		// Near the int64 limit: a 400 that names the bound, never an
		// overflow (a 500 from PostgreSQL, a wrap to 0 in memory).
		for _, by := range []string{"9223372036854775807", "9223372036854775800", "9007199254740985"} {
			a := inc(`{"event_id":"demo","increment_by":`+by+`}`).expect(http.StatusBadRequest, "invalid_argument")
			if msg := a.json()["message"].(string); !strings.Contains(msg, "cannot pass 9007199254740991") {
				t.Fatalf("increment_by %s: message %q", by, msg)
			}
		}
		inc(`{"event_id":"demo","increment_by":9223372036854775808}`).expect(http.StatusBadRequest, "invalid_argument")
		e.adminDo(http.MethodPut, "/v1/rooms/demo/serving", `{"serving":9223372036854775807,"allow_beyond_queue":true}`).expect(http.StatusBadRequest, "invalid_argument")
		if v := inc(`{"event_id":"demo","increment_by":0}`).expect(http.StatusOK, "").field("serving_num"); v != 7.0 {
			t.Fatalf("serving_num after refused increments: %v", v)
		}
		e.adminDo(http.MethodGet, "/increment_serving_counter", "").expect(http.StatusMethodNotAllowed, "")
		e.whileDown(func() answer { return inc(`{"event_id":"demo","increment_by":1}`) })
	})
}

func TestNumActiveTokensAndExpiredTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.room("demo")
		var ids []string
		for range 3 {
			ids = append(ids, e.enqueue("demo").ID)
		}
		e.serve("demo", 3)
		for _, id := range ids {
			e.adminDo(http.MethodPost, "/generate_token", `{"event_id":"demo","request_id":"`+id+`","validity_period":60}`).expect(http.StatusOK, "")
		}
		if v := e.adminDo(http.MethodGet, "/num_active_tokens?event_id=demo", "").expect(http.StatusOK, "").field("active_tokens"); v != 3.0 {
			t.Fatalf("active_tokens %v", v)
		}
		empty := e.adminDo(http.MethodGet, "/expired_tokens?event_id=demo", "").expect(http.StatusOK, "")
		if strings.TrimSpace(empty.Body.String()) != "[]" {
			t.Fatalf("expired before expiry: %s", empty.Body)
		}
		e.clock.Advance(2 * time.Minute)
		if v := e.adminDo(http.MethodGet, "/num_active_tokens?event_id=demo", "").field("active_tokens"); v != 0.0 {
			t.Fatalf("active_tokens after expiry %v", v)
		}
		var got []string
		cursor := ""
		for page := 0; page < 5; page++ {
			a := e.adminDo(http.MethodGet, "/expired_tokens?event_id=demo&limit=2&cursor="+cursor, "").expect(http.StatusOK, "")
			var ids []string
			if err := json.Unmarshal(a.Body.Bytes(), &ids); err != nil {
				t.Fatalf("not a bare array: %s", a.Body)
			}
			got = append(got, ids...)
			if cursor = a.Header().Get("X-Next-Cursor"); cursor == "" {
				break
			}
		}
		if len(got) != 3 {
			t.Fatalf("expired ids %v, want the 3 tokens", got)
		}
		for _, q := range []string{"limit=0", "limit=1001", "limit=x", ""} {
			target := "/expired_tokens?" + q
			if q != "" {
				target += "&event_id=demo"
			}
			e.adminDo(http.MethodGet, target, "").expect(http.StatusBadRequest, "invalid_argument")
		}
		e.adminDo(http.MethodGet, "/num_active_tokens?event_id=nope", "").expect(http.StatusBadRequest, "Invalid event ID")
		e.adminDo(http.MethodGet, "/expired_tokens?event_id=nope", "").expect(http.StatusBadRequest, "Invalid event ID")
		e.adminDo(http.MethodGet, "/num_active_tokens", "").expect(http.StatusBadRequest, "invalid_argument")
		e.adminDo(http.MethodPost, "/num_active_tokens?event_id=demo", "{}").expect(http.StatusMethodNotAllowed, "")
		e.adminDo(http.MethodPost, "/expired_tokens?event_id=demo", "{}").expect(http.StatusMethodNotAllowed, "")
		e.whileDown(func() answer { return e.adminDo(http.MethodGet, "/num_active_tokens?event_id=demo", "") })
		e.whileDown(func() answer { return e.adminDo(http.MethodGet, "/expired_tokens?event_id=demo", "") })
	})
}

func TestUpdateSession(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.room("demo")
		a, c := e.enqueue("demo"), e.enqueue("demo")
		notAdmitted := e.enqueue("demo")
		e.serve("demo", 2)
		for _, id := range []string{a.ID, c.ID} {
			e.post("/generate_token", `{"event_id":"demo","request_id":"`+id+`"}`).expect(http.StatusOK, "")
		}
		upd := func(id string, status string) answer {
			return e.adminDo(http.MethodPost, "/update_session", `{"event_id":"demo","request_id":"`+id+`","status":`+status+`}`)
		}
		ok := upd(a.ID, "1").expect(http.StatusOK, "")
		if ok.field("status") != 1.0 || ok.field("request_id") != a.ID {
			t.Fatalf("answer %s", ok.Body)
		}
		upd(c.ID, "-1").expect(http.StatusOK, "")
		const awsText = "Request ID doesn't exist or status already set."
		upd(a.ID, "-1").expect(http.StatusNotFound, awsText)
		upd(notAdmitted.ID, "1").expect(http.StatusNotFound, awsText)
		upd(unknownRequest, "1").expect(http.StatusNotFound, awsText)
		upd(a.ID, "0").expect(http.StatusBadRequest, "invalid_argument")
		upd(a.ID, "2").expect(http.StatusBadRequest, "invalid_argument")
		upd(a.ID, `"1"`).expect(http.StatusBadRequest, "invalid_argument")
		upd("nope", "1").expect(http.StatusBadRequest, "invalid_argument")
		e.adminDo(http.MethodPost, "/update_session", `{"event_id":"nope","request_id":"`+a.ID+`","status":1}`).expect(http.StatusNotFound, awsText)
		counters, _ := e.svc.Counters(t.Context(), "demo")
		if counters.Completed != 1 || counters.Abandoned != 1 {
			t.Fatalf("counters %+v", counters)
		}
		e.adminDo(http.MethodGet, "/update_session", "").expect(http.StatusMethodNotAllowed, "")
		e.whileDown(func() answer { return upd(a.ID, "1") })
	})
}

func TestAdminGenerateToken(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.room("demo")
		tk := e.enqueue("demo")
		waiting := e.enqueue("demo")
		e.serve("demo", 1)
		gen := func(body string) answer { return e.adminDo(http.MethodPost, "/generate_token", body) }
		ok := gen(`{"event_id":"demo","request_id":"`+tk.ID+`","issuer":"https://other.example.com","validity_period":120}`).expect(http.StatusOK, "")
		claims := verifyToken(t, e, ok.field("id_token").(string))
		if claims["iss"] != "https://other.example.com" || claims["exp"].(float64)-claims["iat"].(float64) != 120 {
			t.Fatalf("claims %v", claims)
		}
		if ok.field("expires_in") != 120.0 {
			t.Fatalf("expires_in %v", ok.field("expires_in"))
		}
		gen(`{"event_id":"demo","request_id":"`+waiting.ID+`"}`).expect(http.StatusAccepted, "Request ID not being served yet")
		gen(`{"event_id":"demo","request_id":"`+unknownRequest+`"}`).expect(http.StatusBadRequest, "Invalid event or request ID")
		gen(`{"event_id":"demo","request_id":"`+tk.ID+`","issuer":"not a url"}`).expect(http.StatusBadRequest, "invalid_argument")
		gen(`{"event_id":"demo","request_id":"`+tk.ID+`","validity_period":0}`).expect(http.StatusBadRequest, "invalid_argument")
		gen(`{"event_id":"demo","request_id":"`+tk.ID+`","validity_period":"60"}`).expect(http.StatusBadRequest, "invalid_argument")
		e.serve("demo", 2)
		e.clock.Advance(16 * time.Minute)
		gen(`{"event_id":"demo","request_id":"`+waiting.ID+`"}`).expect(http.StatusGone, "Queue position has expired")
		e.whileDown(func() answer { return gen(`{"event_id":"demo","request_id":"` + tk.ID + `"}`) })
	})
}

func TestResetInitialState(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.room("demo")
		old := e.enqueue("demo")
		e.serve("demo", 5)
		e.adminDo(http.MethodPost, "/reset_initial_state", `{"event_id":"demo"}`).expect(http.StatusOK, "")
		if v := e.get("/serving_num?event_id=demo").field("serving_counter"); v != "0" {
			t.Fatalf("serving after reset %v", v)
		}
		e.get("/queue_num?event_id=demo&request_id="+old.ID).expect(http.StatusBadRequest, "Invalid event or request ID")
		if v := e.post("/assign_queue_num", `{"event_id":"demo"}`).field("queue_number"); v != 1.0 {
			t.Fatalf("first position after reset %v", v)
		}
		e.adminDo(http.MethodPost, "/reset_initial_state", `{"event_id":"nope"}`).expect(http.StatusBadRequest, "Invalid event ID")
		e.adminDo(http.MethodPost, "/reset_initial_state", `{}`).expect(http.StatusBadRequest, "invalid_argument")
		e.adminDo(http.MethodGet, "/reset_initial_state", "").expect(http.StatusMethodNotAllowed, "")
		e.whileDown(func() answer { return e.adminDo(http.MethodPost, "/reset_initial_state", `{"event_id":"demo"}`) })
	})
}

// TestFillRoom: a fill adds exactly the asked number of tickets, each a
// real ticket of the room (its id answers /queue_num), and refuses counts
// out of range.
func TestFillRoom(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.room("rehearsal")
		e.enqueue("rehearsal")
		got := e.adminDo(http.MethodPost, "/v1/rooms/rehearsal/fill", `{"count":250}`).expect(http.StatusOK, "").json()
		sample, _ := got["sample"].([]any)
		if got["added"] != 250.0 || got["queue"] != 251.0 || len(sample) != 100 {
			t.Fatalf("fill answered %v", got)
		}
		seen := map[string]bool{}
		for _, id := range sample {
			if seen[id.(string)] {
				t.Fatalf("id %v sampled twice", id)
			}
			seen[id.(string)] = true
			q := e.get("/queue_num?event_id=rehearsal&request_id="+id.(string)).expect(http.StatusOK, "").json()
			if pos := q["queue_number"].(float64); pos < 2 || pos > 251 {
				t.Fatalf("sampled ticket at position %v", pos)
			}
		}
		for _, body := range []string{`{"count":0}`, `{"count":100001}`, `{}`, `{"count":"5"}`} {
			e.adminDo(http.MethodPost, "/v1/rooms/rehearsal/fill", body).expect(http.StatusBadRequest, "invalid_argument")
		}
		e.adminDo(http.MethodPost, "/v1/rooms/nowhere/fill", `{"count":1}`).expect(http.StatusNotFound, "")
		if c, err := e.svc.Counters(context.Background(), "rehearsal"); err != nil || c.Queue != 251 {
			t.Fatalf("queue %d (%v) after refused fills, want 251", c.Queue, err)
		}
	})
}

// auditLog is an Auditor over an embedded audit store, as the server
// wires one (without the webhook event).
type auditLog struct{ store waitroom.AuditStore }

func (l auditLog) Record(ctx context.Context, e waitroom.AuditEntry) {
	_, _ = l.store.AppendAudit(ctx, e)
}

func withAudit(t testing.TB) func(*httpapi.Options) {
	store := backendtest.Embedded(t, nil).Audit
	return func(o *httpapi.Options) { o.Audit, o.AuditTrail = auditLog{store}, store }
}

// TestNamedKeysAndViewers: each key acts under its name; a viewer's key
// reads but never changes.
func TestNamedKeysAndViewers(t *testing.T) {
	e := newEnv(t, backends[0], withAudit(t))
	e.room("sale")
	viewer := func(method, target, body string) answer {
		return e.do(e.admin, method, target, body, "Authorization", "Bearer "+testViewerKey)
	}
	viewer(http.MethodGet, "/v1/rooms/sale", "").expect(http.StatusOK, "")
	viewer(http.MethodPatch, "/v1/rooms/sale", `{"inlet":{"strategy":"rate","per_minute":60}}`).expect(http.StatusForbidden, "read_only")
	viewer(http.MethodPost, "/increment_serving_counter", `{"event_id":"sale","increment_by":1}`).expect(http.StatusForbidden, "read_only")
	if r, _ := e.svc.Room(context.Background(), "sale"); r.Inlet.PerMinute != 0 {
		t.Fatal("a viewer's PATCH changed the room")
	}
	e.adminDo(http.MethodPatch, "/v1/rooms/sale", `{"inlet":{"strategy":"rate","per_minute":60}}`).expect(http.StatusOK, "")
	got := e.adminDo(http.MethodGet, "/v1/audit?room=sale", "").expect(http.StatusOK, "").json()
	entries := got["entries"].([]any)
	if len(entries) != 1 {
		t.Fatalf("audit %v, want the one PATCH", got)
	}
	entry := entries[0].(map[string]any)
	before := entry["before"].(map[string]any)
	after := entry["after"].(map[string]any)
	if entry["actor"] != "ops" || entry["action"] != "room.update" || before["inlet"] != nil ||
		after["inlet"].(map[string]any)["per_minute"] != 60.0 {
		t.Fatalf("audit entry %v", entry)
	}
}

// TestAdvancePastTheQueueNeedsConsent: a move past the end of the line is
// refused with the number of arrivals that would skip it, unless asked
// for; every move is audited.
func TestAdvancePastTheQueueNeedsConsent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, withAudit(t))
		e.room("sale")
		for range 46 {
			e.enqueue("sale")
		}
		e.adminDo(http.MethodPost, "/v1/rooms/sale/advance", `{"by":40}`).expect(http.StatusOK, "")
		a := e.adminDo(http.MethodPost, "/v1/rooms/sale/advance", `{"by":200}`).expect(http.StatusConflict, "beyond_queue")
		if msg := a.json()["message"].(string); !strings.Contains(msg, "next 194 arrivals would skip the line") {
			t.Fatalf("refusal says %q", msg)
		}
		e.adminDo(http.MethodPut, "/v1/rooms/sale/serving", `{"serving":47}`).expect(http.StatusConflict, "beyond_queue")
		e.adminDo(http.MethodPut, "/v1/rooms/sale/serving", `{"serving":46}`).expect(http.StatusOK, "")
		if s, _ := e.svc.Serving(context.Background(), "sale"); s != 46 {
			t.Fatalf("serving %d after refused moves, want 46", s)
		}
		e.adminDo(http.MethodPost, "/v1/rooms/sale/advance", `{"by":10,"allow_beyond_queue":true}`).expect(http.StatusOK, "")
		if s, _ := e.svc.Serving(context.Background(), "sale"); s != 56 {
			t.Fatalf("serving %d after a consented move, want 56", s)
		}
		trail := e.adminDo(http.MethodGet, "/v1/audit?room=sale&limit=2", "").expect(http.StatusOK, "").json()
		entries := trail["entries"].([]any)
		first := entries[0].(map[string]any)
		if len(entries) != 2 || first["action"] != "room.serving" || first["after"].(map[string]any)["serving"] != 56.0 ||
			first["before"].(map[string]any)["serving"] != 46.0 || trail["next"] == nil {
			t.Fatalf("audit %v", trail)
		}
	})
}
