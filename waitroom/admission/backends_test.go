package admission

import (
	"context"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/embedded"
	"github.com/waitroom-idp/waitroom/waitroom/backend/redispg"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

// backend opens a fresh queue core on one storage backend, driven by clock.
type backend struct {
	name string
	open func(t *testing.T, clock func() time.Time) env
}

// env is one opened backend: the queue core, its store, a lease and a
// pre-queue store on the same backing services.
type env struct {
	svc      *waitroom.Service
	store    waitroom.Store
	lease    Lease
	prequeue PrequeueStore
	// lapse ends the current lease at once, as its TTL running out would
	// (the fake clock does it for the in-memory lease; a real Redis needs
	// the key removed).
	lapse func()
	// crowd is the size of the big tests on this backend.
	prequeueSize int
}

// backends lists every backend the strategy tests run on.
func backends() []backend {
	return []backend{{name: "embedded", open: openEmbedded}, {name: "redispg", open: openRedisPG}}
}

func openEmbedded(t *testing.T, clock func() time.Time) env {
	st, err := embedded.New(embedded.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return env{svc: newService(t, st, clock), store: st, lease: NewMemoryLease(clock), prequeue: NewMemoryPrequeue(),
		lapse: func() {}, prequeueSize: 10000}
}

func openRedisPG(t *testing.T, clock func() time.Time) env {
	dsn := testenv.Postgres(t)
	addr, prefix := testenv.Redis(t)
	st, err := redispg.Open(context.Background(), redispg.Config{DatabaseURL: dsn, RedisURL: addr, KeyPrefix: prefix, MaxOpenConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	lapse := func() {
		if err := st.Redis().Del(context.Background(), prefix+"lease:{admission}").Err(); err != nil {
			t.Fatal(err)
		}
	}
	return env{svc: newService(t, st, clock), store: st, lease: st.Lease("admission"), prequeue: st.Prequeue(),
		lapse: lapse, prequeueSize: 400}
}

func newService(t *testing.T, st waitroom.Store, clock func() time.Time) *waitroom.Service {
	keys, err := waitroom.LoadKeys(context.Background(), st, waitroom.KeyOptions{Algorithm: "ES256", Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return waitroom.NewService(st, keys, waitroom.Options{Clock: clock, RoomCacheTTL: time.Second})
}
