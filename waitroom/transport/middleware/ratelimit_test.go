package middleware

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"
)

type memCounter struct {
	mu     sync.Mutex
	counts map[string]int64
	fail   bool
}

func (m *memCounter) Incr(_ context.Context, key string, _ time.Duration) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return 0, errors.New("down")
	}
	m.counts[key]++
	return m.counts[key], nil
}

func TestRateLimitBucketsAndFailOpen(t *testing.T) {
	counter := &memCounter{counts: map[string]int64{}}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var refused []*Error
	l := &RateLimit{Counter: counter, Limit: 1, Window: 10 * time.Second, Now: func() time.Time { return now },
		OnError: func(w http.ResponseWriter, _ *http.Request, err error) {
			refused = append(refused, err.(*Error))
			w.WriteHeader(err.(*Error).Status)
		}}
	h := l.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	call := func(addr string) int {
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if call("[2001:db8:1:2::1]:1") != 200 || call("[2001:db8:1:2::ffff]:1") != 429 {
		t.Fatal("addresses of one IPv6 /64 are not counted together")
	}
	if call("[2001:db8:1:3::1]:1") != 200 {
		t.Fatal("another /64 was limited")
	}
	now = now.Add(4 * time.Second)
	if call("192.0.2.1:1") != 200 || call("192.0.2.1:1") != 429 {
		t.Fatal("IPv4 limit")
	}
	if got := refused[len(refused)-1].RetryAfter; got != 6*time.Second {
		t.Fatalf("RetryAfter %v, want 6s (to the end of the window)", got)
	}
	counter.fail = true
	if call("192.0.2.1:1") != 200 {
		t.Fatal("a failing counter must let requests through")
	}
}

func TestClientBucket(t *testing.T) {
	if b := clientBucket(netip.MustParseAddr("2001:db8::7")); b != "2001:db8::/64" {
		t.Fatal(b)
	}
	if b := clientBucket(netip.Addr{}); b != "unknown" {
		t.Fatal(b)
	}
}
