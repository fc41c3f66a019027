package roompage_test

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/admission"
	"github.com/waitroom-idp/waitroom/waitroom/backend/backendtest"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
	"github.com/waitroom-idp/waitroom/waitroom/transport/roompage"
)

// TestEstimateHoldsTheTrueWait runs sales on a fake clock: the real
// admission engine lets a crowd in at a room's pace while the visitors'
// pages poll every five seconds, as room.js does. Each estimate a page
// shows is checked, once its visitor is in, against the wait they really
// had: the range must hold it at least 90% of the time, and the expected
// wait (the middle the page shows as a clock time) be off by at most 25%
// in the median estimate. Errors are relative to the true wait, or to 15 s
// for the last seconds of a wait, where one tick's rounding is all there
// is.
//
// A max-active room's sessions end at random (exponential, a minute on
// average, so ten sessions let ten a minute in); a manual room's operator
// lets 15 to 25 in every 90 to 150 s. Their pace is measured, so each runs
// with several seeds, pooled: one seed's run of bad luck is not the
// estimator's fault, a bias across them is.
func TestEstimateHoldsTheTrueWait(t *testing.T) {
	for _, sc := range []sale{
		{name: "rate", inlet: waitroom.Inlet{Strategy: waitroom.StrategyRate, PerMinute: 12}, seeds: 1},
		{name: "rate-fast", inlet: waitroom.Inlet{Strategy: waitroom.StrategyRate, PerMinute: 300}, crowd: 900, trickle: 120, seeds: 1},
		{name: "max_active", inlet: waitroom.Inlet{Strategy: waitroom.StrategyMaxActive, MaxActive: 10}, hold: time.Minute, seeds: 3},
		{name: "manual", clicks: clicks{size: [2]int64{15, 25}, every: [2]time.Duration{90 * time.Second, 150 * time.Second}}, seeds: 3},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			var all outcome
			for seed := range uint64(sc.seeds) {
				got := sc.run(t, seed)
				t.Logf("seed %d: %s", seed, got)
				all.add(got)
			}
			t.Logf("pooled: %s", all)
			if len(all.errs) < 1000 {
				t.Fatalf("only %d estimates: the sale did not run", len(all.errs))
			}
			if h := all.heldShare(); h < 0.9 {
				t.Errorf("the range held the true wait %.1f%% of the time, want at least 90%%", 100*h)
			}
			if e := all.medianError(); e > 0.25 {
				t.Errorf("the expected wait was off by %.0f%% in the median estimate, want at most 25%%", 100*e)
			}
		})
	}
}

// clicks is an operator moving a manual room: size admissions at a time,
// every so often.
type clicks struct {
	size  [2]int64
	every [2]time.Duration
}

// sale is one simulated sale: a crowd arriving in the first minute, then
// a trickle for five minutes, let in by the room's inlet or an operator.
type sale struct {
	name    string
	inlet   waitroom.Inlet
	clicks  clicks
	hold    time.Duration // an admitted visitor's average stay (max_active)
	crowd   int           // arrivals in the first minute (default 300)
	trickle int           // arrivals a minute after that (default 4)
	seeds   int
}

// outcome is how a sale's estimates fared: per estimate, whether the
// range held the true wait and how far off the expected wait was.
type outcome struct {
	held int
	errs []float64
}

func (o *outcome) add(p outcome) { o.held += p.held; o.errs = append(o.errs, p.errs...) }

func (o outcome) heldShare() float64 { return float64(o.held) / float64(max(len(o.errs), 1)) }

func (o outcome) medianError() float64 {
	if len(o.errs) == 0 {
		return math.Inf(1)
	}
	e := slices.Clone(o.errs)
	slices.Sort(e)
	return e[len(e)/2]
}

func (o outcome) String() string {
	return fmt.Sprintf("%d estimates, range held the true wait %.1f%%, median error %.0f%%",
		len(o.errs), 100*o.heldShare(), 100*o.medianError())
}

type estimate struct {
	at       time.Time
	lo, hi   time.Duration
	expected time.Duration
	visitor  int
}

type person struct {
	ticket     waitroom.Ticket
	arrived    time.Time
	admittedAt time.Time
	leaveAt    time.Time
	left       bool
}

func (sc sale) run(t *testing.T, seed uint64) outcome {
	ctx := context.Background()
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	clock := testenv.NewClock(t0)
	inst := backendtest.Embedded(t, clock.Now)
	keys, err := waitroom.LoadKeys(ctx, inst.Store, waitroom.KeyOptions{Algorithm: "ES256", Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	svc := waitroom.NewService(inst.Store, keys, waitroom.Options{Clock: clock.Now})
	room := waitroom.NewRoom("sale", "Sale")
	room.Inlet = sc.inlet
	room.ExpiryEnabled = false
	if room, err = svc.CreateRoom(ctx, room); err != nil {
		t.Fatal(err)
	}
	engine := admission.NewEngine(admission.Config{Core: svc, Lease: inst.Lease("admission"), Holder: "solo",
		Clock: clock.Now, Logger: slog.New(slog.DiscardHandler)})
	page, err := roompage.New(roompage.Options{Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	crowd, trickle := cmp.Or(sc.crowd, 300), cmp.Or(sc.trickle, 4)
	rng := rand.New(rand.NewPCG(seed, 1))
	req := httptest.NewRequest("GET", "/queue/sale/status", nil)

	var people []*person
	var estimates []estimate
	due := 0.0
	nextClick := t0.Add(sc.clicks.every[0])
	for sec := 0; ; sec++ {
		if sec > 6*3600 {
			t.Fatal("the sale never ended")
		}
		now := t0.Add(time.Duration(sec) * time.Second)
		clock.Set(now)
		switch {
		case sec < 60:
			due += float64(crowd) / 60
		case sec < 6*60:
			due += float64(trickle) / 60
		}
		for ; due >= 1; due-- {
			tk, err := svc.Enqueue(ctx, room.ID, "")
			if err != nil {
				t.Fatal(err)
			}
			people = append(people, &person{ticket: tk, arrived: now})
		}
		if err := engine.Tick(ctx, now); err != nil {
			t.Fatal(err)
		}
		if sc.clicks.every[0] > 0 && !now.Before(nextClick) {
			by := sc.clicks.size[0] + rng.Int64N(sc.clicks.size[1]-sc.clicks.size[0]+1)
			if _, err := svc.AdvanceServing(ctx, room.ID, by); err != nil {
				t.Fatal(err)
			}
			nextClick = now.Add(sc.clicks.every[0] + time.Duration(rng.Int64N(int64(sc.clicks.every[1]-sc.clicks.every[0]))))
		}
		c, err := svc.Counters(ctx, room.ID)
		if err != nil {
			t.Fatal(err)
		}
		waiting := 0
		for i, p := range people {
			switch {
			case p.admittedAt.IsZero() && c.Serving >= p.ticket.Position:
				// In: the visitor takes their token (a session, in the
				// max-active room, which they end after a while).
				p.admittedAt = now
				if _, err := svc.Admit(ctx, room.ID, p.ticket.ID, "https://idp.test"); err != nil {
					t.Fatal(err)
				}
				if sc.hold > 0 {
					p.leaveAt = now.Add(time.Duration(rng.ExpFloat64() * float64(sc.hold)))
				}
			case p.admittedAt.IsZero():
				waiting++
				if i%2 == 1 || int(now.Sub(p.arrived).Seconds())%5 != 0 {
					continue // every other visitor watches the page, which polls every 5 s
				}
				s := page.Status(req, roompage.Visit{RoomID: room.ID, Position: p.ticket.Position, Serving: c.Serving,
					Queue: c.Queue, Pace: admission.RoomPace(room, now, 0)})
				if w := s.EstimatedWait; w != nil {
					estimates = append(estimates, estimate{at: now, visitor: i, expected: w.Expected(),
						lo: time.Duration(w.MinSeconds) * time.Second, hi: time.Duration(w.MaxSeconds) * time.Second})
				}
			case !p.left && !p.leaveAt.IsZero() && !now.Before(p.leaveAt):
				p.left = true
				if err := svc.UpdateSession(ctx, room.ID, p.ticket.ID, waitroom.SessionCompleted); err != nil {
					t.Fatal(err)
				}
			}
		}
		if waiting == 0 && sec > 6*60 {
			break
		}
	}
	var got outcome
	for _, e := range estimates {
		truth := people[e.visitor].admittedAt.Sub(e.at)
		if e.lo <= truth && truth <= e.hi+time.Second { // the page rounds the range outwards to the second
			got.held++
		}
		got.errs = append(got.errs, math.Abs(float64(e.expected-truth))/float64(max(truth, 15*time.Second)))
	}
	return got
}
