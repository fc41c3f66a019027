// Package testenv gives tests their own piece of the PostgreSQL and Redis
// servers that run next to the test binary: a fresh schema per test, a
// unique key prefix per test, both removed at cleanup, so packages and
// tests run in parallel without seeing each other.
//
// Defaults are 127.0.0.1:5432 database "test" (trust auth), 127.0.0.1:6379,
// and for the tests that run on Redis Cluster too, the cluster of
// .ci/redis-cluster.sh on 127.0.0.1:7101-7106; WAITROOM_TEST_DATABASE_URL,
// WAITROOM_TEST_REDIS_URL and WAITROOM_TEST_REDIS_CLUSTER (comma-separated
// host:port seeds) override them. An unreachable server fails the test when
// CI=true and skips it, loudly, otherwise.
//
// It is a test helper for every package of the module (waitroom/, oidc/,
// cmd/, migrations/), which is why it is not internal; nothing outside
// tests imports it.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/lib/pq" // the PostgreSQL driver tests use
	"github.com/redis/go-redis/v9"
)

const (
	defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	defaultRedisURL    = "redis://127.0.0.1:6379/0"
	defaultCluster     = "127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103,127.0.0.1:7104,127.0.0.1:7105,127.0.0.1:7106"
	reachTimeout       = 3 * time.Second
)

// Postgres creates a schema of its own for t and returns a DSN whose
// search_path points at it. The schema is dropped when t ends.
func Postgres(t testing.TB) (dsn string) {
	t.Helper()
	base := envOr("WAITROOM_TEST_DATABASE_URL", defaultDatabaseURL)
	db, err := sql.Open("postgres", base)
	if err != nil {
		unreachable(t, "PostgreSQL", base, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), reachTimeout)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		unreachable(t, "PostgreSQL", base, err)
	}
	schema := "t_" + randomHex(8)
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		db.Close()
		t.Fatalf("testenv: create schema: %v", err)
	}
	t.Cleanup(func() {
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("testenv: drop schema %s: %v", schema, err)
		}
	})
	return withSearchPath(t, base, schema)
}

// withSearchPath adds search_path to a URL or key=value DSN; lib/pq sends
// unknown parameters to the server as run-time settings.
func withSearchPath(t testing.TB, dsn, schema string) string {
	if !strings.Contains(dsn, "://") {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("testenv: database url: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Redis returns the Redis URL (accepted by redis.ParseURL and by the
// redispg backend) and a key prefix unique to t. Every key under the prefix
// is deleted when t ends.
func Redis(t testing.TB) (addr, prefix string) {
	t.Helper()
	return RedisOf(t, Plain)
}

// RedisKind is a way of running Redis the tests cover.
type RedisKind struct {
	// Name names the subtests of this kind ("redis", "cluster").
	Name string
	// Cluster is set for Redis Cluster: the URL then lists the seed nodes
	// as redis://node1?addr=node2&addr=node3, as the redispg backend takes
	// them with RedisCluster set.
	Cluster bool
}

// The kinds of Redis the tests run on.
var (
	Plain   = RedisKind{Name: "redis"}
	Cluster = RedisKind{Name: "cluster", Cluster: true}
)

// RedisKinds lists every kind, for tests that loop over them.
func RedisKinds() []RedisKind { return []RedisKind{Plain, Cluster} }

// RedisOf is Redis on the given kind of server.
func RedisOf(t testing.TB, kind RedisKind) (addr, prefix string) {
	t.Helper()
	addr = envOr("WAITROOM_TEST_REDIS_URL", defaultRedisURL)
	if kind.Cluster {
		addr = ClusterURL(envOr("WAITROOM_TEST_REDIS_CLUSTER", defaultCluster))
	}
	what := "Redis"
	if kind.Cluster {
		what = clusterName
	}
	client, err := RedisClient(addr, kind.Cluster)
	if err != nil {
		unreachable(t, what, addr, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), reachTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		unreachable(t, what, addr, err)
	}
	prefix = "t:" + randomHex(8) + ":"
	t.Cleanup(func() {
		defer client.Close()
		if err := DeleteRedisPrefix(context.Background(), client, prefix); err != nil {
			t.Errorf("testenv: delete redis keys %s*: %v", prefix, err)
		}
	})
	return addr, prefix
}

// ClusterURL turns "host:port,host:port,..." into the seed URL
// redis://host:port?addr=host:port&... .
func ClusterURL(seeds string) string {
	list := strings.Split(seeds, ",")
	u := "redis://" + strings.TrimSpace(list[0])
	for i, s := range list[1:] {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		u += sep + "addr=" + url.QueryEscape(strings.TrimSpace(s))
	}
	return u
}

// RedisClient opens a client of addr (a plain Redis URL, or a cluster seed
// URL when cluster is set), for tests that reach into Redis.
func RedisClient(addr string, cluster bool) (redis.UniversalClient, error) {
	if cluster {
		opts, err := redis.ParseClusterURL(addr)
		if err != nil {
			return nil, err
		}
		return redis.NewClusterClient(opts), nil
	}
	opts, err := redis.ParseURL(addr)
	if err != nil {
		return nil, err
	}
	return redis.NewClient(opts), nil
}

// DeleteRedisPrefix deletes every key that starts with prefix (SCAN on
// every master, then DEL one key at a time so that it also works on Redis
// Cluster). Tests use it to simulate Redis losing its data.
func DeleteRedisPrefix(ctx context.Context, client redis.UniversalClient, prefix string) error {
	return eachNode(ctx, client, func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, escapeGlob(prefix)+"*", 500).Iterator()
		for iter.Next(ctx) {
			if err := c.Del(ctx, iter.Val()).Err(); err != nil {
				return err
			}
		}
		return iter.Err()
	})
}

// ScanKeys lists the keys matching the glob pattern, on every master of a
// cluster.
func ScanKeys(ctx context.Context, client redis.UniversalClient, pattern string) ([]string, error) {
	var mu sync.Mutex
	var keys []string
	err := eachNode(ctx, client, func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, pattern, 500).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			keys = append(keys, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	})
	return keys, err
}

// eachNode runs fn on the one server, or on every master of a cluster.
func eachNode(ctx context.Context, client redis.UniversalClient, fn func(context.Context, *redis.Client) error) error {
	switch c := client.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, fn)
	case *redis.Client:
		return fn(ctx, c)
	}
	return fmt.Errorf("testenv: unknown Redis client %T", client)
}

func escapeGlob(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)
	return r.Replace(s)
}

func unreachable(t testing.TB, what, addr string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("testenv: %s at %s is unreachable and CI=true: %v%s", what, redact(addr), err, hint(what))
	}
	t.Skipf("\n!!!!!!!! SKIPPED: %s at %s is unreachable (%v).%s\n!!!!!!!! Start it or set the WAITROOM_TEST_* override; with CI=true this fails.", what, redact(addr), err, hint(what))
}

const clusterName = "Redis Cluster"

func hint(what string) string {
	if what == clusterName {
		return " (start a Redis Cluster with .ci/redis-cluster.sh start, or set WAITROOM_TEST_REDIS_CLUSTER)"
	}
	return ""
}

// redact hides a password in a URL before it reaches test output.
func redact(addr string) string {
	u, err := url.Parse(addr)
	if err != nil || u.User == nil {
		return addr
	}
	return u.Redacted()
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
