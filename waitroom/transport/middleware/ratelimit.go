package middleware

import (
	"context"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"
)

// Buckets is the piece of waitroom.Ephemeral the rate limit needs: token
// buckets. With Redis behind it every replica draws from the same bucket.
type Buckets interface {
	Allow(ctx context.Context, key string, limit int64, window time.Duration) (bool, time.Duration, error)
}

// RateLimit allows Limit requests per client per Window as a token bucket:
// up to Limit at once, then one every Window/Limit. Unlike a fixed window
// there is no edge across which a client could burst twice the limit, and
// it costs one store round trip per request.
//
// Clients are counted by address; IPv6 clients by their /64, since one host
// usually owns a whole /64 and could otherwise rotate through it.
type RateLimit struct {
	Buckets Buckets
	Limit   int64
	Window  time.Duration
	// Prefix separates the counters of different limits.
	Prefix string
	// Now is the clock of the outage warnings (time.Now when nil); the
	// buckets keep their own.
	Now     func() time.Time
	OnError ErrorWriter

	// lastWarning (unix nanoseconds) keeps an outage of the counter store
	// from logging a line per request.
	lastWarning atomic.Int64
}

// warnEvery spaces the "counter unavailable" warnings.
const warnEvery = 10 * time.Second

// Wrap applies the limit to next. A limit of 0 turns it off. When the
// counter store does not answer the request is let through (and logged):
// the limit protects the queue, it must not take it down.
func (l *RateLimit) Wrap(next http.Handler) http.Handler {
	if l == nil || l.Limit <= 0 || l.Window <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wait, limited := l.check(r); limited {
			l.OnError(w, r, &Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
				Message: "too many requests from this address, retry later", RetryAfter: wait})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (l *RateLimit) check(r *http.Request) (wait time.Duration, limited bool) {
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	allowed, wait, err := l.Buckets.Allow(r.Context(), l.Prefix+clientBucket(ClientAddr(r)), l.Limit, l.Window)
	if err != nil {
		t := now()
		if last := l.lastWarning.Load(); t.UnixNano()-last >= int64(warnEvery) && l.lastWarning.CompareAndSwap(last, t.UnixNano()) {
			LoggerFrom(r.Context()).Warn("rate limit store unavailable; requests let through", "err", err)
		}
		return 0, false
	}
	return wait, !allowed
}

func clientBucket(a netip.Addr) string {
	if !a.IsValid() {
		return "unknown"
	}
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
