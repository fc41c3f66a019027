package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/admission"
	"github.com/waitroom-idp/waitroom/waitroom/transport/httpapi"
)

func gated(difficulty int) func(*waitroom.Room) {
	return func(r *waitroom.Room) { r.BotGate = &waitroom.BotGate{Difficulty: difficulty} }
}

func withGate(e **admission.Gate) func(*httpapi.Options) {
	return func(o *httpapi.Options) {
		*e = admission.NewGate(admission.GateOptions{Key: []byte("gate-test-key-0123456789abcdef01"), Ephemeral: o.RateCounter.(waitroom.Ephemeral), Clock: o.Now})
		o.Gate = *e
	}
}

// solveOffer solves the challenge of an answer's body (a /challenge
// answer, or the "challenge" field of a refusal).
func solveOffer(t testing.TB, offer any) (token, solution string) {
	t.Helper()
	m, ok := offer.(map[string]any)
	if !ok || m["token"] == nil || m["algorithm"] != admission.ChallengeAlgorithm {
		t.Fatalf("no proof-of-work offer in %v", offer)
	}
	token = m["token"].(string)
	return token, strconv.FormatUint(admission.Solve(token, int(m["difficulty"].(float64))), 10)
}

func (e *env) waiting(room string) int64 {
	e.t.Helper()
	c, err := e.svc.Counters(context.Background(), room)
	if err != nil {
		e.t.Fatal(err)
	}
	return c.Queue
}

// TestAssignQueueNumGate: with the gate on, a scripted client without a
// solution gets 403 challenge_required with a challenge to solve; a
// solved one takes a place; replaying it is refused and the line does not
// grow.
func TestAssignQueueNumGate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		var gate *admission.Gate
		e := newEnv(t, b, withGate(&gate))
		e.room("gated", gated(6))
		e.room("open")

		refused := e.post("/assign_queue_num", `{"event_id":"gated"}`).expect(http.StatusForbidden, "challenge_required")
		token, solution := solveOffer(t, refused.field("challenge"))
		body := fmt.Sprintf(`{"event_id":"gated","challenge":%q,"solution":%q}`, token, solution)
		if n := e.post("/assign_queue_num", body).expect(http.StatusOK, "").field("queue_number"); n != 1.0 {
			t.Fatalf("solved call got position %v", n)
		}
		replay := e.post("/assign_queue_num", body).expect(http.StatusForbidden, "challenge_replayed")
		if replay.field("challenge") == nil {
			t.Fatalf("a replay refusal carries no fresh challenge: %s", replay.Body)
		}
		if q := e.waiting("gated"); q != 1 {
			t.Fatalf("the line holds %d places after a replay, want 1", q)
		}

		token, _ = solveOffer(t, e.get("/challenge?event_id=gated").expect(http.StatusOK, "").json())
		e.post("/assign_queue_num", fmt.Sprintf(`{"event_id":"gated","challenge":%q,"solution":"x1"}`, token)).expect(http.StatusForbidden, "challenge_invalid")
		e.post("/assign_queue_num", fmt.Sprintf(`{"event_id":"open","challenge":%q,"solution":"1"}`, token)).expect(http.StatusOK, "")
		if m := e.get("/challenge?event_id=open").expect(http.StatusOK, "").json(); len(m) != 0 {
			t.Fatalf("a room without a gate offers %v", m)
		}
		e.get("/challenge?event_id=nowhere").expect(http.StatusBadRequest, "Invalid event ID")
	})
}

// TestAssignQueueNumReplayedKey: one idempotency key, replayed many times
// at once with fresh solutions, holds one place.
func TestAssignQueueNumReplayedKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		var gate *admission.Gate
		e := newEnv(t, b, withGate(&gate))
		room := e.room("gated", gated(2))
		bodies := make([]string, 8)
		for i := range bodies {
			o, err := gate.Offer(context.Background(), room)
			if err != nil {
				t.Fatal(err)
			}
			bodies[i] = fmt.Sprintf(`{"event_id":"gated","challenge":%q,"solution":"%d"}`, o.Token, admission.Solve(o.Token, o.Difficulty))
		}
		ids := make([]any, len(bodies))
		var wg sync.WaitGroup
		for i, body := range bodies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ids[i] = e.post("/assign_queue_num", body, "Idempotency-Key", "one-visitor-key").expect(http.StatusOK, "").field("api_request_id")
			}()
		}
		wg.Wait()
		for _, id := range ids[1:] {
			if id != ids[0] {
				t.Fatalf("one key got several tickets: %v", ids)
			}
		}
		if q := e.waiting("gated"); q != 1 {
			t.Fatalf("the line holds %d places after %d replays of one key, want 1", q, len(bodies))
		}
	})
}
