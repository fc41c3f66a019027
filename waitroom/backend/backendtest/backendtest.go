// Package backendtest opens every backend for tests: the embedded one and
// Redis + PostgreSQL (each test in its own schema and key prefix, skipped
// loudly, or failed under CI=true, when the servers are not running). The
// conformance suite (storetest) runs on both through it, and so do the
// tests of the packages above the backends, so that every layer is tested
// on the storage it runs on in production.
package backendtest

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/embedded"
	"github.com/waitroom-idp/waitroom/waitroom/backend/redispg"
	"github.com/waitroom-idp/waitroom/waitroom/backend/storetest"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

// Factory opens one backend for a test; clock drives the embedded
// backend's TTLs and leases (nil: time.Now).
type Factory struct {
	Name string
	Open func(t testing.TB, clock func() time.Time) storetest.Instance
}

// All lists every backend.
func All() []Factory {
	return []Factory{{Name: "embedded", Open: Embedded}, {Name: "redispg", Open: RedisPG}}
}

// ClusterFactory is the production backend on Redis Cluster, for the suites
// that run on both kinds of Redis.
func ClusterFactory() Factory { return Factory{Name: "redispg-cluster", Open: RedisPGCluster} }

// Suite is f as the conformance suite takes it.
func (f Factory) Suite() storetest.Backend {
	return storetest.Backend{Open: func(t *testing.T) storetest.Instance {
		clock := testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		inst := f.Open(t, clock.Now)
		if f.Name == "embedded" {
			inst.AdvanceEphemeral = clock.Advance
		}
		return inst
	}}
}

// Embedded opens an embedded backend with its key file in a temporary
// folder.
func Embedded(t testing.TB, clock func() time.Time) storetest.Instance {
	b, err := embedded.Open(embedded.Options{KeyFile: filepath.Join(t.TempDir(), "keys.json"), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return storetest.Instance{Backend: b}
}

// RedisPG opens the production backend on a schema and key prefix of the
// test's own; Another opens more replicas over the same state.
func RedisPG(t testing.TB, _ func() time.Time) storetest.Instance {
	cfg := RedisPGConfig(t)
	return RedisPGInstance(t, cfg)
}

// RedisPGCluster is RedisPG on Redis Cluster.
func RedisPGCluster(t testing.TB, _ func() time.Time) storetest.Instance {
	return RedisPGInstance(t, RedisPGConfigOn(t, testenv.Cluster))
}

// RedisPGConfig is the configuration of a fresh schema and key prefix.
func RedisPGConfig(t testing.TB) redispg.Config { return RedisPGConfigOn(t, testenv.Plain) }

// RedisPGConfigOn is RedisPGConfig on the given kind of Redis.
func RedisPGConfigOn(t testing.TB, kind testenv.RedisKind) redispg.Config {
	dsn := testenv.Postgres(t)
	addr, prefix := testenv.RedisOf(t, kind)
	return redispg.Config{DatabaseURL: dsn, RedisURL: addr, RedisCluster: kind.Cluster, KeyPrefix: prefix,
		MaxOpenConns: 4, Logger: slog.New(slog.DiscardHandler)}
}

// RedisPGInstance opens cfg as a test instance with its hooks.
func RedisPGInstance(t testing.TB, cfg redispg.Config) storetest.Instance {
	open := func(t testing.TB) *waitroom.Backend {
		b, err := redispg.Open(context.Background(), cfg)
		if err != nil {
			t.Fatalf("opening Redis + PostgreSQL: %v", err)
		}
		t.Cleanup(func() { _ = b.Store.Close() })
		return b
	}
	rdb := redisClient(t, cfg)
	return storetest.Instance{
		Backend: open(t),
		Another: open,
		LoseFastState: func(t *testing.T) {
			if err := testenv.DeleteRedisPrefix(context.Background(), rdb, cfg.KeyPrefix); err != nil {
				t.Fatal(err)
			}
		},
		// The lease's own key goes, as its TTL would make it go; its
		// fencing counter and claimed steps stay.
		LapseLease: func(t testing.TB, name string) {
			if err := rdb.Del(context.Background(), cfg.KeyPrefix+"lease:{"+name+"}").Err(); err != nil {
				t.Fatal(err)
			}
		},
	}
}

func redisClient(t testing.TB, cfg redispg.Config) redis.UniversalClient {
	c, err := testenv.RedisClient(cfg.RedisURL, cfg.RedisCluster)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
