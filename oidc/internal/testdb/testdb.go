// Package testdb gives the oidc tests their own PostgreSQL schema and
// Redis key prefix, removed when the test ends. It follows the rules of
// waitroom/internal/testenv (same environment variables, skip loudly
// unless CI=true), which Go's internal-package rule keeps out of reach of
// packages outside waitroom/.
package testdb

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

	_ "github.com/lib/pq" // PostgreSQL driver
	"github.com/redis/go-redis/v9"
)

const reach = 3 * time.Second

// Postgres returns a DSN whose search_path is a fresh schema for t.
func Postgres(t testing.TB) string {
	t.Helper()
	base := envOr("WAITROOM_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	db, err := sql.Open("postgres", base)
	if err != nil {
		unreachable(t, "PostgreSQL", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), reach)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		unreachable(t, "PostgreSQL", err)
	}
	schema := "oidc_" + randomHex()
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		db.Close()
		t.Fatalf("testdb: create schema: %v", err)
	}
	t.Cleanup(func() {
		defer db.Close()
		if _, err := db.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("testdb: drop schema: %v", err)
		}
	})
	if !strings.Contains(base, "://") {
		return base + " search_path=" + schema
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Redis returns the Redis URL and a key prefix for t; the keys are deleted
// when t ends.
func Redis(t testing.TB) (addr, prefix string) {
	t.Helper()
	addr = envOr("WAITROOM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
	opts, err := redis.ParseURL(addr)
	if err != nil {
		unreachable(t, "Redis", err)
	}
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), reach)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		unreachable(t, "Redis", err)
	}
	prefix = "t:oidc:" + randomHex() + ":"
	t.Cleanup(func() {
		defer c.Close()
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return addr, prefix
}

func unreachable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("testdb: %s unreachable and CI=true: %v", what, err)
	}
	t.Skipf("\n!!!!!!!! SKIPPED: %s is unreachable (%v); with CI=true this fails.", what, err)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func randomHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
