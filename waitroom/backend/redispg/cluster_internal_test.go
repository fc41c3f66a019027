package redispg

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

// A command that may have run is never handed back to go-redis as a
// network error (which its cluster client re-sends); one that surely did
// not run is.
func TestSentOnceHook(t *testing.T) {
	ctx := context.Background()
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	read := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	for _, tc := range []struct {
		name     string
		cmd      redis.Cmder
		err      error
		wantLost bool
	}{
		{"script, connection closed after the write", redis.NewCmd(ctx, "evalsha", "abc", 1, "k"), io.EOF, true},
		{"increment, connection reset", redis.NewIntCmd(ctx, "hincrby", "k", "f", 1), read, true},
		{"consume-once read, EOF", redis.NewStringCmd(ctx, "getdel", "k"), io.ErrUnexpectedEOF, true},
		{"script, dial refused", redis.NewCmd(ctx, "evalsha", "abc", 1, "k"), dial, false},
		{"script, MOVED", redis.NewCmd(ctx, "evalsha", "abc", 1, "k"), errors.New("MOVED 3999 127.0.0.1:7102"), false},
		{"read, EOF", redis.NewSliceCmd(ctx, "hmget", "k", "g"), io.EOF, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			process := sentOnce{}.ProcessHook(func(context.Context, redis.Cmder) error { return tc.err })
			err := process(ctx, tc.cmd)
			var lost *replyLostError
			if got := errors.As(err, &lost); got != tc.wantLost {
				t.Fatalf("error %v: reply lost = %v, want %v", err, got, tc.wantLost)
			}
			if !tc.wantLost {
				if err != tc.err {
					t.Fatalf("error changed to %v", err)
				}
				return
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, new(net.Error)) {
				t.Fatalf("%v still unwraps to a network error, which go-redis re-sends", err)
			}
			if tc.cmd.Err() != err {
				t.Fatalf("the command keeps error %v", tc.cmd.Err())
			}
			if code := waitroom.ErrorCode(mapErr(err, "x")); code != waitroom.CodeUnavailable {
				t.Fatalf("mapped to %s, want unavailable", code)
			}
		})
	}
}

func TestClusterClientSettings(t *testing.T) {
	c, err := newRedisClient(Config{RedisURL: "redis://127.0.0.1:1?addr=127.0.0.1:2", RedisCluster: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	opts := c.(*redis.ClusterClient).Options()
	if opts.ClusterStateReloadInterval != clusterReloadEvery {
		t.Fatalf("slot map reloaded every %v, want %v", opts.ClusterStateReloadInterval, clusterReloadEvery)
	}
	if opts.MaxRetries != -1 {
		t.Fatalf("node retries %d, want none", opts.MaxRetries)
	}
}

// slowIncrement counts, then keeps its node busy for 300 ms: a client whose
// read timeout is shorter sees a broken connection after the write ran.
var slowIncrement = redis.NewScript(`
redis.call('INCR', KEYS[1])
local function now() local t = redis.call('TIME') return t[1] * 1000000 + t[2] end
local start = now()
while now() - start < 300000 do end
return 1`)

// On a real cluster: a script that ran but whose answer timed out is not
// run again by the backend's client, where go-redis' own cluster client
// runs it again (the pitfall the hook exists for).
func TestClusterDoesNotResendAWriteThatMayHaveRun(t *testing.T) {
	t.Parallel()
	addr, prefix := testenv.RedisOf(t, testenv.Cluster)
	addr += "&read_timeout=100ms"
	runs := func(c redis.UniversalClient, key string) (int64, error) {
		err := slowIncrement.Run(context.Background(), c, []string{key}).Err()
		time.Sleep(400 * time.Millisecond) // the last run ends
		n, getErr := c.Get(context.Background(), key).Int64()
		if getErr != nil {
			t.Fatal(getErr)
		}
		return n, err
	}

	ours, err := newRedisClient(Config{RedisURL: addr, RedisCluster: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ours.Close()
	n, err := runs(ours, prefix+"{resend}:ours")
	if n != 1 {
		t.Fatalf("the backend's client ran the script %d times", n)
	}
	if code := waitroom.ErrorCode(mapErr(err, "x")); code != waitroom.CodeUnavailable {
		t.Fatalf("the timed-out script answered %v (code %s), want unavailable", err, code)
	}

	opts, err := redis.ParseClusterURL(addr)
	if err != nil {
		t.Fatal(err)
	}
	plain := redis.NewClusterClient(opts)
	defer plain.Close()
	if n, _ := runs(plain, prefix+"{resend}:plain"); n < 2 {
		t.Logf("go-redis' cluster client ran the script %d time(s): it no longer re-sends on a timeout", n)
	}
}
