// Package testenv gives tests their own piece of the PostgreSQL and Redis
// servers that run next to the test binary: a fresh schema per test, a
// unique key prefix per test, both removed at cleanup, so packages and
// tests run in parallel without seeing each other.
//
// Defaults are 127.0.0.1:5432 database "test" (trust auth) and
// 127.0.0.1:6379; WAITROOM_TEST_DATABASE_URL and WAITROOM_TEST_REDIS_URL
// override them. An unreachable server fails the test when CI=true and
// skips it, loudly, otherwise.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq" // the PostgreSQL driver tests use
	"github.com/redis/go-redis/v9"
)

const (
	defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	defaultRedisURL    = "redis://127.0.0.1:6379/0"
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
	addr = envOr("WAITROOM_TEST_REDIS_URL", defaultRedisURL)
	opts, err := redis.ParseURL(addr)
	if err != nil {
		unreachable(t, "Redis", addr, err)
	}
	client := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), reachTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		unreachable(t, "Redis", addr, err)
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

// DeleteRedisPrefix deletes every key that starts with prefix (SCAN, then
// DEL one key at a time so that it also works on Redis Cluster). Tests use
// it to simulate Redis losing its data.
func DeleteRedisPrefix(ctx context.Context, client redis.UniversalClient, prefix string) error {
	match := escapeGlob(prefix) + "*"
	del := func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, match, 500).Iterator()
		for iter.Next(ctx) {
			if err := c.Del(ctx, iter.Val()).Err(); err != nil {
				return err
			}
		}
		return iter.Err()
	}
	if cc, ok := client.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, del)
	}
	if c, ok := client.(*redis.Client); ok {
		return del(ctx, c)
	}
	return nil
}

func escapeGlob(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)
	return r.Replace(s)
}

func unreachable(t testing.TB, what, addr string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("testenv: %s at %s is unreachable and CI=true: %v", what, redact(addr), err)
	}
	t.Skipf("\n!!!!!!!! SKIPPED: %s at %s is unreachable (%v).\n!!!!!!!! Start it or set the WAITROOM_TEST_*_URL override; with CI=true this fails.", what, redact(addr), err)
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
