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
	req := &putRequest{ctx: ctx, key: s.ephemeralKey(key), value: value, ttl: ttl, done: make(chan putResult, 1)}
	res, err := await(ctx, s.puts, "", req, req.done, "the value was stored")
	if err != nil {
		return false, err
	}
	return res.stored, res.err
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

// putRequest is a PutIfAbsent call waiting for its pipeline.
type putRequest struct {
	ctx   context.Context
	key   string
	value []byte
	ttl   time.Duration
	done  chan putResult // buffered: the pipeline never blocks on it
}

type putResult struct {
	stored bool
	err    error
}

// commitPuts sends one batch of PutIfAbsent calls as one pipeline of
// SET NX: under a flood of single-use markers (the bot gate's spent
// solutions, grants) the calls that arrive while one pipeline runs share
// the next round trip.
func (s *Store) commitPuts(_ string, batch []*putRequest) {
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.BoolCmd, len(batch))
	for i, r := range batch {
		if r.ctx.Err() == nil {
			cmds[i] = pipe.SetNX(ctx, r.key, r.value, r.ttl)
		}
	}
	if pipe.Len() > 0 {
		_, _ = pipe.Exec(ctx) // each command carries its own error
	}
	for i, r := range batch {
		if cmds[i] == nil {
			r.done <- putResult{err: mapErr(r.ctx.Err(), "the request ended before the value was stored")}
			continue
		}
		ok, err := cmds[i].Result()
		r.done <- putResult{stored: ok, err: mapErr(err, "the value could not be stored")}
	}
}
