package redispg

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// tokenBucket takes one unit from the bucket at KEYS[1] (a hash of tokens
// and the refill time in microseconds) in one round trip. It reads Redis'
// own clock, so replicas with skewed clocks still share one bucket.
// ARGV: limit, window in microseconds. Returns {allowed, wait in µs}.
var tokenBucket = redis.NewScript(`
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = limit
  at = now
end
local rate = limit / window
tokens = math.min(limit, tokens + math.max(0, now - at) * rate)
local allowed, wait = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%d', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
return {allowed, wait}`)

// Allow takes one unit from the token bucket at key.
func (s *Store) Allow(ctx context.Context, key string, limit int64, window time.Duration) (bool, time.Duration, error) {
	if limit <= 0 || window < time.Millisecond {
		return false, 0, waitroom.Errorf(waitroom.CodeInvalid, "limit and window must be positive")
	}
	res, err := tokenBucket.Run(ctx, s.rdb, []string{s.ephemeralKey(key)}, limit, window.Microseconds()).Int64Slice()
	if err != nil {
		return false, 0, mapErr(err, "the rate limit could not be read")
	}
	if len(res) != 2 {
		return false, 0, waitroom.Errorf(waitroom.CodeInternal, "unexpected answer from the rate-limit script")
	}
	return res[0] == 1, time.Duration(res[1]) * time.Microsecond, nil
}
