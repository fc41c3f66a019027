package redispg_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// BenchmarkEnqueueParallel measures durable enqueues with many callers at
// once (as under an HTTP load), which is what group commit is for: 64
// callers per GOMAXPROCS. storetest.Bench runs only GOMAXPROCS callers.
func BenchmarkEnqueueParallel(b *testing.B) {
	for _, keyed := range []bool{false, true} {
		name := "plain"
		if keyed {
			name = "idempotency-key"
		}
		b.Run(name, func(b *testing.B) {
			s := newBackend(b).open(b)
			r := waitroom.NewRoom("bench", "")
			if err := s.CreateRoom(ctx, r); err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(64)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					t := waitroom.NewTicket{ID: uuid.NewString(), EntryTime: time.Now()}
					if keyed {
						t.Key = t.ID
					}
					if _, _, err := s.Enqueue(ctx, r.ID, t); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "enqueues/s")
		})
	}
}
