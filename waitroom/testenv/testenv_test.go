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
	for _, kind := range RedisKinds() {
		t.Run(kind.Name, func(t *testing.T) {
			var prefix string
			var client redis.UniversalClient
			keys := []string{"a", "b{x}", "c*", "{room-1}:c"}
			t.Run("inner", func(t *testing.T) {
				var addr string
				addr, prefix = RedisOf(t, kind)
				var err error
				if client, err = RedisClient(addr, kind.Cluster); err != nil {
					t.Fatal(err)
				}
				for _, k := range keys {
					if err := client.Set(context.Background(), prefix+k, "1", 0).Err(); err != nil {
						t.Fatal(err)
					}
				}
			})
			if client == nil {
				t.Skip("the inner test found no server (it fails under CI=true)")
			}
			defer client.Close()
			for _, k := range keys {
				if n, err := client.Exists(context.Background(), prefix+k).Result(); err != nil || n != 0 {
					t.Fatalf("key %q left: %d %v", k, n, err)
				}
			}
		})
	}
}

func TestClusterURL(t *testing.T) {
	got := ClusterURL("127.0.0.1:7101, 127.0.0.1:7102,127.0.0.1:7103")
	want := "redis://127.0.0.1:7101?addr=127.0.0.1%3A7102&addr=127.0.0.1%3A7103"
	if got != want {
		t.Fatalf("ClusterURL = %q, want %q", got, want)
	}
	if _, err := RedisClient(got, true); err != nil {
		t.Fatalf("the cluster URL does not parse: %v", err)
	}
}
