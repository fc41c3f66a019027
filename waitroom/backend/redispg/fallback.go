package redispg

import (
	"context"
	"errors"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// While Redis cannot be reached (a restart, a failover), reads of the
// counters are answered from PostgreSQL instead of failing: room_state
// holds the queue, serving, expired and max-expired values exactly, so
// admission decisions stay right. The token counts (tokens, completed,
// abandoned) are the last ones this process read for the same generation,
// or counted from the tokens table when it has none; such an answer carries
// Stale, since token events of other replicas may be missing from it.
// Active sessions are counted from the tokens table. The room is marked for
// repair, so its Redis copy is rewritten from PostgreSQL once Redis
// answers; until then its counters keep coming from PostgreSQL, since the
// copy misses the writes that failed to reach it.
//
// A Redis copy can also move back: a replica promoted after its master died
// may lack the master's last writes. Within a generation the queue, the
// version of the serving values and the token count only grow, so a read
// below what this process last saw is not believed: it is answered from
// PostgreSQL (counting the tokens there) and the room is repaired.

// seenCounters is what this process last read of a room.
type seenCounters struct {
	c       waitroom.Counters
	version int64
}

var errCopyMovedBack = errors.New("the Redis copy is older than one read before (a failover lost writes)")

// Counters reads the fast copy in Redis, rebuilt from PostgreSQL if lost,
// and falls back to PostgreSQL while Redis is unreachable or the room's
// copy is known to be behind (marked for repair).
func (s *Store) Counters(ctx context.Context, room string) (waitroom.Counters, error) {
	if s.isStale(room) {
		return s.fallbackCounters(ctx, room, true, nil)
	}
	// Only a value seen before this read began must not be above it:
	// concurrent reads may finish in any order.
	before, _ := s.lastCounters.Load(room)
	c, version, err := s.fastRead(ctx, room)
	if err == nil {
		if movedBack(before, c, version) {
			s.markStale(room, errCopyMovedBack)
			return s.fallbackCounters(ctx, room, false, err)
		}
		s.lastCounters.Store(room, seenCounters{c: c, version: version})
		return c, nil
	}
	if waitroom.ErrorCode(err) != waitroom.CodeUnavailable {
		return c, err
	}
	s.markStale(room, err)
	return s.fallbackCounters(ctx, room, true, err)
}

func movedBack(before any, c waitroom.Counters, version int64) bool {
	last, ok := before.(seenCounters)
	if !ok {
		return false
	}
	return last.c.Generation == c.Generation &&
		(c.Queue < last.c.Queue || version < last.version || c.Tokens < last.c.Tokens)
}

// fallbackCounters answers from PostgreSQL, or with redisErr if PostgreSQL
// fails too. useLast takes the token counts last seen rather than counting
// them.
func (s *Store) fallbackCounters(ctx context.Context, room string, useLast bool, redisErr error) (waitroom.Counters, error) {
	var st roomState
	err := s.db.GetContext(ctx, &st, `
		SELECT generation, queue, serving, version, expired, max_expired
		FROM room_state WHERE room = $1`, room)
	if err != nil {
		if err := roomErr(err, "the counters could not be read"); isNotFound(err) {
			return waitroom.Counters{}, err
		}
		return waitroom.Counters{}, orErr(redisErr, mapErr(err, "the counters could not be read"))
	}
	c := waitroom.Counters{Generation: st.Generation, Queue: st.Queue, Serving: st.Serving,
		Expired: st.Expired, MaxExpired: st.MaxExpired, Stale: true}
	if v, ok := s.lastCounters.Load(room); useLast && ok && v.(seenCounters).c.Generation == st.Generation {
		last := v.(seenCounters).c
		c.Tokens, c.Completed, c.Abandoned = last.Tokens, last.Completed, last.Abandoned
		s.lastCounters.Store(room, seenCounters{c: c, version: st.Version})
		return c, nil
	}
	err = s.db.QueryRowContext(ctx, `
		SELECT count(*), count(*) FILTER (WHERE session_status = $3), count(*) FILTER (WHERE session_status = $4)
		FROM tokens WHERE room = $1 AND generation = $2`,
		room, st.Generation, int(waitroom.SessionCompleted), int(waitroom.SessionAbandoned)).
		Scan(&c.Tokens, &c.Completed, &c.Abandoned)
	if err != nil {
		return waitroom.Counters{}, orErr(redisErr, mapErr(err, "the counters could not be read"))
	}
	s.lastCounters.Store(room, seenCounters{c: c, version: st.Version})
	return c, nil
}

// orErr prefers the first error.
func orErr(first, second error) error {
	if first != nil {
		return first
	}
	return second
}

// activeFromPostgres counts the room's active sessions expiring after now
// in the tokens table (on the tokens_expires index).
func (s *Store) activeFromPostgres(ctx context.Context, room string, now time.Time) (int64, error) {
	var n int64
	err := s.db.GetContext(ctx, &n, `
		SELECT count(*) FROM tokens
		WHERE room = $1 AND generation = (SELECT generation FROM room_state WHERE room = $1)
		  AND expires > $2 AND session_status = $3`, room, now, int(waitroom.SessionActive))
	return n, mapErr(err, "the active tokens could not be counted")
}
