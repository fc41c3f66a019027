package storetest

import (
	"sync/atomic"
	"testing"
)

// Bench runs the hot-path benchmarks against the backend open returns:
// enqueue, ticket lookup, serving read and first token issue (RS256 and
// ES256), each through Service and in parallel (GOMAXPROCS goroutines).
func Bench(b *testing.B, open func(b *testing.B) Instance) {
	b.Run("Enqueue", func(b *testing.B) { benchEnqueue(b, open) })
	b.Run("TicketLookup", func(b *testing.B) { benchTicket(b, open) })
	b.Run("ServingRead", func(b *testing.B) { benchServing(b, open) })
	b.Run("FirstIssueToken/RS256", func(b *testing.B) { benchIssue(b, open, "RS256") })
	b.Run("FirstIssueToken/ES256", func(b *testing.B) { benchIssue(b, open, "ES256") })
}

func benchEnv(b *testing.B, open func(b *testing.B) Instance, alg string) (*env, string) {
	b.Helper()
	e := envFor(b, open(b), alg)
	return e, e.newRoom().ID
}

func benchEnqueue(b *testing.B, open func(b *testing.B) Instance) {
	e, room := benchEnv(b, open, "ES256")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.svc.Enqueue(e.ctx, room, ""); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func benchTicket(b *testing.B, open func(b *testing.B) Instance) {
	e, room := benchEnv(b, open, "ES256")
	tks := e.enqueueN(room, 1000)
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := tks[next.Add(1)%int64(len(tks))].ID
			if _, err := e.svc.Ticket(e.ctx, room, id); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func benchServing(b *testing.B, open func(b *testing.B) Instance) {
	e, room := benchEnv(b, open, "ES256")
	e.setServing(room, 7)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.svc.Serving(e.ctx, room); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// benchIssue measures first issues: every iteration admits a new ticket
// (CreateToken plus three signatures).
func benchIssue(b *testing.B, open func(b *testing.B) Instance, alg string) {
	e, room := benchEnv(b, open, alg)
	tks := e.enqueueN(room, b.N)
	e.setServing(room, int64(b.N))
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tk := tks[next.Add(1)-1]
			if _, err := e.svc.IssueToken(e.ctx, room, tk.ID, "https://issuer.test", 0); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	if c := e.counters(room); c.Tokens != int64(b.N) {
		b.Fatalf("tokens counter %d after %d first issues", c.Tokens, b.N)
	}
}
