package redispg_test

import (
	"context"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/waitroom-idp/waitroom/waitroom/backend/backendtest"
	"github.com/waitroom-idp/waitroom/waitroom/backend/redispg"
	"github.com/waitroom-idp/waitroom/waitroom/backend/storetest"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

// backend is one test's PostgreSQL schema and Redis prefix; every store it
// opens shares them, like server replicas.
type backend struct {
	cfg redispg.Config
}

func newBackend(tb testing.TB) backend { return newBackendOn(tb, testenv.Plain) }

// newBackendOn is newBackend on the given kind of Redis.
func newBackendOn(tb testing.TB, kind testenv.RedisKind) backend {
	return backend{cfg: backendtest.RedisPGConfigOn(tb, kind)}
}

// onEveryRedis runs fn as a subtest per kind of Redis (plain, cluster), in
// parallel.
func onEveryRedis(t *testing.T, fn func(t *testing.T, kind testenv.RedisKind)) {
	for _, kind := range testenv.RedisKinds() {
		t.Run(kind.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, kind)
		})
	}
}

func (b backend) open(tb testing.TB) *redispg.Store {
	tb.Helper()
	s, err := redispg.OpenStore(context.Background(), b.cfg)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func (b backend) instance(tb testing.TB) storetest.Instance {
	return backendtest.RedisPGInstance(tb, b.cfg)
}

// quietRedis drops go-redis' own log lines (dial failures in the outage
// tests); the store reports what matters through its errors.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	redis.SetLogger(quietRedis{})
	os.Exit(m.Run())
}

func TestConformance(t *testing.T) {
	onEveryRedis(t, func(t *testing.T, kind testenv.RedisKind) {
		storetest.Run(t, storetest.Backend{Open: func(t *testing.T) storetest.Instance {
			return newBackendOn(t, kind).instance(t)
		}})
	})
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) storetest.Instance { return newBackend(b).instance(b) })
}
