package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// Core is what the engine needs from the queue core; *waitroom.Service
// provides it.
type Core interface {
	Rooms(ctx context.Context) ([]waitroom.Room, error)
	Counters(ctx context.Context, room string) (waitroom.Counters, error)
	ActiveTokens(ctx context.Context, room string) (int64, error)
	AdvanceServing(ctx context.Context, room string, by int64) (int64, error)
}

// Emitter receives the events the engine produces (the webhook outbox).
type Emitter interface {
	Emit(ctx context.Context, room waitroom.Room, event string, data map[string]any) error
}

// Gates says whether a room's health gate currently holds admission back.
type Gates interface {
	Paused(room waitroom.Room) bool
}

// prober is a Gates that also probes (HealthGates): the leader starts the
// probes that are due on each pass.
type prober interface {
	ProbeDue(ctx context.Context, rooms []waitroom.Room)
}

// Opener turns a room's pre-queue into tickets at its opening time; it must
// be idempotent (the engine calls it on every pass after opening until it
// reports done).
type Opener interface {
	// Commit publishes the room's commitment (at the pre-queue start).
	Commit(ctx context.Context, room waitroom.Room, now time.Time) error
	Open(ctx context.Context, room waitroom.Room, now time.Time) (done bool, err error)
}

// Config wires an Engine. Core, Lease and Holder are required.
type Config struct {
	Core  Core
	Lease waitroom.Lease
	// Holder names this replica in the lease (unique per process).
	Holder string
	Clock  func() time.Time
	Logger *slog.Logger
	Events Emitter
	Gates  Gates
	Opener Opener
	// States, when set, is where the leader publishes each room's state
	// (see PublishedState).
	States waitroom.Ephemeral
	// Expire runs one expiry-job pass for a room (Service.ExpireRoom).
	Expire func(ctx context.Context, room string) error
	// Jobs is deployment-wide work (not per room) the leader runs once per
	// period, fenced like the per-room chores: signing-key rotation.
	Jobs []LeaderJob
	// LeaseTTL is how long the lease outlives a silent leader (default
	// 10s): another replica takes over within that.
	LeaseTTL time.Duration
	// CatchUpWindow bounds how far back a new leader applies ticks the
	// old one missed (default 60s).
	CatchUpWindow time.Duration
	// ExpireEvery and MetricsEvery space the expiry job and the metrics
	// heartbeat (defaults 60s and 60s).
	ExpireEvery  time.Duration
	MetricsEvery time.Duration
}

// Engine is the leader loop: on the replica holding the lease it ticks
// every room's strategy, runs the expiry job, the metrics heartbeat and the
// deployment-wide Jobs (key rotation), and opens scheduled rooms.
type Engine struct {
	cfg Config

	mu     sync.Mutex
	token  int64               // lease token of the current leadership, 0 when not leader
	rooms  map[string]roomMemo // per-room memory of this leadership
	leased time.Time           // when the lease was last renewed (local clock)
}

// roomMemo is what the leader remembers of a room between passes.
type roomMemo struct {
	strategyKey string
	lastTick    int64
	state       string
	published   time.Time // when state was last published (Config.States)
	committed   bool
}

// LeaderJob is one piece of deployment-wide leader work.
type LeaderJob struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context) error
}

// NewEngine returns an engine with defaults filled in.
func NewEngine(cfg Config) *Engine {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.LeaseTTL = orDefault(cfg.LeaseTTL, 10*time.Second)
	cfg.CatchUpWindow = orDefault(cfg.CatchUpWindow, time.Minute)
	cfg.ExpireEvery = orDefault(cfg.ExpireEvery, time.Minute)
	cfg.MetricsEvery = orDefault(cfg.MetricsEvery, time.Minute)
	return &Engine{cfg: cfg, rooms: map[string]roomMemo{}}
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Run ticks every second until ctx ends, then releases the lease.
func (e *Engine) Run(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if err := e.Tick(ctx, e.cfg.Clock()); err != nil && ctx.Err() == nil {
			e.cfg.Logger.Warn("admission tick failed", "err", err)
		}
		select {
		case <-ctx.Done():
			release, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			return e.cfg.Lease.Release(release, e.cfg.Holder)
		case <-t.C:
		}
	}
}

// Leader reports whether the last pass held the lease.
func (e *Engine) Leader() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.token != 0
}

// Tick is one pass: renew or take the lease, then, as leader, step every
// room. Tests call it with a fake time.
func (e *Engine) Tick(ctx context.Context, now time.Time) error {
	token, held, err := e.cfg.Lease.Acquire(ctx, e.cfg.Holder, e.cfg.LeaseTTL)
	if err != nil || !held {
		e.loseLead()
		return err
	}
	fresh := e.takeLead(token)
	e.leaderJobs(ctx, token, now)
	rooms, err := e.cfg.Core.Rooms(ctx)
	if err != nil {
		return err
	}
	if p, ok := e.cfg.Gates.(prober); ok {
		p.ProbeDue(ctx, rooms)
	}
	var firstErr error
	for _, r := range rooms {
		if err := e.tickRoom(ctx, token, fresh, r, now); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("room %s: %w", r.ID, err)
		}
	}
	return firstErr
}

func (e *Engine) loseLead() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.token != 0 {
		e.cfg.Logger.Info("admission leadership lost", "holder", e.cfg.Holder)
	}
	e.token = 0
	e.rooms = map[string]roomMemo{}
}

// takeLead records the lease renewal; fresh is true on the first pass of a
// new leadership (the new leader then catches up on missed ticks).
func (e *Engine) takeLead(token int64) (fresh bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.leased = time.Now()
	if e.token == token {
		return false
	}
	e.cfg.Logger.Info("admission leadership taken", "holder", e.cfg.Holder, "token", token)
	e.token = token
	e.rooms = map[string]roomMemo{}
	return true
}

// stillLeading is checked after a claim and before acting on it: a leader
// whose process was paused for longer than the lease lasts gives up rather
// than act on a stale decision. (The claim itself already refused steps to
// a replaced leader.)
func (e *Engine) stillLeading() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.token != 0 && time.Since(e.leased) < e.cfg.LeaseTTL
}

func (e *Engine) memo(id string) (roomMemo, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	m, ok := e.rooms[id]
	return m, ok
}

func (e *Engine) remember(id string, m roomMemo) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rooms[id] = m
}

func (e *Engine) tickRoom(ctx context.Context, token int64, fresh bool, r waitroom.Room, now time.Time) error {
	memo, known := e.memo(r.ID)
	state := RoomState(r, now, e.gatePaused(r))
	if known && memo.state != state {
		e.emit(ctx, r, "room_state_changed", map[string]any{"previous_state": memo.state, "state": state})
	}
	if e.cfg.States != nil && (memo.state != state || now.Sub(memo.published) >= stateRepublish) {
		if err := e.cfg.States.Put(ctx, stateKey(r.ID), []byte(state), stateTTL); err == nil {
			memo.published = now
		}
	}
	memo.state = state
	if err := e.open(ctx, r, now, &memo); err != nil {
		e.remember(r.ID, memo)
		return err
	}
	err := e.applyStrategy(ctx, token, fresh, known, r, now, &memo)
	e.remember(r.ID, memo)
	e.chores(ctx, token, r, now)
	return err
}

func (e *Engine) gatePaused(r waitroom.Room) bool {
	return e.cfg.Gates != nil && r.HealthGate != nil && e.cfg.Gates.Paused(r)
}

// open publishes the commitment when the pre-queue window starts and runs
// the opening pass from the opening time on. The pass runs on every tick
// (it is idempotent and cheap once done) so that arrivals that raced the
// opening are converted too.
func (e *Engine) open(ctx context.Context, r waitroom.Room, now time.Time, memo *roomMemo) error {
	if e.cfg.Opener == nil || r.Schedule.OpensAt.IsZero() || now.Before(r.Schedule.PrequeueOpensAt()) {
		return nil
	}
	if now.Before(r.Schedule.OpensAt) {
		if memo.committed {
			return nil
		}
		err := e.cfg.Opener.Commit(ctx, r, now)
		memo.committed = err == nil
		return err
	}
	_, err := e.cfg.Opener.Open(ctx, r, now)
	return err
}

// applyStrategy claims and applies the ticks due since the last pass.
func (e *Engine) applyStrategy(ctx context.Context, token int64, fresh, known bool, r waitroom.Room, now time.Time, memo *roomMemo) error {
	s := RoomStrategy(r)
	if s == nil || !admitting(r, now) {
		memo.strategyKey = ""
		return nil
	}
	cur, ok := s.TickAt(now)
	if !ok {
		return nil
	}
	key := strategyKey(r)
	same := known && memo.strategyKey == key
	first := cur
	if same {
		first = memo.lastTick + 1
	}
	memo.strategyKey, memo.lastTick = key, cur
	gated := e.gatePaused(r)
	if fresh && s.CatchUp() {
		missed, err := e.claimMissed(ctx, token, s, key, cur, r, now)
		if err != nil {
			return err
		}
		for _, n := range missed {
			if err := e.act(ctx, s, n, gated, r); err != nil {
				return err
			}
		}
	}
	for n := first; n <= cur; n++ {
		if err := e.applyTick(ctx, token, s, key, n, gated, r); err != nil {
			return err
		}
	}
	return nil
}

// claimMissed is the catch-up of a new leader: walking back from the tick
// before cur, it claims every tick nobody claimed until it meets one the
// old leader claimed, and returns those it claimed, oldest first. When no
// claimed tick lies within the catch-up window (nobody ran this strategy:
// a fresh start, new settings), there is nothing to catch up and the ticks
// are only marked. The walk never goes back before the room's settings last
// changed.
func (e *Engine) claimMissed(ctx context.Context, token int64, s Strategy, key string, cur int64, r waitroom.Room, now time.Time) ([]int64, error) {
	since := now.Add(-e.cfg.CatchUpWindow)
	if r.UpdatedAt.After(since) {
		since = r.UpdatedAt
	}
	var missed []int64
	for n := cur - 1; n >= 0 && !s.TickTime(n).Before(since); n-- {
		claimed, err := e.claim(ctx, token, s, key, n, r)
		if err != nil {
			return nil, err
		}
		if !claimed {
			slices.Reverse(missed)
			return missed, nil
		}
		missed = append(missed, n)
	}
	return nil, nil
}

func (e *Engine) claim(ctx context.Context, token int64, s Strategy, key string, n int64, r waitroom.Room) (bool, error) {
	ttl := e.cfg.CatchUpWindow + 2*time.Minute + s.TickTime(1).Sub(s.TickTime(0))
	return e.cfg.Lease.Claim(ctx, token, fmt.Sprintf("tick:%s:%s:%d", r.ID, key, n), ttl)
}

// applyTick claims tick n and moves the counter by its amount. A gated tick
// is claimed with no movement, so that nobody applies it after the gate
// reopens.
func (e *Engine) applyTick(ctx context.Context, token int64, s Strategy, key string, n int64, gated bool, r waitroom.Room) error {
	claimed, err := e.claim(ctx, token, s, key, n, r)
	if err != nil || !claimed {
		return err
	}
	return e.act(ctx, s, n, gated, r)
}

// act moves the counter for a claimed tick.
func (e *Engine) act(ctx context.Context, s Strategy, n int64, gated bool, r waitroom.Room) error {
	if gated || !e.stillLeading() {
		return nil
	}
	snap, err := e.snapshot(ctx, r.ID)
	if err != nil {
		return err
	}
	by := s.Amount(n, snap)
	if by <= 0 {
		return nil
	}
	serving, err := e.cfg.Core.AdvanceServing(ctx, r.ID, by)
	if err != nil {
		return err
	}
	e.emit(ctx, r, "automatic_serving_counter_incr", map[string]any{
		"previous_serving_counter_position": serving - by, "serving_counter": serving, "increment_by": by, "tick": n,
	})
	return nil
}

func (e *Engine) snapshot(ctx context.Context, room string) (Snapshot, error) {
	c, err := e.cfg.Core.Counters(ctx, room)
	if err != nil {
		return Snapshot{}, err
	}
	active, err := e.cfg.Core.ActiveTokens(ctx, room)
	return Snapshot{Counters: c, Active: active}, err
}

// chores runs the expiry job and the metrics heartbeat, each once per
// period whatever the number of replicas.
func (e *Engine) chores(ctx context.Context, token int64, r waitroom.Room, now time.Time) {
	if e.cfg.Expire != nil && e.claimPeriod(ctx, token, "expire", r.ID, now, e.cfg.ExpireEvery) {
		if err := e.cfg.Expire(ctx, r.ID); err != nil {
			e.cfg.Logger.Warn("expiry job failed", "room", r.ID, "err", err)
		}
	}
	if e.cfg.Events != nil && e.claimPeriod(ctx, token, "metrics", r.ID, now, e.cfg.MetricsEvery) {
		snap, err := e.snapshot(ctx, r.ID)
		if err != nil {
			return
		}
		c := snap.Counters
		e.emit(ctx, r, "waiting_room_metrics", map[string]any{
			"queue_counter": c.Queue, "serving_counter": c.Serving, "token_counter": c.Tokens,
			"expired_queue_counter": c.Expired, "completed_counter": c.Completed, "abandoned_counter": c.Abandoned,
			"max_queue_position_expired": c.MaxExpired, "waiting_num": c.Waiting(), "active_tokens": snap.Active,
		})
	}
}

// leaderJobs runs the deployment-wide work that is due; a failure is
// logged and the work is retried next period.
func (e *Engine) leaderJobs(ctx context.Context, token int64, now time.Time) {
	for _, p := range e.cfg.Jobs {
		if p.Every <= 0 || !e.claimPeriod(ctx, token, "job", p.Name, now, p.Every) {
			continue
		}
		if err := p.Run(ctx); err != nil && ctx.Err() == nil {
			e.cfg.Logger.Warn("leader job failed", "job", p.Name, "err", err)
		}
	}
}

func (e *Engine) claimPeriod(ctx context.Context, token int64, what, room string, now time.Time, every time.Duration) bool {
	k := now.UnixNano() / int64(every)
	ok, err := e.cfg.Lease.Claim(ctx, token, fmt.Sprintf("%s:%s:%d", what, room, k), 2*every)
	return err == nil && ok && e.stillLeading()
}

func (e *Engine) emit(ctx context.Context, r waitroom.Room, event string, data map[string]any) {
	if e.cfg.Events == nil {
		return
	}
	if err := e.cfg.Events.Emit(ctx, r, event, data); err != nil {
		e.cfg.Logger.Warn("event not recorded", "room", r.ID, "event", event, "err", err)
	}
}

// strategyKey identifies a room's inlet settings (and generation), so that
// ticks claimed under old settings do not block the new ones.
func strategyKey(r waitroom.Room) string {
	b, _ := json.Marshal(struct {
		Mode      waitroom.Mode
		Threshold int64
		Inlet     waitroom.Inlet
	}{r.EffectiveMode(), r.SafetyNetThreshold, r.Inlet})
	h := fnv.New64a()
	h.Write(b)
	return fmt.Sprintf("%x", h.Sum64())
}

// The leader publishes each room's state for every replica (the control
// panel shows it: a health gate's verdict is known to the leader only),
// again at least every stateRepublish; a state not renewed for stateTTL
// (no leader) is gone.
const (
	stateRepublish = 5 * time.Second
	stateTTL       = 20 * time.Second
)

func stateKey(room string) string { return "admission-state:" + room }

// PublishedState returns the state of room the leader last published in
// eph (Config.States); false when none is live.
func PublishedState(ctx context.Context, eph waitroom.Ephemeral, room string) (string, bool) {
	b, err := eph.Get(ctx, stateKey(room))
	return string(b), err == nil && len(b) > 0
}

// Room states reported in room_state_changed.
const (
	StateScheduled = "scheduled" // before the pre-queue (or opening) time: entry refused
	StatePrequeue  = "prequeue"  // pre-queue window: entry accepted, nobody admitted
	StateOpen      = "open"
	StatePaused    = "paused"       // mode paused
	StateGated     = "health_gated" // the health gate holds admission back
	StateClosed    = "closed"       // mode closed or past closing time: no entry
)

// RoomState is the state of r at now.
func RoomState(r waitroom.Room, now time.Time, gated bool) string {
	sch := r.Schedule
	switch {
	case r.EffectiveMode() == waitroom.ModeClosed || (!sch.ClosesAt.IsZero() && !now.Before(sch.ClosesAt)):
		return StateClosed
	case !sch.OpensAt.IsZero() && now.Before(sch.PrequeueOpensAt()):
		return StateScheduled
	case !sch.OpensAt.IsZero() && now.Before(sch.OpensAt):
		return StatePrequeue
	case r.EffectiveMode() == waitroom.ModePaused:
		return StatePaused
	case gated:
		return StateGated
	}
	return StateOpen
}

// admitting reports whether the strategy may move r's counter at now: not
// before opening (closed rooms keep draining those already in line).
func admitting(r waitroom.Room, now time.Time) bool {
	return r.Schedule.OpensAt.IsZero() || !now.Before(r.Schedule.OpensAt)
}
