package redispg

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// lease is the leader lease of periodic work (waitroom.Lease), held in
// Redis. The lease and its claimed steps share one hash tag, so the
// scripts run on one node of a Redis Cluster too.
//
// Fencing tokens come from a counter that never goes below Redis' clock in
// milliseconds, so they keep growing even if Redis restarts empty.
type lease struct {
	rdb   redis.UniversalClient
	key   string // hash: holder, token
	seq   string // token counter
	steps string // prefix of claimed step keys
}

// lease returns the lease called name (e.g. "admission").
func (s *Store) lease(name string) waitroom.Lease {
	base := s.prefix + "lease:{" + name + "}"
	return &lease{rdb: s.rdb, key: base, seq: base + ":seq", steps: base + ":step:"}
}

var acquireScript = redis.NewScript(`
local holder = redis.call('HGET', KEYS[1], 'holder')
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, redis.call('HGET', KEYS[1], 'token')}
end
if holder then
  return {0, redis.call('HGET', KEYS[1], 'token')}
end
local t = redis.call('TIME')
local floor = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tok = redis.call('INCR', KEYS[2])
if tok < floor then
  redis.call('SET', KEYS[2], floor)
  tok = floor
end
redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'token', tok)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, tostring(tok)}
`)

// Acquire takes or renews the lease for holder.
func (l *lease) Acquire(ctx context.Context, holder string, ttl time.Duration) (int64, bool, error) {
	res, err := acquireScript.Run(ctx, l.rdb, []string{l.key, l.seq}, holder, ttl.Milliseconds()).Slice()
	if err != nil {
		return 0, false, mapErr(err, "the leader lease could not be taken")
	}
	held, _ := res[0].(int64)
	return toInt64(res[1]), held == 1, nil
}

var claimScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then
  return 0
end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return 0
`)

// Claim records step once, and only while token is the lease's token.
func (l *lease) Claim(ctx context.Context, token int64, step string, ttl time.Duration) (bool, error) {
	n, err := claimScript.Run(ctx, l.rdb, []string{l.key, l.steps + step}, token, ttl.Milliseconds()).Int()
	if err != nil {
		return false, mapErr(err, "a leader step could not be claimed")
	}
	return n == 1, nil
}

var releaseScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'holder') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// Release gives the lease up if holder holds it.
func (l *lease) Release(ctx context.Context, holder string) error {
	return mapErr(releaseScript.Run(ctx, l.rdb, []string{l.key}, holder).Err(), "the leader lease could not be released")
}

func toInt64(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}
