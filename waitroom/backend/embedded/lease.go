package embedded

import (
	"context"
	"sync"
	"time"
)

// lease is the in-process waitroom.Lease: one process holds it.
type lease struct {
	mu      sync.Mutex
	clock   func() time.Time
	holder  string
	token   int64
	expires time.Time
	claims  map[string]time.Time
}

func newLease(clock func() time.Time) *lease {
	return &lease{clock: clock, claims: map[string]time.Time{}}
}

func (l *lease) Acquire(_ context.Context, holder string, ttl time.Duration) (int64, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock()
	if l.holder != "" && l.holder != holder && now.Before(l.expires) {
		return l.token, false, nil
	}
	if l.holder != holder || !now.Before(l.expires) {
		l.token++
		l.holder = holder
	}
	l.expires = now.Add(ttl)
	return l.token, true, nil
}

func (l *lease) Claim(_ context.Context, token int64, step string, ttl time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock()
	if token != l.token || !now.Before(l.expires) {
		return false, nil
	}
	if exp, ok := l.claims[step]; ok && now.Before(exp) {
		return false, nil
	}
	l.sweep(now)
	l.claims[step] = now.Add(ttl)
	return true, nil
}

// sweep forgets expired claims once the map grows, keeping memory bounded.
func (l *lease) sweep(now time.Time) {
	if len(l.claims) < 4096 {
		return
	}
	for k, exp := range l.claims {
		if !now.Before(exp) {
			delete(l.claims, k)
		}
	}
}

func (l *lease) Release(_ context.Context, holder string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder == holder {
		l.holder, l.expires = "", time.Time{}
	}
	return nil
}
