package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync/atomic"
	"time"
)

// Bench is the state one invocation shares across its scenarios: the
// configuration, one tuned HTTP transport, the API clients and the pools
// that Prepare steps fill.
type Bench struct {
	cfg       Config
	transport *http.Transport
	client    *http.Client // no cookie jar, no redirects
	queue     *queueAPI    // the room of the queue scenarios
	admit     *admission   // admits visitors of the queue flow
	oidc      *oidcFlow
	log       io.Writer

	// scratch takes the answers of unmeasured requests (preparation).
	scratch *Recorder
	rec     atomic.Pointer[Recorder] // what background work records into now

	tokenIDs  []string
	tokenNext atomic.Int64
	lookupIDs []string
}

// NewBench builds the clients for cfg; log receives progress lines.
func NewBench(cfg Config, log io.Writer) *Bench {
	conns := cfg.Users + cfg.PrefillConc + 8
	t := newTransport(conns)
	client := &http.Client{Transport: t, Timeout: cfg.Timeout, CheckRedirect: noRedirects}
	b := &Bench{cfg: cfg, transport: t, client: client, log: log, scratch: NewRecorder(allSteps())}
	b.queue = newQueueAPI(cfg, cfg.Room, client)
	if cfg.GateDifficulty > 0 {
		b.queue.gate = &gatePool{bodies: make(chan []byte, cfg.GatePool)}
	}
	b.admit = newAdmission(b.queue, cfg.AdmitRate)
	b.oidc = newOIDCFlow(cfg, t, newQueueAPI(cfg, cfg.OIDCRoom, client))
	b.rec.Store(b.scratch)
	return b
}

// Close drops the idle connections.
func (b *Bench) Close() { b.transport.CloseIdleConnections() }

func (b *Bench) current() *Recorder { return b.rec.Load() }

func (b *Bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "waitroom-bench: "+format+"\n", args...)
}

// progress logs done/total every few seconds until the returned stop is
// called.
func (b *Bench) progress(what string, done *atomic.Int64, total int64) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				b.logf("%s: %d/%d", what, done.Load(), total)
			}
		}
	}()
	return cancel
}

// allSteps is the union of every scenario's steps, for the scratch
// recorder that preparation records into.
func allSteps() []string {
	seen := map[string]bool{}
	out := []string{stepCreateRoom, stepCounters, stepFill}
	seen[stepCreateRoom], seen[stepCounters], seen[stepFill] = true, true, true
	for _, s := range scenarios {
		for _, st := range s.Steps {
			if !seen[st] {
				seen[st] = true
				out = append(out, st)
			}
		}
	}
	return out
}

// Run runs every configured scenario in order ("depth" first fills the room
// and expands to depthScenarios) and returns one result per scenario run.
func (b *Bench) Run(ctx context.Context) ([]Result, error) {
	names, err := b.plan(ctx)
	if err != nil {
		return nil, err
	}
	var results []Result
	for _, name := range names {
		r, err := b.runScenario(ctx, name)
		if err != nil {
			return results, fmt.Errorf("%s: %w", name, err)
		}
		results = append(results, r)
	}
	return results, nil
}

// plan creates and fills the room when asked and returns the scenarios to
// run.
func (b *Bench) plan(ctx context.Context) ([]string, error) {
	if b.cfg.CreateRoom {
		if err := b.createRooms(ctx); err != nil {
			return nil, err
		}
	}
	var names []string
	wantDepth := b.cfg.Depth > 0
	for _, n := range b.cfg.Scenarios {
		switch n {
		case "depth":
			wantDepth = true
			names = append(names, depthScenarios...)
			continue
		case "fill":
			wantDepth = true
			continue
		}
		names = append(names, n)
	}
	if wantDepth {
		if _, err := fill(ctx, b, b.cfg.Depth); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// createRooms creates the queue room with default settings, and the room
// of the OIDC client without queue-position expiry: its serving counter is
// kept ahead of its queue for instant admission, and expiry would count
// those not-yet-taken positions as expired.
func (b *Bench) createRooms(ctx context.Context) error {
	if err := b.queue.CreateRoom(ctx, b.scratch, gateSettings(b.cfg)); err != nil {
		return fmt.Errorf("creating room %s: %w", b.cfg.Room, err)
	}
	if !slices.ContainsFunc(b.cfg.Scenarios, func(s string) bool { return s == "oidc-flow" || s == "userinfo" || s == "room-status" }) {
		return nil
	}
	if err := b.oidc.queue.CreateRoom(ctx, b.scratch, map[string]any{"expiry_enabled": false}); err != nil {
		return fmt.Errorf("creating room %s: %w", b.cfg.OIDCRoom, err)
	}
	return nil
}

func (b *Bench) runScenario(ctx context.Context, name string) (Result, error) {
	sc := scenarios[name]
	if sc.Prepare != nil {
		if err := sc.Prepare(ctx, b); err != nil {
			return Result{}, fmt.Errorf("prepare: %w", err)
		}
	}
	var waiting int64
	if name != "get" { // get may measure something that is no waitroom
		var err error
		if waiting, err = b.waiting(ctx); err != nil {
			return Result{}, err
		}
	}
	b.logf("%s: %s loop, %v warm-up + %v, %d waiting", name, b.cfg.Mode, b.cfg.Warmup, b.cfg.Duration, waiting)
	before, counted := b.queueLength(ctx, sc)
	w := b.measure(ctx, sc)
	r := b.result(name, sc, w, waiting)
	if after, ok := b.queueLength(ctx, sc); counted && ok {
		growth := after - before
		r.QueueGrowth = &growth
	}
	return r, nil
}

// waiting is the depth the scenario runs at: what waits in the room when
// it starts (none at a provider without rooms).
func (b *Bench) waiting(ctx context.Context) (int64, error) {
	if b.cfg.plainProvider() {
		return 0, nil
	}
	n, err := b.queue.Waiting(ctx, b.scratch)
	if err != nil {
		return 0, fmt.Errorf("reading waiting_num: %w", err)
	}
	return n, nil
}

// queueLength reads the room's queue counter around a scenario that
// enqueues, so the report can check that every acknowledged enqueue holds
// a position (nothing lost). It needs the admin key; without it, or when
// the scenario does not enqueue, ok is false.
func (b *Bench) queueLength(ctx context.Context, sc Scenario) (n int64, ok bool) {
	if b.cfg.AdminKey == "" || !slices.Contains(sc.Steps, stepAssign) {
		return 0, false
	}
	n, err := b.queue.QueueLength(ctx, b.scratch)
	return n, err == nil
}
