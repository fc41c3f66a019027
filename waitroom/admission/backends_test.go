package admission

import (
	"context"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/embedded"
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
}

// backends lists every backend the strategy tests run on.
func backends() []backend {
	return append([]backend{{name: "embedded", open: openEmbedded}}, extraBackends...)
}

// extraBackends is filled by the files that wire production backends.
var extraBackends []backend

func openEmbedded(t *testing.T, clock func() time.Time) env {
	st, err := embedded.New(embedded.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return env{svc: newService(t, st, clock), store: st, lease: NewMemoryLease(clock), prequeue: NewMemoryPrequeue()}
}

func newService(t *testing.T, st waitroom.Store, clock func() time.Time) *waitroom.Service {
	keys, err := waitroom.LoadKeys(context.Background(), st, waitroom.KeyOptions{Algorithm: "ES256", Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return waitroom.NewService(st, keys, waitroom.Options{Clock: clock, RoomCacheTTL: time.Nanosecond})
}
