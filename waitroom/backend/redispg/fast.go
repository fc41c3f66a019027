package redispg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
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
// Absolute values (queue, serving, expired, max expired) are copied after
// their PostgreSQL commit, with the generation and a version so that a late
// write never overwrites a newer one. The counters of token events are
// increments, applied only within the same generation, inside the token's
// transaction under the token fence (fence.go). When the hash is missing,
// it is rebuilt from PostgreSQL as a whole.

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

// tokensCreated: ARGV gen, count, trim-below score (0: no trim), then a
// score and a request id per new active token.
var tokensCreated = redis.NewScript(genCheck + `
redis.call('HINCRBY', KEYS[1], 't', ARGV[2])
if ARGV[3] ~= '0' then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[3]) end
for i = 4, #ARGV, 2 do
  redis.call('ZADD', KEYS[2], ARGV[i], ARGV[i + 1])
end
return 1`)

// replaceFast writes a whole room state (after a reset, on creation, or as
// a rebuild) unless the stored hash is of a newer generation, or of the
// same one and force is not set. A forced write over the same generation
// keeps the stored absolute values where they are newer (a higher queue, a
// higher version of serving / expired / max expired): they may have been
// copied after this rebuild read PostgreSQL, and must not move back.
// KEYS: hash, active set, staged active set (may not exist).
// ARGV: force, g, q, s, v, t, c, a, e, m.
var replaceFast = redis.NewScript(`
local g = redis.call('HGET', KEYS[1], 'g')
local mine = tonumber(ARGV[2])
if g and (tonumber(g) > mine or (tonumber(g) == mine and ARGV[1] ~= '1')) then
  redis.call('DEL', KEYS[3])
  return 0
end
local q, s, v, e, m = ARGV[3], ARGV[4], ARGV[5], ARGV[9], ARGV[10]
if g and tonumber(g) == mine then
  local old = redis.call('HMGET', KEYS[1], 'q', 's', 'v', 'e', 'm')
  if tonumber(old[1] or '0') > tonumber(q) then q = old[1] end
  if tonumber(old[3] or '0') > tonumber(v) then s, v, e, m = old[2], old[3], old[4], old[5] end
end
redis.call('DEL', KEYS[1], KEYS[2])
if redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('RENAME', KEYS[3], KEYS[2])
  redis.call('PERSIST', KEYS[2])
end
redis.call('HSET', KEYS[1], 'g', ARGV[2], 'q', q, 's', s, 'v', v,
  't', ARGV[6], 'c', ARGV[7], 'a', ARGV[8], 'e', e, 'm', m)
return 1`)

// roomState is room_state plus the counts derived from tokens.
type roomState struct {
	Generation int64 `db:"generation"`
	Queue      int64 `db:"queue"`
	Serving    int64 `db:"serving"`
	Version    int64 `db:"version"`
	Expired    int64 `db:"expired"`
	MaxExpired int64 `db:"max_expired"`
	Tokens     int64 // counted from the tokens table
	Completed  int64
	Abandoned  int64
}

type activeToken struct {
	RequestID string    `db:"request_id"`
	Expires   time.Time `db:"expires"`
}

// afterWrite reacts to a write script's answer once PostgreSQL holds the
// write: a missing or older hash is rebuilt from PostgreSQL. It never fails
// the caller, whose write is durable: if Redis cannot be brought up to
// date now, the room is marked stale and repaired later (repair.go).
func (s *Store) afterWrite(ctx context.Context, room string, res int64, err error) {
	if err == nil && (res == fastMissing || res == fastOlder) {
		err = s.rebuild(ctx, room)
	}
	if err != nil {
		s.markStale(room, err)
	}
}

// writeAbsolute runs a script that sets absolute values (raise-only queue,
// versioned serving): on a missing or older hash it rebuilds and runs the
// script again, since a rebuild by another process may have read
// PostgreSQL just before this write committed. Running it twice is
// harmless; increments never take this path.
func (s *Store) writeAbsolute(ctx context.Context, room string, script *redis.Script, args ...any) {
	keys := []string{s.countersKey(room)}
	res, err := script.Run(ctx, s.rdb, keys, args...).Int64()
	if err == nil && (res == fastMissing || res == fastOlder) {
		if err = s.rebuild(ctx, room); err == nil {
			_, err = script.Run(ctx, s.rdb, keys, args...).Int64()
		}
	}
	if err != nil {
		s.markStale(room, err)
	}
}

// rebuild reads the room from PostgreSQL and writes it to Redis, under the
// token fence (fence.go), unless another process already did. Counting the
// tokens scans them: this runs only when Redis lost the room.
//
// Concurrent calls for one room in this process share one rebuild: after a
// Redis restart every poll finds the hash missing at once, and only one of
// them should read PostgreSQL.
func (s *Store) rebuild(ctx context.Context, room string) error {
	s.rebuildMu.Lock()
	if c, ok := s.rebuilding[room]; ok {
		s.rebuildMu.Unlock()
		select {
		case <-c.done:
			return c.err
		case <-ctx.Done():
			return mapErr(ctx.Err(), "the counters are being rebuilt")
		}
	}
	c := &rebuildCall{done: make(chan struct{})}
	s.rebuilding[room] = c
	s.rebuildMu.Unlock()

	// The rebuild serves every waiter: it must not end with the first
	// caller's context.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rebuildTimeout)
	c.err = s.rebuildOnce(rctx, room)
	cancel()
	s.rebuildMu.Lock()
	delete(s.rebuilding, room)
	s.rebuildMu.Unlock()
	close(c.done)
	return c.err
}

// rebuildTimeout bounds one rebuild; a room with millions of tokens takes
// seconds to walk.
const rebuildTimeout = time.Minute

type rebuildCall struct {
	done chan struct{}
	err  error
}

func (s *Store) rebuildOnce(ctx context.Context, room string) error {
	wrote, err := s.rebuildFenced(ctx, room, false)
	if wrote {
		s.log.WarnContext(ctx, "rebuilt the room counters in Redis from PostgreSQL", "room", room)
	}
	return err
}

// rebuildFenced reads the room from PostgreSQL and writes it to Redis
// while holding the room's token fence exclusively (fence.go). Without
// force it leaves a hash of the same or a newer generation alone, and
// checks that before the expensive walk over the tokens.
func (s *Store) rebuildFenced(ctx context.Context, room string, force bool) (bool, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return false, mapErr(err, "the room could not be read")
	}
	defer tx.Rollback()
	if err := lockFence(ctx, tx, room); err != nil {
		return false, mapErr(err, "the room could not be read")
	}
	// Read committed: every statement from here sees all writers that
	// committed before the fence was ours.
	var st roomState
	err = tx.GetContext(ctx, &st, `
		SELECT generation, queue, serving, version, expired, max_expired
		FROM room_state WHERE room = $1`, room)
	if err != nil {
		return false, roomErr(err, "the room could not be read")
	}
	if !force {
		if g, err := s.rdb.HGet(ctx, s.countersKey(room), "g").Int64(); err == nil && g >= st.Generation {
			return false, nil // another process rebuilt it meanwhile
		}
	}
	staged := s.stagingKey(room)
	defer s.rdb.Del(context.WithoutCancel(ctx), staged) // gone already if swapped in
	if err := s.stageTokens(ctx, tx, room, staged, &st); err != nil {
		return false, err
	}
	return s.writeFast(ctx, room, st, staged, force)
}

// stagingKey names a fresh key (same hash tag) where a rebuild gathers the
// active-token set before swapping it in.
func (s *Store) stagingKey(room string) string {
	var b [8]byte
	rand.Read(b[:])
	return s.prefix + "wr:{" + room + "}:staging:" + hex.EncodeToString(b[:])
}

const (
	stageChunk = 1000
	stageTTL   = 10 * time.Minute // an abandoned staging key goes away
)

// stageTokens walks the tokens of the generation once: it counts them by
// status into st and streams the active ones into the staging sorted set,
// so a room with millions of tokens never sits in memory or in one Redis
// call.
func (s *Store) stageTokens(ctx context.Context, tx *sqlx.Tx, room, staged string, st *roomState) error {
	rows, err := tx.QueryContext(ctx, `
		SELECT request_id, expires, session_status FROM tokens
		WHERE room = $1 AND generation = $2`, room, st.Generation)
	if err != nil {
		return mapErr(err, "the room could not be read")
	}
	defer rows.Close()
	chunk := make([]redis.Z, 0, stageChunk)
	for rows.Next() {
		var t activeToken
		var status int
		if err := rows.Scan(&t.RequestID, &t.Expires, &status); err != nil {
			return mapErr(err, "the room could not be read")
		}
		st.count(waitroom.SessionStatus(status))
		if status != int(waitroom.SessionActive) {
			continue
		}
		if chunk = append(chunk, redis.Z{Score: float64(micros(t.Expires)), Member: t.RequestID}); len(chunk) == stageChunk {
			if err := s.stage(ctx, staged, chunk); err != nil {
				return err
			}
			chunk = chunk[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return mapErr(err, "the room could not be read")
	}
	return s.stage(ctx, staged, chunk)
}

func (st *roomState) count(status waitroom.SessionStatus) {
	st.Tokens++
	switch status {
	case waitroom.SessionCompleted:
		st.Completed++
	case waitroom.SessionAbandoned:
		st.Abandoned++
	}
}

func (s *Store) stage(ctx context.Context, staged string, chunk []redis.Z) error {
	if len(chunk) == 0 {
		return nil
	}
	pipe := s.rdb.Pipeline()
	pipe.ZAdd(ctx, staged, chunk...)
	pipe.PExpire(ctx, staged, stageTTL)
	_, err := pipe.Exec(ctx)
	return mapErr(err, "the counters could not be rebuilt")
}

// writeFast replaces the room's hash with st and its active set with the
// staged set (empty if staged does not exist), unless the stored hash is of
// the same or a newer generation and force is false.
func (s *Store) writeFast(ctx context.Context, room string, st roomState, staged string, force bool) (bool, error) {
	f := "0"
	if force {
		f = "1"
	}
	if staged == "" {
		staged = s.stagingKey(room) // a name that holds nothing
	}
	n, err := replaceFast.Run(ctx, s.rdb, []string{s.countersKey(room), s.activeKey(room), staged},
		f, st.Generation, st.Queue, st.Serving, st.Version, st.Tokens, st.Completed, st.Abandoned, st.Expired, st.MaxExpired).Int64()
	if err != nil {
		return false, mapErr(err, "the counters could not be updated")
	}
	return n == 1, nil
}

// fastCounters reads the hash, rebuilding it first if it is missing.
func (s *Store) fastCounters(ctx context.Context, room string) (waitroom.Counters, error) {
	c, _, err := s.fastRead(ctx, room)
	return c, err
}

// fastRead is fastCounters that also returns the version of the serving
// values.
func (s *Store) fastRead(ctx context.Context, room string) (waitroom.Counters, int64, error) {
	for attempt := 0; ; attempt++ {
		vals, err := s.rdb.HMGet(ctx, s.countersKey(room), "g", "q", "s", "t", "e", "c", "a", "m", "v").Result()
		if err != nil {
			return waitroom.Counters{}, 0, mapErr(err, "the counters could not be read")
		}
		if vals[0] != nil {
			n := parseInts(vals)
			return waitroom.Counters{Generation: n[0], Queue: n[1], Serving: n[2], Tokens: n[3],
				Expired: n[4], Completed: n[5], Abandoned: n[6], MaxExpired: n[7]}, n[8], nil
		}
		if attempt > 0 {
			// Rebuilt and gone again (deleted meanwhile): report honestly.
			return waitroom.Counters{}, 0, waitroom.Errorf(waitroom.CodeUnavailable, "the counters could not be read")
		}
		if err := s.rebuild(ctx, room); err != nil {
			return waitroom.Counters{}, 0, err
		}
	}
}

func parseInts(vals []any) []int64 {
	n := make([]int64, len(vals))
	for i, v := range vals {
		if str, ok := v.(string); ok {
			n[i], _ = strconv.ParseInt(str, 10, 64)
		}
	}
	return n
}

// ensureFast makes sure the room's hash exists (rebuilding it if not) and
// returns its generation.
func (s *Store) ensureFast(ctx context.Context, room string) (int64, error) {
	c, err := s.fastCounters(ctx, room)
	return c.Generation, err
}

func micros(t time.Time) int64 { return t.UnixMicro() }
