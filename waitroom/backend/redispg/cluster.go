package redispg

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis Cluster needs two settings the single-server client does not.
//
// The cluster client re-sends a command when its node answers MOVED or ASK
// (the command did not run: safe) and also when the connection broke after
// the command was written (it may have run). For an increment or a script
// that increments, a second send counts twice. The node hook below turns a
// broken connection under such a command into a final error that go-redis
// does not retry; the caller sees CodeUnavailable and the store repairs the
// room from PostgreSQL (repair.go). Redirects still follow, so a failover
// costs no error once the client knows the new master. The pipelines of
// this package (staging a rebuild, counting active tokens) are idempotent
// and keep go-redis' retries.
//
// After a failover the client's slot map names the dead master until it is
// reloaded: go-redis reloads at once on MOVED, but a dead node answers
// nothing, and the default period between reloads is a minute. Under
// traffic the map is reloaded at most clusterReloadEvery after it was last
// read, so a promoted replica is found within about that time.

const clusterReloadEvery = time.Second

func newClusterClient(opts *redis.ClusterOptions) *redis.ClusterClient {
	opts.MaxRetries, opts.DialerRetries = noRetries(opts.MaxRetries), fewDialRetries(opts.DialerRetries)
	if opts.ClusterStateReloadInterval == 0 {
		opts.ClusterStateReloadInterval = clusterReloadEvery
	}
	c := redis.NewClusterClient(opts)
	c.OnNewNode(func(node *redis.Client) { node.AddHook(sentOnce{}) })
	return c
}

// sentOnce is the node hook that keeps a command which may have run from
// being sent again.
type sentOnce struct{}

func (sentOnce) DialHook(next redis.DialHook) redis.DialHook { return next }

func (sentOnce) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (sentOnce) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err != nil && countsTwice(cmd.Name()) && replyLost(err) {
			err = &replyLostError{command: cmd.Name(), cause: err}
			cmd.SetErr(err)
		}
		return err
	}
}

// countsTwice lists the commands this package sends whose second run is not
// the same as one run: increments, consume-once reads, and scripts (some of
// which increment).
func countsTwice(name string) bool {
	switch strings.ToLower(name) {
	case "eval", "evalsha", "incr", "incrby", "hincrby", "getdel":
		return true
	}
	return false
}

// replyLost reports whether err means the command was written but its
// answer never came: the connection broke or timed out after the write. A
// refused dial, a pool timeout or an error reply (MOVED, READONLY,
// CLUSTERDOWN...) mean it did not run.
func replyLost(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return false
	}
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.As(err, &ne)
}

// replyLostError is a write to Redis Cluster whose outcome is unknown. It
// deliberately does not unwrap to the network error: go-redis retries on
// those. mapErr classifies it as unavailable.
type replyLostError struct {
	command string
	cause   error
}

func (e *replyLostError) Error() string {
	return "redispg: the connection broke before Redis answered " + e.command + " (not re-sent): " + e.cause.Error()
}
