package redispg

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// Ephemeral values live under <prefix>eph:<key>, each key on its own (no
// multi-key operation), so they spread over a Redis Cluster.

func (s *Store) ephemeralKey(key string) string { return s.prefix + "eph:" + key }

// ttlOf rejects lifetimes Redis cannot hold and rounds up to a millisecond.
func ttlOf(ttl time.Duration) (time.Duration, error) {
	if ttl <= 0 {
		return 0, waitroom.Errorf(waitroom.CodeInvalid, "the time to live must be positive")
	}
	return max(ttl, time.Millisecond), nil
}

// Put stores value under key for ttl, replacing any value.
func (s *Store) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	ttl, err := ttlOf(ttl)
	if err != nil {
		return err
	}
	return mapErr(s.rdb.Set(ctx, s.ephemeralKey(key), value, ttl).Err(), "the value could not be stored")
}

// PutIfAbsent stores value only if key has no live value.
func (s *Store) PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	ttl, err := ttlOf(ttl)
	if err != nil {
		return false, err
	}
	ok, err := s.rdb.SetNX(ctx, s.ephemeralKey(key), value, ttl).Result()
	return ok, mapErr(err, "the value could not be stored")
}

// Get returns the live value of key.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := s.rdb.Get(ctx, s.ephemeralKey(key)).Bytes()
	return v, ephemeralErr(err)
}

// Take returns the value and deletes it in one step (GETDEL).
func (s *Store) Take(ctx context.Context, key string) ([]byte, error) {
	v, err := s.rdb.GetDel(ctx, s.ephemeralKey(key)).Bytes()
	return v, ephemeralErr(err)
}

// Delete removes key; a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	return mapErr(s.rdb.Del(ctx, s.ephemeralKey(key)).Err(), "the value could not be deleted")
}

// incrWithTTL sets the time to live only when INCR created the key, so
// later calls do not extend the window.
var incrWithTTL = redis.NewScript(`
local v = redis.call('INCR', KEYS[1])
if v == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return v`)

// Incr adds one to the counter at key; a new counter lives for ttl.
func (s *Store) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	ttl, err := ttlOf(ttl)
	if err != nil {
		return 0, err
	}
	n, err := incrWithTTL.Run(ctx, s.rdb, []string{s.ephemeralKey(key)}, ttl.Milliseconds()).Int64()
	return n, mapErr(err, "the counter could not be incremented")
}

func ephemeralErr(err error) error {
	if err == redis.Nil {
		return notFound("value")
	}
	return mapErr(err, "the value could not be read")
}
