package redispg

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// The fast copy of a room lives in two keys that share the hash tag {room}:
//
//	<prefix>wr:{room}:c       hash: g generation, q queue, s serving,
//	                          v version, t tokens, c completed,
//	                          a abandoned, e expired, m max expired
//	<prefix>wr:{room}:active  sorted set: request ids of tokens with
//	                          session status 0, scored by expiry (µs)
//
// Writers change PostgreSQL first and Redis after the commit. Absolute
// values (queue, serving, expired, max expired) carry the generation and a
// version so that a late write never overwrites a newer one; the counters
// of token events are increments applied only within the same generation.
// When the hash is missing, it is rebuilt from PostgreSQL as a whole.

func (s *Store) countersKey(room string) string { return s.prefix + "wr:{" + room + "}:c" }
func (s *Store) activeKey(room string) string   { return s.prefix + "wr:{" + room + "}:active" }

// Results of the write scripts.
const (
	fastMissing = -1 // no hash: rebuild from PostgreSQL
	fastOlder   = -2 // the hash is of an older generation: rebuild
	fastStale   = 0  // the hash is of a newer generation: drop the write
	fastApplied = 1
)

// genCheck is the common head of the write scripts.
const genCheck = `
local g = redis.call('HGET', KEYS[1], 'g')
if not g then return -1 end
g = tonumber(g)
local mine = tonumber(ARGV[1])
if g > mine then return 0 end
if g < mine then return -2 end
`

// raiseQueue: ARGV gen, queue. The queue counter only goes up.
var raiseQueue = redis.NewScript(genCheck + `
if tonumber(ARGV[2]) > tonumber(redis.call('HGET', KEYS[1], 'q') or '0') then
  redis.call('HSET', KEYS[1], 'q', ARGV[2])
end
return 1`)

// applyState: ARGV gen, version, serving, expired, max expired.
var applyState = redis.NewScript(genCheck + `
if tonumber(ARGV[2]) > tonumber(redis.call('HGET', KEYS[1], 'v') or '0') then
  redis.call('HSET', KEYS[1], 'v', ARGV[2], 's', ARGV[3], 'e', ARGV[4], 'm', ARGV[5])
end
return 1`)

// tokenEvent: ARGV gen, counter field, 'add'|'rem', request id, score,
// trim-below score (0: no trim).
var tokenEvent = redis.NewScript(genCheck + `
redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
if ARGV[3] == 'add' then
  if ARGV[6] ~= '0' then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[6]) end
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
elseif ARGV[3] == 'rem' then
  redis.call('ZREM', KEYS[2], ARGV[4])
end
return 1`)

// replaceFast writes a whole room state (after a reset, on creation, or as
// a rebuild) unless the stored hash is of the same or a newer generation.
// ARGV: force, g, q, s, v, t, c, a, e, m, then pairs of score, member.
var replaceFast = redis.NewScript(`
local g = redis.call('HGET', KEYS[1], 'g')
if g and ARGV[1] ~= '1' and tonumber(g) >= tonumber(ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'g', ARGV[2], 'q', ARGV[3], 's', ARGV[4], 'v', ARGV[5],
  't', ARGV[6], 'c', ARGV[7], 'a', ARGV[8], 'e', ARGV[9], 'm', ARGV[10])
for i = 11, #ARGV, 2 do
  redis.call('ZADD', KEYS[2], ARGV[i], ARGV[i+1])
end
return 1`)

// roomState is room_state plus the counts derived from tokens.
type roomState struct {
	Generation int64 `db:"generation"`
	Queue      int64 `db:"queue"`
	Serving    int64 `db:"serving"`
	Version    int64 `db:"version"`
	Expired    int64 `db:"expired"`
	MaxExpired int64 `db:"max_expired"`
	Tokens     int64 `db:"tokens"`
	Completed  int64 `db:"completed"`
	Abandoned  int64 `db:"abandoned"`
}

type activeToken struct {
	RequestID string    `db:"request_id"`
	Expires   time.Time `db:"expires"`
}

// afterWrite reacts to a write script's answer: a missing or older hash is
// rebuilt from PostgreSQL (which already holds the write); a Redis failure
// is logged and reported, the durable write stands.
func (s *Store) afterWrite(ctx context.Context, room string, res int64, err error) error {
	if err != nil {
		return mapErr(err, "the counters could not be updated")
	}
	if res == fastMissing || res == fastOlder {
		return s.rebuild(ctx, room)
	}
	return nil
}

// rebuild reads a consistent snapshot of the room from PostgreSQL and
// writes it to Redis unless another process already did. Counting the
// tokens scans them: this runs only when Redis lost the room.
func (s *Store) rebuild(ctx context.Context, room string) error {
	st, active, err := s.snapshot(ctx, room)
	if err != nil {
		return err
	}
	s.log.WarnContext(ctx, "rebuilding the room counters in Redis from PostgreSQL", "room", room, "generation", st.Generation, "active_tokens", len(active))
	_, err = s.writeFast(ctx, room, st, active, false)
	return err
}

func (s *Store) snapshot(ctx context.Context, room string) (roomState, []activeToken, error) {
	var st roomState
	var active []activeToken
	tx, err := s.db.BeginTxx(ctx, &sqlTxRepeatableRead)
	if err != nil {
		return st, nil, mapErr(err, "the room could not be read")
	}
	defer tx.Rollback()
	err = tx.GetContext(ctx, &st, `
		SELECT s.generation, s.queue, s.serving, s.version, s.expired, s.max_expired,
		       count(t.request_id) AS tokens,
		       count(t.request_id) FILTER (WHERE t.session_status = 1) AS completed,
		       count(t.request_id) FILTER (WHERE t.session_status = -1) AS abandoned
		FROM room_state s
		LEFT JOIN tokens t ON t.room = s.room AND t.generation = s.generation
		WHERE s.room = $1
		GROUP BY s.room`, room)
	if err != nil {
		return st, nil, roomErr(err, "the room could not be read")
	}
	err = tx.SelectContext(ctx, &active, `
		SELECT request_id, expires FROM tokens
		WHERE room = $1 AND generation = $2 AND session_status = 0`, room, st.Generation)
	if err != nil {
		return st, nil, mapErr(err, "the room could not be read")
	}
	return st, active, nil
}

func (s *Store) writeFast(ctx context.Context, room string, st roomState, active []activeToken, force bool) (bool, error) {
	args := make([]any, 0, 10+2*len(active))
	f := "0"
	if force {
		f = "1"
	}
	args = append(args, f, st.Generation, st.Queue, st.Serving, st.Version, st.Tokens, st.Completed, st.Abandoned, st.Expired, st.MaxExpired)
	for _, a := range active {
		args = append(args, micros(a.Expires), a.RequestID)
	}
	n, err := replaceFast.Run(ctx, s.rdb, []string{s.countersKey(room), s.activeKey(room)}, args...).Int64()
	if err != nil {
		return false, mapErr(err, "the counters could not be updated")
	}
	return n == 1, nil
}

// fastCounters reads the hash, rebuilding it first if it is missing.
func (s *Store) fastCounters(ctx context.Context, room string) (waitroom.Counters, error) {
	for attempt := 0; ; attempt++ {
		vals, err := s.rdb.HMGet(ctx, s.countersKey(room), "g", "q", "s", "t", "e", "c", "a", "m").Result()
		if err != nil {
			return waitroom.Counters{}, mapErr(err, "the counters could not be read")
		}
		if vals[0] != nil {
			return countersFrom(vals), nil
		}
		if attempt > 0 {
			// Rebuilt and gone again (deleted meanwhile): report honestly.
			return waitroom.Counters{}, waitroom.Errorf(waitroom.CodeUnavailable, "the counters could not be read")
		}
		if err := s.rebuild(ctx, room); err != nil {
			return waitroom.Counters{}, err
		}
	}
}

func countersFrom(vals []any) waitroom.Counters {
	n := make([]int64, len(vals))
	for i, v := range vals {
		if str, ok := v.(string); ok {
			n[i], _ = strconv.ParseInt(str, 10, 64)
		}
	}
	return waitroom.Counters{Generation: n[0], Queue: n[1], Serving: n[2], Tokens: n[3],
		Expired: n[4], Completed: n[5], Abandoned: n[6], MaxExpired: n[7]}
}

// ensureFast makes sure the room's hash exists (rebuilding it if not) and
// returns its generation.
func (s *Store) ensureFast(ctx context.Context, room string) (int64, error) {
	c, err := s.fastCounters(ctx, room)
	return c.Generation, err
}

func micros(t time.Time) int64 { return t.UnixMicro() }
