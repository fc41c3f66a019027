package redispg_test

import (
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/waitroom-idp/waitroom/waitroom/backend/redispg"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

// ownRedis runs a Redis server of the test's own (no persistence) that the
// test may restart; start (re)starts it on the same port.
type ownRedis struct {
	t    *testing.T
	port int
	dir  string
	conf string   // a configuration file, for a Sentinel
	args []string // more arguments of redis-server
	cmd  *exec.Cmd
}

// newOwnRedis starts a Redis server on a free port; args are passed on to
// redis-server.
func newOwnRedis(t *testing.T, args ...string) *ownRedis {
	t.Helper()
	return newOwnServer(t, "", args...)
}

// newOwnServer is newOwnRedis with a configuration file (for a Sentinel).
func newOwnServer(t *testing.T, conf string, args ...string) *ownRedis {
	t.Helper()
	needRedisServer(t)
	r := &ownRedis{t: t, port: freeClusterPorts(t), dir: t.TempDir(), conf: conf, args: args}
	r.start()
	t.Cleanup(r.kill)
	return r
}

// needRedisServer skips, loudly, or fails under CI=true, without the
// redis-server binary.
func needRedisServer(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis-server is not installed and CI=true: %v", err)
		}
		t.Skipf("\n!!!!!!!! SKIPPED: redis-server is not installed (%v); with CI=true this fails.", err)
	}
}

func (r *ownRedis) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

func (r *ownRedis) start() {
	args := append([]string{"--bind", "127.0.0.1", "--port", strconv.Itoa(r.port),
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--logfile", filepath.Join(r.dir, "redis.log")}, r.args...)
	if r.conf != "" {
		args = append([]string{r.conf}, args...) // the file comes first
	}
	r.cmd = exec.Command("redis-server", args...)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); c.Ping(ctx).Err() != nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			r.t.Fatal("the test's Redis did not start")
		}
	}
}

func (r *ownRedis) kill() {
	if r.cmd != nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
		r.cmd = nil
	}
}

// TestRedisRestartUnderLoad restarts Redis (killed, started again empty)
// while two store instances enqueue, read the counters (the public polls,
// token issue and the admin counters all read them), count active sessions
// and issue tokens.
// Every counter read is answered: from PostgreSQL, marked stale, while
// Redis is away; fresh again once the room is repaired. The windows are
// logged for docs/storage.md.
func TestRedisRestartUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a Redis server under load (~8 s)")
	}
	t.Parallel()
	own := newOwnRedis(t)
	cfg := redispg.Config{DatabaseURL: testenv.Postgres(t), RedisURL: "redis://" + own.addr(), KeyPrefix: "restart:",
		MaxOpenConns: 8, Logger: slog.New(slog.DiscardHandler)}
	run, stores := newLoadRun(t, cfg, 2, "restart")
	run.start()
	time.Sleep(2 * time.Second)
	own.kill()
	time.Sleep(500 * time.Millisecond) // a restart takes a moment
	own.start()
	time.Sleep(4 * time.Second)
	run.finish()
	run.report(t)
	checkAgainstPostgres(t, stores[0], run)
}
