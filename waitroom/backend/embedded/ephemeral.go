package embedded

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// ephemeral is the in-memory Ephemeral. Expired items are dropped when met
// and by a sweep every sweepEvery writes or sweepAfter, whichever comes
// first, so memory stays bounded by the live items.
type ephemeral struct {
	clock func() time.Time

	mu     sync.Mutex
	items  map[string]ephemeralItem
	writes int
	swept  time.Time
}

type ephemeralItem struct {
	value   []byte
	expires time.Time
}

const (
	sweepEvery = 4096
	sweepAfter = time.Minute
)

var errNoValue = waitroom.Errorf(waitroom.CodeNotFound, "not found")

// live returns the item at key if it has not expired. Caller holds mu.
func (e *ephemeral) live(key string) (ephemeralItem, bool) {
	it, ok := e.items[key]
	if ok && !e.clock().Before(it.expires) {
		delete(e.items, key)
		return ephemeralItem{}, false
	}
	return it, ok
}

// put stores an item. Caller holds mu.
func (e *ephemeral) put(key string, value []byte, ttl time.Duration) {
	now := e.clock()
	e.items[key] = ephemeralItem{value: slices.Clone(value), expires: now.Add(ttl)}
	if e.writes++; e.writes >= sweepEvery || now.Sub(e.swept) >= sweepAfter {
		e.sweep(now)
	}
}

func (e *ephemeral) sweep(now time.Time) {
	e.writes = 0
	e.swept = now
	for k, it := range e.items {
		if !now.Before(it.expires) {
			delete(e.items, k)
		}
	}
}

func validTTL(ttl time.Duration) error {
	if ttl <= 0 {
		return waitroom.Errorf(waitroom.CodeInvalid, "ttl must be positive")
	}
	return nil
}

// Put stores value under key for ttl.
func (s *Store) Put(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if err := validTTL(ttl); err != nil {
		return err
	}
	s.eph.mu.Lock()
	defer s.eph.mu.Unlock()
	s.eph.put(key, value, ttl)
	return nil
}

// PutIfAbsent stores value only if key has no live value.
func (s *Store) PutIfAbsent(_ context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if err := validTTL(ttl); err != nil {
		return false, err
	}
	s.eph.mu.Lock()
	defer s.eph.mu.Unlock()
	if _, ok := s.eph.live(key); ok {
		return false, nil
	}
	s.eph.put(key, value, ttl)
	return true, nil
}

// Get returns the live value of key.
func (s *Store) Get(_ context.Context, key string) ([]byte, error) {
	s.eph.mu.Lock()
	defer s.eph.mu.Unlock()
	it, ok := s.eph.live(key)
	if !ok {
		return nil, errNoValue
	}
	return slices.Clone(it.value), nil
}

// Take returns the live value of key and deletes it.
func (s *Store) Take(_ context.Context, key string) ([]byte, error) {
	s.eph.mu.Lock()
	defer s.eph.mu.Unlock()
	it, ok := s.eph.live(key)
	if !ok {
		return nil, errNoValue
	}
	delete(s.eph.items, key)
	return it.value, nil
}

// Delete removes key.
func (s *Store) Delete(_ context.Context, key string) error {
	s.eph.mu.Lock()
	defer s.eph.mu.Unlock()
	delete(s.eph.items, key)
	return nil
}

// Incr adds one to the counter at key; a new counter lives for ttl.
func (s *Store) Incr(_ context.Context, key string, ttl time.Duration) (int64, error) {
	if err := validTTL(ttl); err != nil {
		return 0, err
	}
	s.eph.mu.Lock()
	defer s.eph.mu.Unlock()
	it, ok := s.eph.live(key)
	if !ok {
		s.eph.put(key, []byte("1"), ttl)
		return 1, nil
	}
	n, err := strconv.ParseInt(string(it.value), 10, 64)
	if err != nil {
		return 0, waitroom.Errorf(waitroom.CodeConflict, "value at key is not a counter")
	}
	it.value = strconv.AppendInt(nil, n+1, 10)
	s.eph.items[key] = it
	return n + 1, nil
}
