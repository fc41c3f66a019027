package testenv

import (
	"context"
	"database/sql"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestPostgresSchemaIsPrivate(t *testing.T) {
	var schema string
	t.Run("inner", func(t *testing.T) {
		db, err := sql.Open("postgres", Postgres(t))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`CREATE TABLE x (y int)`); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT current_schema()`).Scan(&schema); err != nil {
			t.Fatal(err)
		}
	})
	if schema == "" || schema == "public" {
		t.Fatalf("test ran in schema %q", schema)
	}
	db, err := sql.Open("postgres", defaultDatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	db.QueryRow(`SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1`, schema).Scan(&n)
	if n != 0 {
		t.Fatalf("schema %s survived cleanup", schema)
	}
}

func TestRedisKeysCleaned(t *testing.T) {
	var prefix string
	var client *redis.Client
	t.Run("inner", func(t *testing.T) {
		var addr string
		addr, prefix = Redis(t)
		opts, _ := redis.ParseURL(addr)
		client = redis.NewClient(opts)
		for _, k := range []string{"a", "b{x}", "c*"} {
			client.Set(context.Background(), prefix+k, "1", 0)
		}
	})
	defer client.Close()
	keys, err := client.Keys(context.Background(), escapeGlob(prefix)+"*").Result()
	if err != nil || len(keys) != 0 {
		t.Fatalf("keys left: %v %v", keys, err)
	}
}
