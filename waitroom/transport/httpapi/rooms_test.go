package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestRoomsResource(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		list := e.adminDo(http.MethodGet, "/v1/rooms", "").expect(http.StatusOK, "")
		if rooms := list.field("rooms").([]any); len(rooms) != 0 {
			t.Fatalf("rooms %v", rooms)
		}

		created := e.adminDo(http.MethodPost, "/v1/rooms", `{"id":"sale","name":"Big sale","expiry_period":"5m"}`).expect(http.StatusCreated, "")
		if created.Header().Get("Location") != "/v1/rooms/sale" {
			t.Fatalf("Location %q", created.Header().Get("Location"))
		}
		m := created.json()
		// Omitted settings take their defaults, not zero values.
		if m["expiry_enabled"] != true || m["token_validity"] != "1h0m0s" || m["expiry_period"] != "5m0s" || m["name"] != "Big sale" {
			t.Fatalf("created %v", m)
		}
		e.adminDo(http.MethodPost, "/v1/rooms", `{"id":"sale"}`).expect(http.StatusConflict, "conflict")
		e.adminDo(http.MethodPost, "/v1/rooms", `{"id":"bad id!","token_validity":"0s"}`).expect(http.StatusBadRequest, "invalid_argument")
		e.adminDo(http.MethodPost, "/v1/rooms", `{"id":"x","tokn_validity":"1h"}`).expect(http.StatusBadRequest, "invalid_argument")
		e.adminDo(http.MethodPost, "/v1/rooms", `{"id":"x","expiry_period":"soon"}`).expect(http.StatusBadRequest, "invalid_argument")
		// A zero period is refused with a reason, never replaced by the
		// default: "0s" must not quietly mean 15 minutes.
		for _, body := range []string{`{"id":"zero","expiry_period":"0s"}`, `{"id":"zero","token_validity":0}`} {
			msg := e.adminDo(http.MethodPost, "/v1/rooms", body).expect(http.StatusBadRequest, "invalid_argument").field("message").(string)
			if !strings.Contains(msg, "between 1s and 744h") {
				t.Fatalf("%s: message %q", body, msg)
			}
		}
		if msg := e.adminDo(http.MethodPost, "/v1/rooms", `{"id":"zero","expiry_period":"0s"}`).field("message").(string); !strings.Contains(msg, "expiry_enabled: false turns expiry off") {
			t.Fatalf("the refusal does not say how to turn expiry off: %q", msg)
		}
		e.adminDo(http.MethodGet, "/v1/rooms/zero", "").expect(http.StatusNotFound, "not_found")

		got := e.adminDo(http.MethodGet, "/v1/rooms/sale", "").expect(http.StatusOK, "")
		if got.field("id") != "sale" {
			t.Fatalf("room %s", got.Body)
		}
		e.adminDo(http.MethodGet, "/v1/rooms/none", "").expect(http.StatusNotFound, "not_found")

		patched := e.adminDo(http.MethodPatch, "/v1/rooms/sale", `{"auto_advance":true,"token_validity":120}`).expect(http.StatusOK, "")
		if p := patched.json(); p["auto_advance"] != true || p["token_validity"] != "2m0s" || p["name"] != "Big sale" || p["expiry_period"] != "5m0s" {
			t.Fatalf("patched %v", p)
		}
		e.adminDo(http.MethodPatch, "/v1/rooms/sale", `{"id":"other"}`).expect(http.StatusBadRequest, "invalid_argument")
		e.adminDo(http.MethodPatch, "/v1/rooms/sale", `{"token_validity":"0s"}`).expect(http.StatusBadRequest, "invalid_argument")
		e.adminDo(http.MethodPatch, "/v1/rooms/sale", `{"nmae":"typo"}`).expect(http.StatusBadRequest, "invalid_argument")
		e.adminDo(http.MethodPatch, "/v1/rooms/none", `{"name":"x"}`).expect(http.StatusNotFound, "not_found")
		if r, _ := e.svc.Room(t.Context(), "sale"); r.TokenValidity.D().Seconds() != 120 {
			t.Fatalf("a refused patch changed the room: %+v", r)
		}

		e.enqueue("sale")
		e.enqueue("sale")
		serving := e.adminDo(http.MethodPut, "/v1/rooms/sale/serving", `{"serving":1}`).expect(http.StatusOK, "")
		if serving.field("serving") != 1.0 {
			t.Fatalf("serving %s", serving.Body)
		}
		e.adminDo(http.MethodPut, "/v1/rooms/sale/serving", `{"serving":-1}`).expect(http.StatusBadRequest, "invalid_argument")
		e.adminDo(http.MethodPut, "/v1/rooms/sale/serving", `{}`).expect(http.StatusBadRequest, "invalid_argument")
		e.adminDo(http.MethodPut, "/v1/rooms/none/serving", `{"serving":1}`).expect(http.StatusNotFound, "not_found")
		counters := e.adminDo(http.MethodGet, "/v1/rooms/sale/counters", "").expect(http.StatusOK, "").json()
		if counters["queue"] != 2.0 || counters["serving"] != 1.0 || counters["waiting"] != 2.0 || counters["active_tokens"] != 0.0 || counters["event_id"] != "sale" {
			t.Fatalf("counters %v", counters)
		}
		e.adminDo(http.MethodGet, "/v1/rooms/none/counters", "").expect(http.StatusNotFound, "not_found")

		reset := e.adminDo(http.MethodPost, "/v1/rooms/sale/reset", "").expect(http.StatusOK, "").json()
		if reset["queue"] != 0.0 || reset["serving"] != 0.0 || reset["generation"] == 0.0 {
			t.Fatalf("after reset %v", reset)
		}
		e.adminDo(http.MethodPost, "/v1/rooms/none/reset", "").expect(http.StatusNotFound, "not_found")

		if n := len(e.adminDo(http.MethodGet, "/v1/rooms", "").field("rooms").([]any)); n != 1 {
			t.Fatalf("%d rooms", n)
		}
		e.adminDo(http.MethodDelete, "/v1/rooms/sale", "").expect(http.StatusNoContent, "")
		e.adminDo(http.MethodDelete, "/v1/rooms/sale", "").expect(http.StatusNotFound, "not_found")
		e.adminDo(http.MethodGet, "/v1/rooms/sale", "").expect(http.StatusNotFound, "not_found")
		e.adminDo(http.MethodGet, "/v1/rooms/bad%20id", "").expect(http.StatusNotFound, "not_found")

		e.adminDo(http.MethodPut, "/v1/rooms", "{}").expect(http.StatusMethodNotAllowed, "")
		e.adminDo(http.MethodPost, "/v1/rooms/sale", "{}").expect(http.StatusMethodNotAllowed, "")
		e.adminDo(http.MethodGet, "/v1/rooms/sale/serving", "").expect(http.StatusMethodNotAllowed, "")

		e.room("live")
		e.whileDown(func() answer { return e.adminDo(http.MethodGet, "/v1/rooms", "") })
		e.whileDown(func() answer { return e.adminDo(http.MethodPost, "/v1/rooms", `{"id":"new"}`) })
		e.whileDown(func() answer { return e.adminDo(http.MethodGet, "/v1/rooms/live", "") })
		e.whileDown(func() answer { return e.adminDo(http.MethodPatch, "/v1/rooms/live", `{"name":"x"}`) })
		e.whileDown(func() answer { return e.adminDo(http.MethodDelete, "/v1/rooms/live", "") })
		e.whileDown(func() answer { return e.adminDo(http.MethodGet, "/v1/rooms/live/counters", "") })
		e.whileDown(func() answer { return e.adminDo(http.MethodPut, "/v1/rooms/live/serving", `{"serving":1}`) })
		e.whileDown(func() answer { return e.adminDo(http.MethodPost, "/v1/rooms/live/reset", "") })
	})
}
