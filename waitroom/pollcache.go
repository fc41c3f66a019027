package waitroom

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// pollCache keeps a short-lived copy of each room's counters for the
// public polls. Thousands of browsers ask every few seconds for numbers
// that change a few times a second at most, so one store read per room and
// period, shared by every caller that arrives while it runs, answers them
// all (a per-request store read costs more than the rest of the request).
type pollCache struct {
	ttl     time.Duration
	entries sync.Map // room id -> cachedCounters
	reads   singleflight.Group
}

type cachedCounters struct {
	counters Counters
	until    time.Time
}

// pollCounters returns the room's counters, from the copy while it is
// younger than Options.PollTTL.
func (s *Service) pollCounters(ctx context.Context, room string) (Counters, error) {
	if s.polls.ttl <= 0 {
		return s.Counters(ctx, room)
	}
	if e, ok := s.polls.entries.Load(room); ok && s.now().Before(e.(cachedCounters).until) {
		return e.(cachedCounters).counters, nil
	}
	v, err, _ := s.polls.reads.Do(room, func() (any, error) {
		c, err := s.Counters(ctx, room)
		if err == nil {
			s.polls.entries.Store(room, cachedCounters{counters: c, until: s.now().Add(s.polls.ttl)})
		}
		return c, err
	})
	if err != nil {
		return Counters{}, err
	}
	return v.(Counters), nil
}

// forget drops the room's copy after a write through this Service, so that
// the writer's own next poll sees its change.
func (p *pollCache) forget(room string) { p.entries.Delete(room) }
