package webhook

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/backendtest"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

const secret = "0123456789abcdef-secret"

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// outboxes are the backends' outboxes the dispatcher is tested on; reopen
// opens the outbox again over the same state, as a restarted server would
// (nil for the embedded backend, which keeps nothing across a restart).
var outboxes = []struct {
	name string
	open func(t *testing.T) (first waitroom.Outbox, reopen func() waitroom.Outbox)
}{
	{"embedded", func(t *testing.T) (waitroom.Outbox, func() waitroom.Outbox) {
		return backendtest.Embedded(t, nil).Outbox, nil
	}},
	{"redispg", func(t *testing.T) (waitroom.Outbox, func() waitroom.Outbox) {
		inst := backendtest.RedisPG(t, nil)
		return inst.Outbox, func() waitroom.Outbox { return inst.Another(t).Outbox }
	}},
}

func TestSignVerify(t *testing.T) {
	body := []byte(`{"id":"1"}`)
	h := Sign(secret, t0, body)
	if !strings.HasPrefix(h, "t=1772366400,v1=") {
		t.Fatalf("header %q", h)
	}
	if err := Verify(secret, h, body, t0.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	cases := map[string]error{
		"tampered body": Verify(secret, h, []byte(`{"id":"2"}`), t0, 5*time.Minute),
		"other secret":  Verify("another-secret-123", h, body, t0, 5*time.Minute),
	}
	for name, err := range cases {
		if err != ErrBadSignature {
			t.Errorf("%s: %v, want ErrBadSignature", name, err)
		}
	}
	if err := Verify(secret, h, body, t0.Add(10*time.Minute), 5*time.Minute); err != ErrStale {
		t.Errorf("replayed late: %v", err)
	}
	if err := Verify(secret, "v1=abc", body, t0, time.Minute); err != ErrMalformed {
		t.Errorf("no timestamp: %v", err)
	}
	rotated := "t=1772366400,v1=00," + strings.Split(h, ",")[1]
	if err := Verify(secret, rotated, body, t0, time.Minute); err != nil {
		t.Errorf("second v1 value ignored: %v", err)
	}
}

func TestExponentialBackoff(t *testing.T) {
	b := Exponential(time.Second, time.Minute)
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute}
	for i, w := range want {
		if got := b(i + 1); got != w {
			t.Errorf("attempt %d: %v, want %v", i+1, got, w)
		}
	}
}

// receiver is a local webhook endpoint that verifies signatures and can be
// told to fail.
type receiver struct {
	t       *testing.T
	clock   func() time.Time
	mu      sync.Mutex
	failFor map[string]int // event id -> remaining 500s
	failAll bool
	got     []Event
	hits    int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.hits++
	if err := Verify(secret, r.Header.Get(SignatureHeader), body, rc.clock(), 5*time.Minute); err != nil {
		rc.t.Errorf("receiver: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID != r.Header.Get(EventIDHeader) || ev.Type != r.Header.Get(EventTypeHeader) {
		rc.t.Errorf("receiver: body %s, headers %v", body, r.Header)
	}
	if rc.failAll || rc.failFor[ev.ID] > 0 {
		rc.failFor[ev.ID]--
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	rc.got = append(rc.got, ev)
}

func (rc *receiver) events() []Event {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Event(nil), rc.got...)
}

func setup(t *testing.T, ob waitroom.Outbox) (*Dispatcher, *receiver, *testenv.Clock, waitroom.Room) {
	clk := testenv.NewClock(t0)
	rc := &receiver{t: t, clock: clk.Now, failFor: map[string]int{}}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	room := waitroom.NewRoom("hooks", "Hooks")
	room.Webhooks = []waitroom.Webhook{{URL: srv.URL + "/hook", Secret: secret}}
	d := newDispatcher(ob, room, clk)
	return d, rc, clk, room
}

func newDispatcher(ob waitroom.Outbox, room waitroom.Room, clk *testenv.Clock) *Dispatcher {
	return NewDispatcher(Config{Outbox: ob, Clock: clk.Now, MaxAttempts: 4,
		Logger: slog.New(slog.DiscardHandler),
		Rooms:  func(context.Context, string) (waitroom.Room, error) { return room, nil }})
}

// TestRetriesKeepOrder: the first event meets two 500s; the receiver still
// gets every event exactly in emission order, after the backoff.
func TestRetriesKeepOrder(t *testing.T) {
	for _, ob := range outboxes {
		t.Run(ob.name, func(t *testing.T) {
			ctx := context.Background()
			box, _ := ob.open(t)
			d, rc, clk, room := setup(t, box)
			for i := 0; i < 5; i++ {
				if err := d.Emit(ctx, room, "admitted", map[string]any{"n": i}); err != nil {
					t.Fatal(err)
				}
			}
			first, _ := box.Due(ctx, clk.Now(), 10)
			rc.failFor[first[0].EventID] = 2
			mustDrain(t, d)
			if n := len(rc.events()); n != 0 {
				t.Fatalf("%d events overtook the failing first one", n)
			}
			pending, _ := box.List(ctx, "hooks", waitroom.DeliveryPending, 10)
			if len(pending) != 5 {
				t.Fatalf("pending deliveries visible: %d, want 5", len(pending))
			}
			clk.Advance(time.Second) // first retry: 500 again
			mustDrain(t, d)
			clk.Advance(2 * time.Second) // second retry succeeds, the rest follow
			mustDrain(t, d)
			got := rc.events()
			if len(got) != 5 {
				t.Fatalf("delivered %d of 5", len(got))
			}
			for i, ev := range got {
				if ev.Detail["n"] != float64(i) || ev.Room != "hooks" || ev.Type != "admitted" {
					t.Fatalf("event %d out of order or wrong: %+v", i, ev)
				}
			}
		})
	}
}

// TestGivesUpVisibly: a receiver that always fails gets the delivery marked
// failed after MaxAttempts, visible in List; later events still flow.
func TestGivesUpVisibly(t *testing.T) {
	for _, ob := range outboxes {
		t.Run(ob.name, func(t *testing.T) {
			ctx := context.Background()
			box, _ := ob.open(t)
			d, rc, clk, room := setup(t, box)
			rc.failAll = true
			d.Emit(ctx, room, "ticket_created", nil)
			for i := 0; i < 10; i++ {
				mustDrain(t, d)
				clk.Advance(time.Hour)
			}
			failed, _ := box.List(ctx, "hooks", waitroom.DeliveryFailed, 10)
			if len(failed) != 1 || failed[0].Attempts != 4 || !strings.Contains(failed[0].LastError, "500") {
				t.Fatalf("failed deliveries: %+v", failed)
			}
			rc.failAll = false
			d.Emit(ctx, room, "ticket_created", nil)
			mustDrain(t, d)
			if len(rc.events()) != 1 {
				t.Fatal("a given-up delivery blocked the stream")
			}
		})
	}
}

// TestSurvivesRestart: events recorded while the receiver is down are
// delivered by a new dispatcher over the same outbox (a restarted server).
func TestSurvivesRestart(t *testing.T) {
	for _, ob := range outboxes {
		t.Run(ob.name, func(t *testing.T) {
			ctx := context.Background()
			box, reopen := ob.open(t)
			if reopen == nil {
				t.Skip("in-process outbox: nothing survives a restart by design")
			}
			d, rc, clk, room := setup(t, box)
			rc.failAll = true
			for i := 0; i < 3; i++ {
				d.Emit(ctx, room, "session_updated", map[string]any{"n": i})
			}
			mustDrain(t, d)
			rc.mu.Lock()
			rc.failAll = false
			rc.mu.Unlock()
			clk.Advance(time.Minute)
			d2 := newDispatcher(reopen(), room, clk)
			mustDrain(t, d2)
			if got := rc.events(); len(got) != 3 || got[0].Detail["n"] != 0.0 || got[2].Detail["n"] != 2.0 {
				t.Fatalf("after restart delivered %+v", got)
			}
		})
	}
}

// TestReceiverDownDoesNotBlockEmit: recording an event never talks to the
// receiver.
func TestReceiverDownDoesNotBlockEmit(t *testing.T) {
	clk := testenv.NewClock(t0)
	room := waitroom.NewRoom("hooks", "Hooks")
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	room.Webhooks = []waitroom.Webhook{{URL: srv.URL, Secret: secret, Events: []string{"admitted"}}}
	box := backendtest.Embedded(t, nil).Outbox
	d := newDispatcher(box, room, clk)
	for i := 0; i < 100; i++ {
		if err := d.Emit(context.Background(), room, "admitted", nil); err != nil {
			t.Fatal(err)
		}
	}
	d.Emit(context.Background(), room, "ticket_created", nil) // not subscribed
	if all, _ := box.List(context.Background(), "hooks", "", 1000); len(all) != 100 {
		t.Fatalf("outbox holds %d, want the 100 subscribed events", len(all))
	}
}

func mustDrain(t *testing.T, d *Dispatcher) {
	t.Helper()
	if err := d.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
}
