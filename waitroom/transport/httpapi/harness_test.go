package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/backendtest"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
	"github.com/waitroom-idp/waitroom/waitroom/transport/httpapi"
)

func newTestClock() *testenv.Clock {
	return testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}

// backend opens a fresh, empty store for one test.
type backend struct {
	name string
	open func(t testing.TB, clock *testenv.Clock) (waitroom.Store, waitroom.Ephemeral)
}

// backends are the stores every API test runs against: the embedded store
// and the production Redis + PostgreSQL backend.
var backends = func() []backend {
	var out []backend
	for _, f := range backendtest.All() {
		out = append(out, backend{name: f.Name, open: func(t testing.TB, clock *testenv.Clock) (waitroom.Store, waitroom.Ephemeral) {
			inst := f.Open(t, clock.Now)
			return inst.Store, inst.Ephemeral
		}})
	}
	return out
}()

// forEachBackend runs fn once per backend, in parallel sub-tests.
func forEachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b)
		})
	}
}

const (
	testAdminKey  = "test-admin-key-0123456789"
	testViewerKey = "test-viewer-key-0123456789"
)

const testIssuer = "https://queue.example.com"

// env is a service and both APIs over one backend.
type env struct {
	t      testing.TB
	clock  *testenv.Clock
	store  *faultyStore
	eph    waitroom.Ephemeral
	svc    *waitroom.Service
	keys   *waitroom.Keys
	api    *httpapi.API
	public http.Handler
	admin  http.Handler
}

func newEnv(t testing.TB, b backend, configure ...func(*httpapi.Options)) *env {
	t.Helper()
	clock := newTestClock()
	store, eph := b.open(t, clock)
	faulty := &faultyStore{Store: store}
	ctx := context.Background()
	keys, err := waitroom.LoadKeys(ctx, faulty, waitroom.KeyOptions{Algorithm: "ES256", Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	svc := waitroom.NewService(faulty, keys, waitroom.Options{Clock: clock.Now, RoomCacheTTL: time.Nanosecond, Logger: quietLogger()})
	opts := httpapi.Options{
		Service: svc,
		Keys:    keys,
		Ready:   faulty.Ping,
		Issuer:  testIssuer,
		Logger:  quietLogger(),
		AdminKeys: mustAdminKeys(t, "ops:"+httpapi.HashAdminKey(testAdminKey),
			"watcher:"+httpapi.HashAdminKey(testViewerKey)+":viewer"),
		RateCounter: eph,
		Now:         clock.Now,
	}
	for _, c := range configure {
		c(&opts)
	}
	api, err := httpapi.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, clock: clock, store: faulty, eph: eph, svc: svc, keys: keys, api: api,
		public: api.PublicHandler(), admin: api.AdminHandler()}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// room creates a room with default settings changed by mutate.
func (e *env) room(id string, mutate ...func(*waitroom.Room)) waitroom.Room {
	e.t.Helper()
	r := waitroom.NewRoom(id, "Room "+id)
	for _, m := range mutate {
		m(&r)
	}
	r, err := e.svc.CreateRoom(context.Background(), r)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// enqueue takes a place through the service.
func (e *env) enqueue(room string) waitroom.Ticket {
	e.t.Helper()
	tk, err := e.svc.Enqueue(context.Background(), room, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return tk
}

func (e *env) serve(room string, upTo int64) {
	e.t.Helper()
	if _, err := e.svc.SetServing(context.Background(), room, upTo); err != nil {
		e.t.Fatal(err)
	}
}

// answer is a recorded HTTP answer.
type answer struct {
	*httptest.ResponseRecorder
	t testing.TB
}

func (a answer) json() map[string]any {
	a.t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.Body.Bytes(), &m); err != nil {
		a.t.Fatalf("answer is not a JSON object: %v: %s", err, a.Body)
	}
	return m
}

// expect checks the status, and for errors the JSON error shape, the
// error text and that nothing may be cached.
func (a answer) expect(status int, errorText string) answer {
	a.t.Helper()
	if a.Code != status {
		a.t.Fatalf("status %d, want %d: %s", a.Code, status, a.Body)
	}
	if ct := a.Header().Get("Content-Type"); status != http.StatusNoContent && !strings.HasPrefix(ct, "application/json") {
		a.t.Fatalf("Content-Type %q", ct)
	}
	if status >= 300 || status == http.StatusAccepted {
		if cc := a.Header().Get("Cache-Control"); cc != "no-store" {
			a.t.Fatalf("Cache-Control %q on a %d, want no-store", cc, status)
		}
		m := a.json()
		if m["code"] == "" || m["message"] == "" || m["error"] == nil {
			a.t.Fatalf("error body lacks error/code/message: %s", a.Body)
		}
		if errorText != "" && m["error"] != errorText {
			a.t.Fatalf("error %q, want %q (body %s)", m["error"], errorText, a.Body)
		}
	}
	return a
}

func (a answer) field(name string) any {
	a.t.Helper()
	return a.json()[name]
}

func (e *env) do(h http.Handler, method, target, body string, headers ...string) answer {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	req.RemoteAddr = "198.51.100.7:40000"
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return answer{rec, e.t}
}

func (e *env) get(target string, headers ...string) answer {
	return e.do(e.public, http.MethodGet, target, "", headers...)
}

func (e *env) post(target, body string, headers ...string) answer {
	return e.do(e.public, http.MethodPost, target, body, headers...)
}

// adminDo calls the admin API with the test admin key.
func (e *env) adminDo(method, target, body string) answer {
	return e.do(e.admin, method, target, body, "Authorization", "Bearer "+testAdminKey)
}

// faultyStore is the real store with a switch that makes it answer as an
// unreachable backend does (CodeUnavailable, with a driver-like cause that
// must never reach a client). Every Service call reads the room or the
// room list first, so failing those is enough.
type faultyStore struct {
	waitroom.Store
	down atomic.Bool
}

const secretCause = "dial tcp 10.9.8.7:5432: password=hunter2"

func unavailable() error {
	return waitroom.Wrap(waitroom.CodeUnavailable, errString(secretCause), "store unavailable")
}

func (f *faultyStore) UpdateRoom(ctx context.Context, id string, fn func(*waitroom.Room) error) (waitroom.Room, error) {
	if f.down.Load() {
		return waitroom.Room{}, unavailable()
	}
	return f.Store.UpdateRoom(ctx, id, fn)
}

func (f *faultyStore) DeleteRoom(ctx context.Context, id string) error {
	if f.down.Load() {
		return unavailable()
	}
	return f.Store.DeleteRoom(ctx, id)
}

func (f *faultyStore) Room(ctx context.Context, id string) (waitroom.Room, error) {
	if f.down.Load() {
		return waitroom.Room{}, unavailable()
	}
	return f.Store.Room(ctx, id)
}

func (f *faultyStore) Rooms(ctx context.Context) ([]waitroom.Room, error) {
	if f.down.Load() {
		return nil, unavailable()
	}
	return f.Store.Rooms(ctx)
}

func (f *faultyStore) CreateRoom(ctx context.Context, r waitroom.Room) error {
	if f.down.Load() {
		return unavailable()
	}
	return f.Store.CreateRoom(ctx, r)
}

func (f *faultyStore) Ping(ctx context.Context) error {
	if f.down.Load() {
		return errString(secretCause)
	}
	return f.Store.Ping(ctx)
}

type errString string

func (e errString) Error() string { return string(e) }

func mustAdminKeys(t testing.TB, hashes ...string) httpapi.AdminKeys {
	t.Helper()
	keys, err := httpapi.ParseAdminKeys(hashes)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}
