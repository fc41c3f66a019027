package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkServingNum measures the hot poll through the whole middleware
// chain (no network), to keep the per-request overhead in check.
func BenchmarkServingNum(b *testing.B) {
	e := newEnv(b, backends[0])
	e.room("demo")
	req := httptest.NewRequest(http.MethodGet, "/serving_num?event_id=demo", nil)
	req.RemoteAddr = "198.51.100.7:40000"
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		e.public.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
