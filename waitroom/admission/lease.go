package admission

import (
	"context"
	"sync"
	"time"
)

// Lease elects the one replica that runs periodic work, and fences it.
//
// Fencing: every time the lease changes hands its token grows. Work is done
// in steps, each named by a key (room, strategy, tick number); Claim
// records a step only while the caller's token is still the lease's token,
// and only once. A paused old leader that lost the lease can therefore
// claim nothing, and two leaders can never both apply the same tick.
type Lease interface {
	// Acquire takes the lease for holder, or renews it when holder already
	// has it, for ttl. It returns the fencing token and whether holder now
	// holds the lease.
	Acquire(ctx context.Context, holder string, ttl time.Duration) (token int64, held bool, err error)
	// Claim records step under token, atomically with checking that token
	// is current; false when the lease moved on or the step was claimed.
	// A claim is remembered for ttl.
	Claim(ctx context.Context, token int64, step string, ttl time.Duration) (bool, error)
	// Release gives the lease up if holder holds it (graceful shutdown), so
	// that another replica takes over at once.
	Release(ctx context.Context, holder string) error
}

// MemoryLease is a Lease for one process (the embedded store) and tests.
type MemoryLease struct {
	mu      sync.Mutex
	clock   func() time.Time
	holder  string
	token   int64
	expires time.Time
	claims  map[string]time.Time
}

// NewMemoryLease returns a lease held in memory; clock may be nil.
func NewMemoryLease(clock func() time.Time) *MemoryLease {
	if clock == nil {
		clock = time.Now
	}
	return &MemoryLease{clock: clock, claims: map[string]time.Time{}}
}

func (l *MemoryLease) Acquire(_ context.Context, holder string, ttl time.Duration) (int64, bool, error) {
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

func (l *MemoryLease) Claim(_ context.Context, token int64, step string, ttl time.Duration) (bool, error) {
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
func (l *MemoryLease) sweep(now time.Time) {
	if len(l.claims) < 4096 {
		return
	}
	for k, exp := range l.claims {
		if !now.Before(exp) {
			delete(l.claims, k)
		}
	}
}

func (l *MemoryLease) Release(_ context.Context, holder string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder == holder {
		l.holder, l.expires = "", time.Time{}
	}
	return nil
}
