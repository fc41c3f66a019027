package admission

import (
	"context"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/backendtest"
	"github.com/waitroom-idp/waitroom/waitroom/backend/storetest"
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
	lease    waitroom.Lease
	prequeue waitroom.PrequeueStore
	// lapse ends the current lease at once, as its TTL running out would
	// (the fake clock does it for the in-memory lease; a real Redis needs
	// the key removed).
	lapse func()
	// crowd is the size of the big tests on this backend.
	prequeueSize int
}

// backends lists every backend the strategy tests run on.
func backends() []backend {
	var out []backend
	for _, f := range backendtest.All() {
		size := 400
		if f.Name == "embedded" {
			size = 10000
		}
		out = append(out, backend{name: f.Name, open: func(t *testing.T, clock func() time.Time) env {
			return envOf(t, f.Open(t, clock), clock, size)
		}})
	}
	return out
}

func envOf(t *testing.T, inst storetest.Instance, clock func() time.Time, size int) env {
	lapse := func() {}
	if inst.LapseLease != nil {
		lapse = func() { inst.LapseLease(t, "admission") }
	}
	return env{svc: newService(t, inst.Store, clock), store: inst.Store, lease: inst.Lease("admission"),
		prequeue: inst.Prequeue, lapse: lapse, prequeueSize: size}
}

func newService(t *testing.T, st waitroom.Store, clock func() time.Time) *waitroom.Service {
	keys, err := waitroom.LoadKeys(context.Background(), st, waitroom.KeyOptions{Algorithm: "ES256", Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return waitroom.NewService(st, keys, waitroom.Options{Clock: clock, RoomCacheTTL: time.Second})
}
