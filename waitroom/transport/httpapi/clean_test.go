package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestNULAndInvalidUTF8AreRefused: a NUL byte or bytes that are not UTF-8,
// in the path, the query string, a form body or a JSON string, are a 400
// before any store sees them (PostgreSQL would refuse them as a 500).
func TestNULAndInvalidUTF8AreRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.room("demo")
		form := "Content-Type"
		refused := []answer{
			e.get("/serving_num?event_id=demo%00"),
			e.get("/serving_num?event_id=demo&x=%FF"),
			e.get("/serving_num?event_id=d%C3"),
			e.get("/serving_num?event_id=demo&%zz&x=%00"),
			e.do(e.admin, http.MethodGet, "/v1/rooms/de%00mo", "", "Authorization", "Bearer "+testAdminKey),
			e.do(e.admin, http.MethodGet, "/v1/rooms/de%FFmo", "", "Authorization", "Bearer "+testAdminKey),
			e.post("/assign_queue_num", "event_id=demo%00", form, "application/x-www-form-urlencoded"),
			e.post("/assign_queue_num", `{"event_id":"demo\u0000"}`),
			e.post("/assign_queue_num", "{\"event_id\":\"demo\xff\"}"),
			e.adminDo(http.MethodPost, "/v1/rooms", `{"id":"nul","name":"a\u0000b"}`),
			e.adminDo(http.MethodPatch, "/v1/rooms/demo", "{\"name\":\"\xc3(\"}"),
		}
		for i, a := range refused {
			msg, _ := a.expect(http.StatusBadRequest, "invalid_argument").json()["message"].(string)
			if !strings.Contains(msg, "NUL") {
				t.Errorf("case %d: message %q does not say why", i, msg)
			}
		}
		e.adminDo(http.MethodGet, "/v1/rooms/nul", "").expect(http.StatusNotFound, "")
		// Clean text passes on, escaped or not.
		e.get("/serving_num?event_id=demo&note=%C3%A9t%C3%A9+%E2%9C%93").expect(http.StatusOK, "")
		e.adminDo(http.MethodPatch, "/v1/rooms/demo", `{"name":"Été \\u0000 ✓"}`).expect(http.StatusOK, "")
	})
}
