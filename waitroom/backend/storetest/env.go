package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// Clock is a fake clock the suite travels with.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at a fixed whole second (backends may store
// times with microsecond precision only).
func NewClock() *Clock {
	return &Clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// env is one test's backend plus a Service over it on a fake clock.
type env struct {
	t     testing.TB
	ctx   context.Context
	inst  Instance
	store waitroom.Store
	clock *Clock
	keys  *waitroom.Keys
	svc   *waitroom.Service
}

var roomSeq atomic.Int64

// newEnv opens the backend and builds an ES256 Service (fast key
// generation); tests about RS256 ask for it with newEnvAlg.
func newEnv(t *testing.T, b Backend) *env {
	return newEnvAlg(t, b, "ES256")
}

func newEnvAlg(t *testing.T, b Backend, alg string) *env {
	t.Helper()
	inst := b.Open(t)
	return envFor(t, inst, alg)
}

func envFor(t testing.TB, inst Instance, alg string) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), inst: inst, store: inst.Store, clock: NewClock()}
	keys, err := waitroom.LoadKeys(e.ctx, inst.Store, waitroom.KeyOptions{Algorithm: alg, Clock: e.clock.Now})
	if err != nil {
		t.Fatalf("LoadKeys: %v", err)
	}
	e.keys = keys
	e.svc = waitroom.NewService(inst.Store, keys, waitroom.Options{Clock: e.clock.Now})
	return e
}

// another returns a second Service over another store instance of the same
// backing state (or the same store for single-process backends).
func (e *env) another(t *testing.T) *waitroom.Service {
	st := e.store
	if e.inst.Another != nil {
		st = e.inst.Another(t).Store
	}
	return waitroom.NewService(st, e.keys, waitroom.Options{Clock: e.clock.Now})
}

// anotherStore returns another store over the same backing state.
func (e *env) anotherStore(t *testing.T) waitroom.Store {
	if e.inst.Another != nil {
		return e.inst.Another(t).Store
	}
	return e.store
}

// newRoom creates a room with the default settings changed by edit.
func (e *env) newRoom(edit ...func(*waitroom.Room)) waitroom.Room {
	e.t.Helper()
	r := waitroom.NewRoom(fmt.Sprintf("room-%d", roomSeq.Add(1)), "Test room")
	for _, fn := range edit {
		fn(&r)
	}
	r, err := e.svc.CreateRoom(e.ctx, r)
	if err != nil {
		e.t.Fatalf("CreateRoom: %v", err)
	}
	return r
}

func (e *env) enqueue(room string) waitroom.Ticket {
	e.t.Helper()
	tk, err := e.svc.Enqueue(e.ctx, room, "")
	if err != nil {
		e.t.Fatalf("Enqueue: %v", err)
	}
	return tk
}

func (e *env) enqueueN(room string, n int) []waitroom.Ticket {
	e.t.Helper()
	out := make([]waitroom.Ticket, n)
	for i := range out {
		out[i] = e.enqueue(room)
	}
	return out
}

func (e *env) setServing(room string, v int64) {
	e.t.Helper()
	if _, err := e.svc.SetServing(e.ctx, room, v); err != nil {
		e.t.Fatalf("SetServing: %v", err)
	}
}

func (e *env) issue(room, id string) waitroom.Tokens {
	e.t.Helper()
	tk, err := e.svc.IssueToken(e.ctx, room, id, "https://issuer.test", 0)
	if err != nil {
		e.t.Fatalf("IssueToken: %v", err)
	}
	return tk
}

func (e *env) counters(room string) waitroom.Counters {
	e.t.Helper()
	c, err := e.svc.Counters(e.ctx, room)
	if err != nil {
		e.t.Fatalf("Counters: %v", err)
	}
	return c
}

// wantCode fails unless err carries code.
func wantCode(t testing.TB, err error, code waitroom.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	if got := waitroom.ErrorCode(err); got != code {
		t.Fatalf("got error %v (code %s), want code %s", err, got, code)
	}
}

func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// isCode reports whether err carries code.
func isCode(err error, code waitroom.Code) bool {
	var we *waitroom.Error
	return errors.As(err, &we) && we.Code == code
}
