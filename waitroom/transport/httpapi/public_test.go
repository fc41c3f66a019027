package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/transport/httpapi"
)

const unknownRequest = "3fa85f64-5717-4562-b3fc-2c963f66afa6"

// expectUnavailable checks the answer of a call made while the store is
// down: 503, Retry-After, and no trace of the cause.
func expectUnavailable(t testing.TB, a answer) {
	t.Helper()
	a.expect(http.StatusServiceUnavailable, "unavailable")
	if a.Header().Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	if body := a.Body.String(); strings.Contains(body, "hunter2") || strings.Contains(body, "10.9.8.7") {
		t.Fatalf("internals leaked: %s", body)
	}
}

// whileDown runs call with the store unreachable.
func (e *env) whileDown(call func() answer) {
	e.t.Helper()
	e.store.down.Store(true)
	defer e.store.down.Store(false)
	e.clock.Advance(time.Millisecond) // past the service's room cache
	expectUnavailable(e.t, call())
}

func TestAssignQueueNum(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.room("demo")

		first := e.post("/assign_queue_num", `{"event_id":"demo"}`).expect(http.StatusOK, "")
		m := first.json()
		if _, err := uuid.Parse(m["api_request_id"].(string)); err != nil {
			t.Fatalf("api_request_id %v: %v", m["api_request_id"], err)
		}
		if m["queue_number"] != 1.0 || m["event_id"] != "demo" || m["status"] != 1.0 || m["entry_time"] != float64(e.clock.Now().Unix()) {
			t.Fatalf("first answer %v", m)
		}
		if cc := first.Header().Get("Cache-Control"); cc != "no-store" {
			t.Fatalf("Cache-Control %q", cc)
		}
		// The position exists as soon as the answer is sent.
		tk, err := e.svc.Ticket(t.Context(), "demo", m["api_request_id"].(string))
		if err != nil || tk.Position != 1 {
			t.Fatalf("ticket after assign: %+v %v", tk, err)
		}
		second := e.post("/assign_queue_num", `{"event_id":"demo","extra":"ignored"}`).expect(http.StatusOK, "")
		if second.field("queue_number") != 2.0 {
			t.Fatalf("second position %v", second.field("queue_number"))
		}

		e.post("/assign_queue_num", `{"event_id":"nope"}`).expect(http.StatusBadRequest, "Invalid event ID")
		for _, body := range []string{
			``, `{`, `[]`, `{"event_id":5}`, `{}`, `{"event_id":""}`, `{"event_id":"bad id!"}`,
			`{"event_id":"demo"} trailing`, `{"event_id":"` + strings.Repeat("x", 20000) + `"}`,
		} {
			e.post("/assign_queue_num", body).expect(http.StatusBadRequest, "invalid_argument")
		}
		e.get("/assign_queue_num").expect(http.StatusMethodNotAllowed, "method_not_allowed")
		e.whileDown(func() answer { return e.post("/assign_queue_num", `{"event_id":"demo"}`) })

		// Nothing but the two successful calls consumed a position.
		if c, _ := e.svc.Counters(t.Context(), "demo"); c.Queue != 2 {
			t.Fatalf("queue counter %d, want 2", c.Queue)
		}
	})
}

func TestBadInputMessagesSayWhatIsWrong(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.room("demo")
		cases := map[string]string{
			``:                      "request body is empty",
			`{"event_id":5}`:        "event_id must be a string, not a number",
			`{}`:                    "event_id: required",
			`{"event_id":"demo"`:    "malformed JSON",
			`{"event_id":"demo"} x`: "unexpected data",
			`"demo"`:                "want a JSON object",
			`{"event_id":"` + strings.Repeat("x", 20000) + `"}`: "too large",
		}
		for body, want := range cases {
			msg := e.post("/assign_queue_num", body).expect(http.StatusBadRequest, "").field("message").(string)
			if !strings.Contains(msg, want) {
				t.Errorf("body %.30q: message %q does not contain %q", body, msg, want)
			}
		}
	})
}

func TestQueueNum(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.room("demo")
		e.enqueue("demo")
		tk := e.enqueue("demo")

		ok := e.get("/queue_num?event_id=demo&request_id="+tk.ID).expect(http.StatusOK, "")
		m := ok.json()
		if m["queue_number"] != 2.0 || m["event_id"] != "demo" || m["status"] != 1.0 || m["entry_time"] != float64(tk.EntryTime.Unix()) {
			t.Fatalf("answer %v", m)
		}
		if cc := ok.Header().Get("Cache-Control"); cc != "public, max-age=86400" {
			t.Fatalf("Cache-Control %q", cc)
		}
		e.get("/queue_num?event_id=demo&request_id="+unknownRequest).expect(http.StatusBadRequest, "Invalid event or request ID")
		e.get("/queue_num?event_id=other&request_id="+tk.ID).expect(http.StatusBadRequest, "Invalid event or request ID")
		e.get("/queue_num?event_id=demo&request_id=42").expect(http.StatusBadRequest, "invalid_argument")
		e.get("/queue_num?event_id=demo").expect(http.StatusBadRequest, "invalid_argument")
		e.get("/queue_num?request_id="+tk.ID).expect(http.StatusBadRequest, "invalid_argument")
		e.post("/queue_num?event_id=demo&request_id="+tk.ID, "{}").expect(http.StatusMethodNotAllowed, "")
		e.whileDown(func() answer { return e.get("/queue_num?event_id=demo&request_id=" + tk.ID) })
	})
}

func TestServingNum(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.room("demo")
		ok := e.get("/serving_num?event_id=demo").expect(http.StatusOK, "")
		// AWS wire format: the counter is a JSON string.
		if ok.Body.String() != "{\"serving_counter\":\"0\"}\n" {
			t.Fatalf("body %q", ok.Body)
		}
		if cc := ok.Header().Get("Cache-Control"); cc != "public, max-age=2" {
			t.Fatalf("Cache-Control %q", cc)
		}
		e.serve("demo", 125)
		if v := e.get("/serving_num?event_id=demo").field("serving_counter"); v != "125" {
			t.Fatalf("serving_counter %v", v)
		}
		e.get("/serving_num?event_id=nope").expect(http.StatusBadRequest, "Invalid event ID")
		e.get("/serving_num").expect(http.StatusBadRequest, "invalid_argument")
		e.post("/serving_num?event_id=demo", "{}").expect(http.StatusMethodNotAllowed, "")
		e.whileDown(func() answer { return e.get("/serving_num?event_id=demo") })
	})
}

func TestServingCacheIsConfigurable(t *testing.T) {
	e := newEnv(t, backends[0], func(o *httpapi.Options) { o.ServingMaxAge = 5 * time.Second })
	e.room("demo")
	if cc := e.get("/serving_num?event_id=demo").Header().Get("Cache-Control"); cc != "public, max-age=5" {
		t.Fatalf("Cache-Control %q", cc)
	}
}

func TestWaitingNum(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.room("demo")
		first := e.enqueue("demo")
		e.enqueue("demo")
		e.enqueue("demo")
		if v := e.get("/waiting_num?event_id=demo").expect(http.StatusOK, "").field("waiting_num"); v != 3.0 {
			t.Fatalf("waiting_num %v", v)
		}
		e.serve("demo", 1)
		e.post("/generate_token", `{"event_id":"demo","request_id":"`+first.ID+`"}`).expect(http.StatusOK, "")
		if v := e.get("/waiting_num?event_id=demo").field("waiting_num"); v != 2.0 {
			t.Fatalf("waiting_num after a token %v", v)
		}
		e.get("/waiting_num?event_id=nope").expect(http.StatusBadRequest, "Invalid event ID")
		e.get("/waiting_num?event_id=").expect(http.StatusBadRequest, "invalid_argument")
		e.do(e.public, http.MethodDelete, "/waiting_num?event_id=demo", "").expect(http.StatusMethodNotAllowed, "")
		e.whileDown(func() answer { return e.get("/waiting_num?event_id=demo") })
	})
}

func TestQueuePosExpiry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.room("demo", func(r *waitroom.Room) { r.ExpiryPeriod = waitroom.Duration(10 * time.Minute) })
		e.room("noexpiry", func(r *waitroom.Room) { r.ExpiryEnabled = false })
		tk := e.enqueue("demo")
		late := e.enqueue("demo")
		other := e.enqueue("noexpiry")
		url := func(room, id string) string { return "/queue_pos_expiry?event_id=" + room + "&request_id=" + id }

		e.get(url("demo", tk.ID)).expect(http.StatusAccepted, "Request ID not being served yet")
		e.serve("demo", 2)
		e.clock.Advance(4 * time.Minute)
		if v := e.get(url("demo", tk.ID)).expect(http.StatusOK, "").field("expires_in"); v != 360.0 {
			t.Fatalf("expires_in %v, want 360", v)
		}
		e.clock.Advance(7 * time.Minute)
		e.get(url("demo", late.ID)).expect(http.StatusGone, "Queue position has expired")
		e.serve("noexpiry", 1)
		e.get(url("noexpiry", other.ID)).expect(http.StatusAccepted, "Queue position expiry is disabled")
		e.get(url("demo", unknownRequest)).expect(http.StatusNotFound, "Request ID not found")
		e.get(url("nope", tk.ID)).expect(http.StatusBadRequest, "Invalid event ID")
		e.get(url("demo", "not-a-uuid")).expect(http.StatusBadRequest, "invalid_argument")
		e.post(url("demo", tk.ID), "{}").expect(http.StatusMethodNotAllowed, "")
		e.whileDown(func() answer { return e.get(url("demo", tk.ID)) })
	})
}

func TestGenerateToken(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.room("demo")
		tk := e.enqueue("demo")
		waiting := e.enqueue("demo")
		body := func(id string) string { return `{"event_id":"demo","request_id":"` + id + `"}` }

		e.post("/generate_token", body(tk.ID)).expect(http.StatusAccepted, "Request ID not being served yet")
		e.serve("demo", 1)
		ok := e.post("/generate_token", body(tk.ID)).expect(http.StatusOK, "")
		m := ok.json()
		if m["token_type"] != "Bearer" || m["expires_in"] != 3600.0 || m["access_token"] == "" || m["id_token"] == "" || m["refresh_token"] == "" {
			t.Fatalf("tokens %v", m)
		}
		if cc := ok.Header().Get("Cache-Control"); cc != "no-store" {
			t.Fatalf("Cache-Control %q", cc)
		}
		claims := verifyToken(t, e, m["access_token"].(string))
		if claims["iss"] != testIssuer || claims["aud"] != "demo" || claims["sub"] != tk.ID {
			t.Fatalf("claims %v", claims)
		}
		again := e.post("/generate_token", body(tk.ID)).expect(http.StatusOK, "")
		if again.field("access_token") != m["access_token"] {
			t.Fatal("a repeat call returned a different token")
		}

		e.post("/generate_token", body(waiting.ID)).expect(http.StatusAccepted, "Request ID not being served yet")
		e.post("/generate_token", body(unknownRequest)).expect(http.StatusBadRequest, "Invalid event or request ID")
		e.post("/generate_token", `{"event_id":"nope","request_id":"`+tk.ID+`"}`).expect(http.StatusBadRequest, "Invalid event or request ID")
		e.post("/generate_token", `{"event_id":"demo","request_id":"x"}`).expect(http.StatusBadRequest, "invalid_argument")
		e.post("/generate_token", `{"event_id":"demo"}`).expect(http.StatusBadRequest, "invalid_argument")
		e.post("/generate_token", `{"event_id":"demo","request_id":7}`).expect(http.StatusBadRequest, "invalid_argument")
		// The public API ignores the admin-only fields.
		pub := e.post("/generate_token", `{"event_id":"demo","request_id":"`+tk.ID+`","issuer":"https://evil.example","validity_period":5}`).expect(http.StatusOK, "")
		if pub.field("access_token") != m["access_token"] {
			t.Fatal("public call honoured issuer/validity_period")
		}
		e.get("/generate_token").expect(http.StatusMethodNotAllowed, "")
		e.whileDown(func() answer { return e.post("/generate_token", body(tk.ID)) })

		e.adminDo(http.MethodPost, "/update_session", `{"event_id":"demo","request_id":"`+tk.ID+`","status":1}`).expect(http.StatusOK, "")
		e.post("/generate_token", body(tk.ID)).expect(http.StatusGone, "Session already completed or abandoned")

		e.serve("demo", 2)
		e.clock.Advance(16 * time.Minute)
		e.post("/generate_token", body(waiting.ID)).expect(http.StatusGone, "Queue position has expired")
	})
}

func TestPublicKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.room("demo")
		ok := e.get("/public_key?event_id=demo").expect(http.StatusOK, "")
		var jwk jose.JSONWebKey
		if err := json.Unmarshal(ok.Body.Bytes(), &jwk); err != nil {
			t.Fatal(err)
		}
		kid, alg, _ := e.keys.Current()
		if jwk.KeyID != kid || jwk.Algorithm != string(alg) || !jwk.IsPublic() {
			t.Fatalf("jwk %+v, current %s %s", jwk, kid, alg)
		}
		if strings.Contains(ok.Body.String(), `"d"`) {
			t.Fatal("private part in /public_key")
		}
		if cc := ok.Header().Get("Cache-Control"); cc != "public, max-age=300" {
			t.Fatalf("Cache-Control %q", cc)
		}
		e.get("/public_key?event_id=nope").expect(http.StatusBadRequest, "Invalid event ID")
		e.get("/public_key").expect(http.StatusBadRequest, "invalid_argument")
		e.post("/public_key?event_id=demo", "{}").expect(http.StatusMethodNotAllowed, "")
		e.whileDown(func() answer { return e.get("/public_key?event_id=demo") })
	})
}

// verifyToken checks a JWT against /public_key, as an AWS client does, and
// returns its claims.
func verifyToken(t *testing.T, e *env, token string) map[string]any {
	t.Helper()
	var jwk jose.JSONWebKey
	if err := json.Unmarshal(e.get("/public_key?event_id=demo").Body.Bytes(), &jwk); err != nil {
		t.Fatal(err)
	}
	return verifyWithJWK(t, jwk, token)
}

func verifyWithJWK(t testing.TB, jwk jose.JSONWebKey, token string) map[string]any {
	t.Helper()
	sig, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := sig.Verify(jwk.Key)
	if err != nil {
		t.Fatalf("token does not verify against /public_key: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func TestAssignQueueNumIdempotencyKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.room("demo")
		first := e.post("/assign_queue_num", `{"event_id":"demo"}`, "Idempotency-Key", "0d6f7c1e-retry-key").expect(http.StatusOK, "")
		retry := e.post("/assign_queue_num", `{"event_id":"demo"}`, "Idempotency-Key", "0d6f7c1e-retry-key").expect(http.StatusOK, "")
		if first.field("api_request_id") != retry.field("api_request_id") || retry.field("queue_number") != 1.0 {
			t.Fatalf("retry got another place: %s then %s", first.Body, retry.Body)
		}
		if other := e.post("/assign_queue_num", `{"event_id":"demo"}`, "Idempotency-Key", "another").field("queue_number"); other != 2.0 {
			t.Fatalf("another key: position %v", other)
		}
		e.post("/assign_queue_num", `{"event_id":"demo"}`, "Idempotency-Key", strings.Repeat("k", 201)).expect(http.StatusBadRequest, "invalid_argument")
	})
}
