package embedded

import (
	"context"
	"encoding/binary"
	"math"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// Allow takes one unit from the token bucket at key. The bucket is an
// Ephemeral item (tokens as float64 bits, then the refill time in unix
// nanoseconds) that lives for a window after its last use, when it would
// be full again anyway.
func (s *Store) Allow(_ context.Context, key string, limit int64, window time.Duration) (bool, time.Duration, error) {
	if limit <= 0 || window <= 0 {
		return false, 0, waitroom.Errorf(waitroom.CodeInvalid, "limit and window must be positive")
	}
	s.eph.mu.Lock()
	defer s.eph.mu.Unlock()
	now := s.eph.clock()
	tokens, at := float64(limit), now
	if it, ok := s.eph.live(key); ok && len(it.value) == 16 {
		tokens = math.Float64frombits(binary.BigEndian.Uint64(it.value[:8]))
		at = time.Unix(0, int64(binary.BigEndian.Uint64(it.value[8:])))
	}
	rate := float64(limit) / float64(window) // units per nanosecond
	tokens = math.Min(float64(limit), tokens+float64(now.Sub(at))*rate)
	allowed, wait := tokens >= 1, time.Duration(0)
	if allowed {
		tokens--
	} else {
		wait = time.Duration(math.Ceil((1 - tokens) / rate))
	}
	var v [16]byte
	binary.BigEndian.PutUint64(v[:8], math.Float64bits(tokens))
	binary.BigEndian.PutUint64(v[8:], uint64(now.UnixNano()))
	s.eph.put(key, v[:], window)
	return allowed, wait, nil
}
