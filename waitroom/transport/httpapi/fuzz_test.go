package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/transport/middleware"
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// The real service and keys satisfy what the transport declares.
var (
	_ Service = (*waitroom.Service)(nil)
	_ KeySet  = (*waitroom.Keys)(nil)
)

// FuzzDecodeJSON: whatever a client sends, decoding either succeeds or
// yields a 400 with a message, never a panic or another status.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{``, `{}`, `{"event_id":"a\u0000"}`, `{"event_id":"demo"}`, `{"event_id":5}`, `[`, `{"increment_by":1e400}`, "\xff", `{"a":{"b":[1,2,{}]}} x`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		var in struct {
			EventID     *string `json:"event_id"`
			IncrementBy *int64  `json:"increment_by"`
		}
		err := web.DecodeJSON(r, &in, true)
		if err == nil {
			if in.EventID != nil && !middleware.CleanText(*in.EventID) {
				t.Fatalf("%q: decoded %q, which holds NUL or invalid UTF-8", body, *in.EventID)
			}
			return
		}
		p := web.Classify(err)
		if p.Status != http.StatusBadRequest || p.Message == "" {
			t.Fatalf("%q: status %d problem %+v", body, p.Status, p)
		}
		if strings.Contains(p.Message, "Go ") || strings.Contains(p.Message, "int64") {
			t.Fatalf("%q: message %q names a Go type", body, p.Message)
		}
	})
}

// FuzzRequestID: only canonical UUIDs pass.
func FuzzRequestID(f *testing.F) {
	f.Add("3fa85f64-5717-4562-b3fc-2c963f66afa6")
	f.Add("{3fa85f64-5717-4562-b3fc-2c963f66afa6}")
	f.Add("urn:uuid:3fa85f64-5717-4562-b3fc-2c963f66afa6")
	f.Fuzz(func(t *testing.T, id string) {
		got, err := requestID(id, true)
		if err == nil && (len(got) != 36 || strings.ContainsAny(got, "{}:")) {
			t.Fatalf("%q accepted", id)
		}
	})
}
