package middleware_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/backendtest"
	"github.com/waitroom-idp/waitroom/waitroom/transport/middleware"
)

// limiter is one replica's rate limit over buckets, recording refusals.
type limiter struct {
	h       http.Handler
	refused []*middleware.Error
}

func newLimiter(b middleware.Buckets, limit int64, window time.Duration) *limiter {
	l := &limiter{}
	rl := &middleware.RateLimit{Buckets: b, Limit: limit, Window: window, Prefix: "test:",
		OnError: func(w http.ResponseWriter, _ *http.Request, err error) {
			l.refused = append(l.refused, err.(*middleware.Error))
			w.WriteHeader(err.(*middleware.Error).Status)
		}}
	l.h = rl.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	return l
}

func (l *limiter) call(addr string) int {
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	req.RemoteAddr = addr
	rec := httptest.NewRecorder()
	l.h.ServeHTTP(rec, req)
	return rec.Code
}

// TestRateLimitAcrossReplicas: two servers' limiters over one backend
// (for Redis, two connections) share each client's bucket, so the limit
// holds however the calls are spread; a refusal says when to retry.
func TestRateLimitAcrossReplicas(t *testing.T) {
	for _, f := range backendtest.All() {
		t.Run(f.Name, func(t *testing.T) {
			inst := f.Open(t, nil)
			other := inst.Ephemeral
			if inst.Another != nil {
				other = inst.Another(t).Ephemeral
			}
			a, b := newLimiter(inst.Ephemeral, 4, time.Minute), newLimiter(other, 4, time.Minute)
			for i, l := range []*limiter{a, b, a, b} {
				if code := l.call("192.0.2.1:1000"); code != http.StatusOK {
					t.Fatalf("call %d of a limit of 4: %d", i+1, code)
				}
			}
			if a.call("192.0.2.1:1000") != http.StatusTooManyRequests || b.call("192.0.2.1:2000") != http.StatusTooManyRequests {
				t.Fatal("the fifth call, on either replica, was let through")
			}
			if wait := b.refused[0].RetryAfter; wait <= 10*time.Second || wait > 15*time.Second {
				t.Fatalf("RetryAfter %v, want about 15s (one unit of 4 a minute)", wait)
			}
			if a.call("[2001:db8:1:2::1]:1") != http.StatusOK || b.call("192.0.2.2:1") != http.StatusOK {
				t.Fatal("other clients were limited")
			}
		})
	}
}

func TestRateLimitCountsIPv6PerSlash64(t *testing.T) {
	l := newLimiter(backendtest.Embedded(t, nil).Ephemeral, 1, time.Minute)
	if l.call("[2001:db8:1:2::1]:1") != http.StatusOK || l.call("[2001:db8:1:2::ffff]:1") != http.StatusTooManyRequests {
		t.Fatal("addresses of one IPv6 /64 are not counted together")
	}
	if l.call("[2001:db8:1:3::1]:1") != http.StatusOK {
		t.Fatal("another /64 was limited")
	}
}

type downBuckets struct{}

func (downBuckets) Allow(context.Context, string, int64, time.Duration) (bool, time.Duration, error) {
	return false, 0, waitroom.Wrap(waitroom.CodeUnavailable, errors.New("dial tcp: refused"), "down")
}

// TestRateLimitFailsOpen: the limit protects the queue; an outage of its
// store must not take the queue down.
func TestRateLimitFailsOpen(t *testing.T) {
	if newLimiter(downBuckets{}, 1, time.Minute).call("192.0.2.1:1") != http.StatusOK {
		t.Fatal("a failing bucket store must let requests through")
	}
}
