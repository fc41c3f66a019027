package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// Scenario is one kind of load. Op is one operation: a single request for
// a flood, one visitor's whole journey for a flow.
type Scenario struct {
	About string
	// PlainAbout replaces About against a provider without rooms.
	PlainAbout string
	Unit       string   // what an operation is: "requests" or "flows"
	Steps      []string // the requests it makes, each measured on its own
	// Prepare runs before the warm-up, unmeasured (pools, discovery).
	Prepare func(ctx context.Context, b *Bench) error
	Op      func(ctx context.Context, b *Bench, rec *Recorder) error
	// Background runs alongside the operations until ctx ends (admission).
	Background func(ctx context.Context, b *Bench)
}

// errExhausted ends a run early: the scenario used up what Prepare made
// (e.g. every pre-admitted ticket got its first token).
var errExhausted = errors.New("prepared pool used up")

// scenarios is every scenario by name; "depth" and "fill" are handled by
// Run (they fill the room; depth then runs depthScenarios).
var scenarios = map[string]Scenario{
	"queue-flow": {
		About: "assign → poll queue_num → poll serving_num (and now and then waiting_num) → generate_token, admitted through the admin API",
		Unit:  "flows", Steps: []string{stepAssign, stepQueueNum, stepServing, stepWaiting, stepToken, stepIncrement},
		Prepare:    func(ctx context.Context, b *Bench) error { return b.admit.start(ctx, b.scratch) },
		Op:         queueFlow,
		Background: func(ctx context.Context, b *Bench) { b.admit.run(ctx, b.current) },
	},
	"enqueue": {
		About: "POST /assign_queue_num", Unit: "requests", Steps: []string{stepAssign, stepChallenge},
		Prepare: prepareGate,
		Op: func(ctx context.Context, b *Bench, rec *Recorder) error {
			_, _, err := b.queue.Assign(ctx, rec)
			return err
		},
	},
	"poll": {
		About: "GET /serving_num", Unit: "requests", Steps: []string{stepServing},
		Op: func(ctx context.Context, b *Bench, rec *Recorder) error {
			_, err := b.queue.Serving(ctx, rec)
			return err
		},
	},
	"lookup": {
		About: "GET /queue_num of a known ticket (position lookup)", Unit: "requests", Steps: []string{stepQueueNum, stepAssign},
		Prepare: prepareLookup, Op: lookup,
	},
	"token": {
		About: "POST /generate_token, first issue for an admitted ticket", Unit: "requests", Steps: []string{stepToken, stepAssign, stepQueueNum, stepIncrement, stepServing},
		Prepare: prepareTokenPool, Op: firstToken,
	},
	"oidc-flow": {
		About:      "browser login with PKCE against a client with instant admission: authorize → room → admit → callback → token → userinfo",
		PlainAbout: "browser login with PKCE, no room: authorize → the provider's redirects (each timed as callback) → token → userinfo",
		Unit:       "flows", Steps: append([]string{stepDiscovery}, oidcSteps...),
		Prepare: func(ctx context.Context, b *Bench) error { return b.oidc.prepare(ctx, b.scratch) },
		Op: func(ctx context.Context, b *Bench, rec *Recorder) error {
			_, err := b.oidc.Flow(ctx, rec)
			return err
		},
		Background: func(ctx context.Context, b *Bench) { b.oidc.admitting(ctx, b) },
	},
	"userinfo": {
		About: "GET /userinfo with a bearer access token", Unit: "requests", Steps: []string{stepUserinfo},
		// The tokens come from logins before the run; should one of them
		// wait in the room, the admitter lets it in.
		Background: func(ctx context.Context, b *Bench) { b.oidc.admitting(ctx, b) },
		Prepare: func(ctx context.Context, b *Bench) error {
			if err := b.oidc.prepare(ctx, b.scratch); err != nil {
				return err
			}
			return b.oidc.prepareTokens(ctx, b.scratch, min(b.cfg.PoolSize, 100), min(b.cfg.PrefillConc, 8))
		},
		Op: func(ctx context.Context, b *Bench, rec *Recorder) error {
			return b.oidc.userinfo(ctx, rec, b.oidc.nextToken())
		},
	},
	"room-status": {
		About: "GET the room page's status JSON (/queue/{room}/status) as a browser holding a ticket", Unit: "requests",
		Steps: []string{stepStatus},
		Prepare: func(ctx context.Context, b *Bench) error {
			if err := b.oidc.prepare(ctx, b.scratch); err != nil {
				return err
			}
			return b.oidc.prepareBrowsers(ctx, b.scratch, min(b.cfg.PoolSize, 100), min(b.cfg.PrefillConc, 8))
		},
		Op: func(ctx context.Context, b *Bench, rec *Recorder) error { return b.oidc.pollStatus(ctx, rec) },
	},
	"get": {
		About: "GET -url with the -header lines, 200 expected (any HTTP service, e.g. a site behind a proxy with and without the gate)",
		Unit:  "requests", Steps: []string{stepGet},
		Op: getOne,
	},
	"depth": {
		About: "fill the room to -depth waiting tickets, then run " + fmt.Sprint(depthScenarios),
	},
	"fill": {
		About: "only fill the room to -depth waiting tickets (no measurement; bench.sh measures memory around it)",
	},
}

// depthScenarios are run after the room is filled by "depth".
var depthScenarios = []string{"enqueue", "poll", "lookup", "token"}

func scenarioNames() []string {
	names := make([]string, 0, len(scenarios))
	for n := range scenarios {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// queueFlow is one visitor of the AWS load test: enqueue, learn the
// position, poll until served, take the token. The position is always
// asked of /queue_num, as clients written for the AWS API do, even though
// waitroom's enqueue answer already carries it.
func queueFlow(ctx context.Context, b *Bench, rec *Recorder) error {
	id, _, err := b.queue.Assign(ctx, rec)
	if err != nil {
		return err
	}
	pos, err := awaitPosition(ctx, b, rec, id)
	if err != nil {
		return err
	}
	b.admit.queued(pos)
	if err := awaitServing(ctx, b, rec, pos); err != nil {
		return err
	}
	return awaitToken(ctx, b, rec, id)
}

func awaitPosition(ctx context.Context, b *Bench, rec *Recorder, id string) (int64, error) {
	for {
		pos, assigned, err := b.queue.QueueNum(ctx, rec, id)
		if err != nil || assigned {
			return pos, err
		}
		if err := pause(ctx, b.cfg.PollInterval); err != nil {
			return 0, err
		}
	}
}

func awaitServing(ctx context.Context, b *Bench, rec *Recorder, pos int64) error {
	for polls := 1; ; polls++ {
		serving, err := b.queue.Serving(ctx, rec)
		if err != nil {
			return err
		}
		if serving >= pos {
			return nil
		}
		if b.cfg.WaitingEvery > 0 && polls%b.cfg.WaitingEvery == 0 {
			if _, err := b.queue.Waiting(ctx, rec); err != nil {
				return err
			}
		}
		if err := pause(ctx, b.cfg.PollInterval); err != nil {
			return err
		}
	}
}

func awaitToken(ctx context.Context, b *Bench, rec *Recorder, id string) error {
	for {
		served, err := b.queue.GenerateToken(ctx, rec, id)
		if err != nil || served {
			return err
		}
		// serving_num may be answered from a cache a moment ahead of the
		// token check; ask again after a poll interval.
		if err := pause(ctx, b.cfg.PollInterval); err != nil {
			return err
		}
	}
}

func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return &StepError{Step: "wait", Cause: "canceled", Err: ctx.Err()}
	case <-t.C:
		return nil
	}
}

func lookup(ctx context.Context, b *Bench, rec *Recorder) error {
	id := b.lookupIDs[rand.IntN(len(b.lookupIDs))]
	_, assigned, err := b.queue.QueueNum(ctx, rec, id)
	if err == nil && !assigned {
		err = &StatusError{Step: stepQueueNum, Status: 202}
	}
	return err
}

func firstToken(ctx context.Context, b *Bench, rec *Recorder) error {
	i := b.tokenNext.Add(1) - 1
	if i >= int64(len(b.tokenIDs)) {
		return errExhausted
	}
	served, err := b.queue.GenerateToken(ctx, rec, b.tokenIDs[i])
	if err == nil && !served {
		err = &StatusError{Step: stepToken, Status: 202}
	}
	return err
}
