package redispg_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/waitroom-idp/waitroom/waitroom/backend/redispg"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

const sentinelMaster = "waitroom"

// ownSentinels starts a master, its replica and three Sentinels watching
// them (quorum 2, master down after 1 s), and returns the Sentinels'
// addresses and the master.
func ownSentinels(t *testing.T) ([]string, *ownRedis) {
	t.Helper()
	master := newOwnRedis(t, "--repl-diskless-sync-delay", "0")
	replica := newOwnRedis(t, "--replicaof", "127.0.0.1", fmt.Sprint(master.port), "--repl-diskless-sync-delay", "0")
	waitFor(t, "the replica to synchronise", func() bool {
		info, err := do(replica.addr(), "INFO", "replication").Text()
		return err == nil && strings.Contains(info, "master_link_status:up")
	})
	var addrs []string
	for range 3 {
		dir := t.TempDir()
		conf := filepath.Join(dir, "sentinel.conf")
		text := fmt.Sprintf("sentinel monitor %[1]s 127.0.0.1 %[2]d 2\nsentinel down-after-milliseconds %[1]s 1000\n"+
			"sentinel failover-timeout %[1]s 5000\nsentinel parallel-syncs %[1]s 1\n", sentinelMaster, master.port)
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		s := newOwnServer(t, conf, "--sentinel")
		addrs = append(addrs, s.addr())
	}
	waitFor(t, "the Sentinels to reach their quorum", func() bool {
		return do(addrs[0], "SENTINEL", "CKQUORUM", sentinelMaster).Err() == nil &&
			len(sentinelReplicas(addrs[0])) == 1
	})
	return addrs, master
}

// do sends one command to the server at addr.
func do(addr string, args ...any) *redis.Cmd {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	return c.Do(ctx, args...)
}

func sentinelReplicas(addr string) []any {
	v, _ := do(addr, "SENTINEL", "REPLICAS", sentinelMaster).Slice()
	return v
}

func sentinelMasterAddr(addr string) string {
	v, err := do(addr, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", sentinelMaster).StringSlice()
	if err != nil || len(v) != 2 {
		return ""
	}
	return v[0] + ":" + v[1]
}

// TestSentinelFailoverUnderLoad is TestClusterFailoverUnderLoad on a
// master watched by Redis Sentinel (go-redis FailoverClient, chosen by a
// master_name in the URL): the master is killed under load from three
// store instances, a Sentinel promotes its replica, and the same checks
// hold.
func TestSentinelFailoverUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Redis with Sentinels and fails the master over (~15 s)")
	}
	t.Parallel()
	sentinels, master := ownSentinels(t)
	url := testenv.ClusterURL(strings.Join(sentinels, ",")) + "&master_name=" + sentinelMaster
	cfg := redispg.Config{DatabaseURL: testenv.Postgres(t), RedisURL: url, KeyPrefix: "sentinel:",
		MaxOpenConns: 8, Logger: slog.New(slog.DiscardHandler)}
	run, stores := newLoadRun(t, cfg, 3, "sentinel")
	run.start()
	time.Sleep(2 * time.Second)
	killed := time.Now()
	master.kill()
	waitFor(t, "a Sentinel to promote the replica", func() bool {
		m := sentinelMasterAddr(sentinels[1])
		return m != "" && m != master.addr()
	})
	t.Logf("killed master %s; Sentinel named %s master after %v", master.addr(), sentinelMasterAddr(sentinels[1]),
		time.Since(killed).Round(time.Millisecond))
	time.Sleep(4 * time.Second)
	run.finish()
	run.report(t)
	checkAgainstPostgres(t, stores[0], run)
}
