package roompage

import (
	"net/http/httptest"
	"testing"
)

// BenchmarkStatusJSON is the cost of one poll answer, language negotiation
// and rate meter included.
func BenchmarkStatusJSON(b *testing.B) {
	p, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	v := Visit{RoomID: "sale", RoomName: "Sale", Position: 5000, Serving: 1200, StatusURL: "/queue/sale/status"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest("GET", "/queue/sale/status?login=abc", nil)
		r.Header.Set("Accept", "application/json")
		r.Header.Set("Accept-Language", "fr-FR,fr;q=0.9,en;q=0.8")
		for pb.Next() {
			w := httptest.NewRecorder()
			if err := p.Render(w, r, v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
