package redispg_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/redispg"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
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
			s, r := benchStore(b)
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

// BenchmarkFirstIssueParallel measures first token issues (ES256) through
// the Service with 64 callers per GOMAXPROCS: the PostgreSQL insert and
// commit of each token dominate, and concurrent commits share WAL flushes.
func BenchmarkFirstIssueParallel(b *testing.B) {
	be := newBackend(b)
	be.cfg.MaxOpenConns = 0 // the production default
	s := be.open(b)
	keys, err := waitroom.LoadKeys(ctx, s, waitroom.KeyOptions{Algorithm: "ES256"})
	if err != nil {
		b.Fatal(err)
	}
	svc := waitroom.NewService(s, keys, waitroom.Options{})
	r, err := svc.CreateRoom(ctx, waitroom.NewRoom("bench", ""))
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, b.N)
	var wg sync.WaitGroup
	for i := range ids { // in parallel: the group commit makes this quick
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk, _, err := s.Enqueue(ctx, r.ID, waitroom.NewTicket{ID: uuid.NewString(), EntryTime: time.Now()})
			if err != nil {
				b.Error(err)
			}
			ids[i] = tk.ID
		}()
	}
	wg.Wait()
	if _, err := svc.SetServing(ctx, r.ID, int64(b.N)); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	b.SetParallelism(64)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := svc.IssueToken(ctx, r.ID, ids[next.Add(1)-1], "https://issuer.test", 0); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "issues/s")
}

// BenchmarkRebuild100k measures the recovery path: Redis lost a room with
// 100,000 tokens (90,000 of them active) and the next read rebuilds it.
func BenchmarkRebuild100k(b *testing.B) {
	be := newBackend(b)
	s := be.open(b)
	if err := s.CreateRoom(ctx, waitroom.NewRoom("bench", "")); err != nil {
		b.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `
		INSERT INTO tokens (room, generation, request_id, position, issuer, issued_at, not_before, expires, kid, session_status)
		SELECT 'bench', 0, gen_random_uuid(), g, '', now(), now(), now() + interval '1 hour', 'k', CASE WHEN g % 10 = 0 THEN 1 ELSE 0 END
		FROM generate_series(1, 100000) g`); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		if err := testenv.DeleteRedisPrefix(ctx, s.Redis(), be.cfg.KeyPrefix); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if n, err := s.ActiveTokens(ctx, "bench", time.Now()); err != nil || n != 90000 {
			b.Fatalf("active tokens after rebuild = %d, %v", n, err)
		}
	}
}

// BenchmarkTicketParallel measures ticket lookups straight on the store
// (no Service cache) with 64 callers per GOMAXPROCS, as a flood of
// position polls that miss the cache would be.
func BenchmarkTicketParallel(b *testing.B) {
	s, r := benchStore(b)
	ids := make([]string, 10000)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			tk, _, err := s.Enqueue(ctx, r.ID, waitroom.NewTicket{ID: uuid.NewString(), EntryTime: time.Now()})
			if err != nil {
				b.Error(err)
			}
			ids[i] = tk.ID
		})
	}
	wg.Wait()
	var next atomic.Int64
	b.SetParallelism(64)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Ticket(ctx, r.ID, ids[next.Add(1)%int64(len(ids))]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}

// benchStore opens a store with the production pool size and the room
// "bench" in it.
func benchStore(b *testing.B) (*redispg.Store, waitroom.Room) {
	be := newBackend(b)
	be.cfg.MaxOpenConns = 0 // the production default
	s := be.open(b)
	r := waitroom.NewRoom("bench", "")
	if err := s.CreateRoom(ctx, r); err != nil {
		b.Fatal(err)
	}
	return s, r
}
