package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The server tests need a PostgreSQL schema and a Redis key prefix of their
// own, as waitroom/internal/testenv gives the packages under waitroom/ (an
// internal package cannot be imported from cmd/). Same servers, same
// overrides, same rule: unreachable fails under CI=true and skips loudly
// otherwise.

func testPostgres(t *testing.T) string {
	t.Helper()
	base := envOr("WAITROOM_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	db, err := sql.Open("postgres", base)
	if err != nil {
		unreachable(t, "PostgreSQL", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		unreachable(t, "PostgreSQL", err)
	}
	schema := "t_" + randomHex()
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		defer db.Close()
		if _, err := db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func testRedis(t *testing.T) (addr, prefix string) {
	t.Helper()
	addr = envOr("WAITROOM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
	opts, err := redis.ParseURL(addr)
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		unreachable(t, "Redis", err)
	}
	prefix = "t:" + randomHex() + ":"
	t.Cleanup(func() {
		defer client.Close()
		ctx := context.Background()
		iter := client.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
	})
	return addr, prefix
}

func unreachable(t *testing.T, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is unreachable and CI=true: %v", what, err)
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
