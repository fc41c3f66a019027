package redispg_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/waitroom-idp/waitroom/waitroom/backend/redispg"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

// ownCluster starts a Redis Cluster of its own (3 masters, 3 replicas, on
// free ports, data in a temporary folder) with .ci/redis-cluster.sh, for a
// test that kills its nodes, and returns its seed addresses.
func ownCluster(t *testing.T) []string {
	t.Helper()
	needRedisServer(t)
	script, err := filepath.Abs("../../../.ci/redis-cluster.sh")
	if err != nil {
		t.Fatal(err)
	}
	first := freeClusterPorts(t)
	env := append(os.Environ(), "WAITROOM_CLUSTER_PORT="+strconv.Itoa(first), "WAITROOM_CLUSTER_DIR="+t.TempDir())
	run := func(arg string) (string, error) {
		cmd := exec.Command(script, arg)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	t.Cleanup(func() {
		if out, err := run("stop"); err != nil {
			t.Errorf("stopping the test's cluster: %v\n%s", err, out)
		}
	})
	if out, err := run("start"); err != nil {
		t.Fatalf("starting a Redis Cluster: %v\n%s", err, out)
	}
	addrs, err := run("addrs")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(addrs[strings.LastIndex(addrs, "\n")+1:], ",")
}

// freeClusterPorts finds six consecutive free ports whose cluster bus
// ports (+10000) are free too.
func freeClusterPorts(t *testing.T) int {
	free := func(port int) bool {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			return false
		}
		ln.Close()
		return true
	}
	for range 50 {
		first := 7200 + 10*rand.IntN(70)
		ok := true
		for p := first; p < first+6 && ok; p++ {
			ok = free(p) && free(p+10000)
		}
		if ok {
			return first
		}
	}
	t.Fatal("no six free ports for a Redis Cluster")
	return 0
}

// keySlot is the cluster slot of key.
func keySlot(t *testing.T, addrs []string, key string) int64 {
	t.Helper()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer c.Close()
	slot, err := c.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	return slot
}

// slotMaster returns the address of the master serving slot, as the first
// node of addrs that answers sees it.
func slotMaster(ctx context.Context, addrs []string, slot int64) (string, error) {
	err := fmt.Errorf("no node answers")
	for _, addr := range addrs {
		n := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
		var shards []redis.ClusterShard
		shards, err = n.ClusterShards(ctx).Result()
		n.Close()
		if err != nil {
			continue
		}
		for _, sh := range shards {
			for _, r := range sh.Slots {
				if r.Start <= slot && slot <= r.End {
					return shardMaster(sh)
				}
			}
		}
		return "", fmt.Errorf("%s: slot %d has no master", addr, slot)
	}
	return "", err
}

func shardMaster(sh redis.ClusterShard) (string, error) {
	for _, node := range sh.Nodes {
		if node.Role == "master" {
			return fmt.Sprintf("%s:%d", node.IP, node.Port), nil
		}
	}
	return "", fmt.Errorf("shard without a master")
}

func killRedis(t *testing.T, addr string) {
	t.Helper()
	n := redis.NewClient(&redis.Options{Addr: addr})
	defer n.Close()
	info, err := n.Info(ctx, "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "process_id:"); ok {
			pid, _ := strconv.Atoi(v)
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no process id in INFO of %s", addr)
}

// TestClusterFailoverUnderLoad kills the Redis Cluster master that holds
// the test room while three store instances (as three server replicas)
// enqueue, poll, look up tickets, advance the serving counter and issue
// tokens. Its replica is promoted. Afterwards every acknowledged ticket is
// found at the position its caller heard, no position is held twice, no
// caller ever saw the serving counter move back, and once repaired the
// Redis counters agree with PostgreSQL (no increment applied twice or
// lost). The time without service is logged for docs/storage.md.
func TestClusterFailoverUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Redis Cluster and fails a master over (~15 s)")
	}
	t.Parallel()
	addrs := ownCluster(t)
	cfg := redispg.Config{DatabaseURL: testenv.Postgres(t), RedisURL: testenv.ClusterURL(strings.Join(addrs, ",")),
		RedisCluster: true, KeyPrefix: "failover:", MaxOpenConns: 8, Logger: slog.New(slog.DiscardHandler)}
	run, stores := newLoadRun(t, cfg, 3, "failover")
	slot := keySlot(t, addrs, stores[0].CountersKeyForTest(run.room))
	victim, err := slotMaster(ctx, addrs, slot)
	if err != nil {
		t.Fatal(err)
	}
	run.start()
	time.Sleep(2 * time.Second)
	killed := time.Now()
	killRedis(t, victim)
	promoted := waitPromotion(t, without(addrs, victim), slot, victim)
	t.Logf("killed master %s; %s took its slots after %v", victim, promoted.addr, promoted.at.Sub(killed).Round(time.Millisecond))
	time.Sleep(4 * time.Second)
	run.finish()
	run.report(t)
	checkAgainstPostgres(t, stores[0], run)
}

type promotion struct {
	addr string
	at   time.Time
}

func waitPromotion(t *testing.T, survivors []string, slot int64, victim string) promotion {
	t.Helper()
	var m string
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m, err = slotMaster(ctx, survivors, slot); err == nil && m != victim {
			return promotion{addr: m, at: time.Now()}
		}
	}
	t.Fatalf("no replica was promoted within 30 s: slot %d on %q, %v", slot, m, err)
	return promotion{}
}

func without(list []string, drop string) []string {
	var out []string
	for _, s := range list {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}
