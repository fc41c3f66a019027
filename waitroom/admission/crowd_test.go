package admission

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

// visitor is one simulated person in the crowd.
type visitor struct {
	id       string
	position int64
	kind     int // walkBefore, walkAfter, stays
	takeAt   time.Duration
	holdFor  time.Duration
	// state
	admittedAt time.Time
	tokenAt    time.Time
	done       bool
}

const (
	walkBefore = iota // never comes back once admitted: the position expires unused
	walkAfter         // takes a token, never completes: the token expires
	stays             // takes a token, completes (or logs out) after a while
)

// TestMaxActiveCrowd: a crowd where a third walks away (half before, half
// after admission) never pushes the room above M occupied slots, and the
// room still drains: every visitor who stays gets in.
func TestMaxActiveCrowd(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { t.Parallel(); runCrowd(t, b) })
	}
}

func runCrowd(t *testing.T, b backend) {
	ctx := context.Background()
	const crowd, maxActive = 240, 20
	clock := testenv.NewClock(t0)
	en := b.open(t, clock.Now)
	svc, lease := en.svc, en.lease
	room := waitroom.NewRoom("crowd", "Crowd")
	room.ExpiryPeriod = waitroom.Duration(30 * time.Second)
	room.TokenValidity = waitroom.Duration(45 * time.Second)
	room.Inlet = waitroom.Inlet{Strategy: waitroom.StrategyMaxActive, MaxActive: maxActive}
	if _, err := svc.CreateRoom(ctx, room); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	people := make([]*visitor, crowd)
	for i := range people {
		tk, err := svc.Enqueue(ctx, "crowd", "")
		if err != nil {
			t.Fatal(err)
		}
		kind := stays
		if i%3 == 0 {
			kind = walkBefore + (i/3)%2
		}
		people[i] = &visitor{id: tk.ID, position: tk.Position, kind: kind,
			takeAt: time.Duration(rng.IntN(5)) * time.Second, holdFor: time.Duration(3+rng.IntN(10)) * time.Second}
	}
	e := NewEngine(Config{Core: svc, Lease: lease, Holder: "solo", Clock: clock.Now, Logger: quiet,
		Expire:      func(ctx context.Context, room string) error { _, err := svc.ExpireRoom(ctx, room); return err },
		ExpireEvery: 5 * time.Second})
	var peak int64
	for sec := 0; ; sec++ {
		now := t0.Add(time.Duration(sec) * time.Second)
		clock.Set(now)
		if err := e.Tick(ctx, now); err != nil {
			t.Fatalf("t=%ds: %v", sec, err)
		}
		serving, err := svc.Serving(ctx, "crowd")
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range people {
			v.act(t, svc, serving, now)
		}
		snap := snapshotOf(t, svc)
		if snap.Active > maxActive || snap.Occupied() > maxActive {
			t.Fatalf("t=%ds: active %d, occupied %d > %d (counters %+v)", sec, snap.Active, snap.Occupied(), maxActive, snap.Counters)
		}
		peak = max(peak, snap.Occupied())
		if allDone(people) && snap.Active == 0 {
			if peak != maxActive {
				t.Fatalf("occupied slots peaked at %d, want the room filled to %d", peak, maxActive)
			}
			t.Logf("%s: drained %d visitors in %d simulated seconds; counters %+v", b.name, crowd, sec, snap.Counters)
			return
		}
		if sec > 4*3600 {
			t.Fatalf("room did not drain: counters %+v", snap.Counters)
		}
	}
}

func (v *visitor) act(t *testing.T, svc *waitroom.Service, serving int64, now time.Time) {
	ctx := context.Background()
	if v.done || serving < v.position {
		return
	}
	if v.admittedAt.IsZero() {
		v.admittedAt = now
	}
	switch {
	case v.kind == walkBefore:
		v.done = true
	case v.tokenAt.IsZero() && now.Sub(v.admittedAt) >= v.takeAt:
		if _, err := svc.IssueToken(ctx, "crowd", v.id, "https://wr.example", 0); err != nil {
			t.Fatalf("visitor %d admitted at serving %d: token: %v", v.position, serving, err)
		}
		v.tokenAt = now
		v.done = v.kind == walkAfter
	case !v.tokenAt.IsZero() && now.Sub(v.tokenAt) >= v.holdFor:
		if err := svc.UpdateSession(ctx, "crowd", v.id, waitroom.SessionCompleted); err != nil {
			t.Fatalf("visitor %d: complete: %v", v.position, err)
		}
		v.done = true
	}
}

func snapshotOf(t *testing.T, svc *waitroom.Service) Snapshot {
	ctx := context.Background()
	c, err := svc.Counters(ctx, "crowd")
	if err != nil {
		t.Fatal(err)
	}
	a, err := svc.ActiveTokens(ctx, "crowd")
	if err != nil {
		t.Fatal(err)
	}
	return Snapshot{Counters: c, Active: a}
}

func allDone(vs []*visitor) bool {
	for _, v := range vs {
		if !v.done {
			return false
		}
	}
	return true
}
