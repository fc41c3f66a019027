package redispg

import (
	"context"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// While Redis cannot be reached (a restart, a failover), reads of the
// counters are answered from PostgreSQL instead of failing: room_state
// holds the queue, serving, expired and max-expired values exactly, so
// admission decisions stay right. The token counts (tokens, completed,
// abandoned) are the last ones this process read from Redis for the same
// generation, or counted from the tokens table when it has none; such an
// answer carries Stale, since token events of other replicas may be
// missing from it. Active sessions are counted from the tokens table.

// Counters reads the fast copy in Redis, rebuilt from PostgreSQL if lost,
// and falls back to PostgreSQL while Redis is unreachable.
func (s *Store) Counters(ctx context.Context, room string) (waitroom.Counters, error) {
	c, err := s.fastCounters(ctx, room)
	if err == nil {
		s.lastCounters.Store(room, c)
		return c, nil
	}
	if waitroom.ErrorCode(err) != waitroom.CodeUnavailable {
		return c, err
	}
	fb, fbErr := s.countersFromPostgres(ctx, room)
	if fbErr != nil {
		return waitroom.Counters{}, err
	}
	return fb, nil
}

func (s *Store) countersFromPostgres(ctx context.Context, room string) (waitroom.Counters, error) {
	var st roomState
	err := s.db.GetContext(ctx, &st, `
		SELECT generation, queue, serving, version, expired, max_expired
		FROM room_state WHERE room = $1`, room)
	if err != nil {
		return waitroom.Counters{}, roomErr(err, "the counters could not be read")
	}
	c := waitroom.Counters{Generation: st.Generation, Queue: st.Queue, Serving: st.Serving,
		Expired: st.Expired, MaxExpired: st.MaxExpired, Stale: true}
	if v, ok := s.lastCounters.Load(room); ok && v.(waitroom.Counters).Generation == st.Generation {
		last := v.(waitroom.Counters)
		c.Tokens, c.Completed, c.Abandoned = last.Tokens, last.Completed, last.Abandoned
		return c, nil
	}
	err = s.db.QueryRowContext(ctx, `
		SELECT count(*), count(*) FILTER (WHERE session_status = $3), count(*) FILTER (WHERE session_status = $4)
		FROM tokens WHERE room = $1 AND generation = $2`,
		room, st.Generation, int(waitroom.SessionCompleted), int(waitroom.SessionAbandoned)).
		Scan(&c.Tokens, &c.Completed, &c.Abandoned)
	if err != nil {
		return waitroom.Counters{}, mapErr(err, "the counters could not be read")
	}
	s.lastCounters.Store(room, c)
	return c, nil
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
