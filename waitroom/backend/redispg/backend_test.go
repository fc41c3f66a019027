package redispg_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/redispg"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

var ctx = context.Background()

func withHost(t testing.TB, raw, host string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = host
	return u.String()
}

func hostOf(t testing.TB, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func newTicket(at time.Time, key string) waitroom.NewTicket {
	return waitroom.NewTicket{ID: uuid.NewString(), EntryTime: at, Key: key}
}

func mustRoom(t *testing.T, s *redispg.Store) string {
	t.Helper()
	r := waitroom.NewRoom("room-"+uuid.NewString()[:8], "")
	if err := s.CreateRoom(ctx, r); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func wantCode(t *testing.T, err error, code waitroom.Code) {
	t.Helper()
	if got := waitroom.ErrorCode(err); err == nil || got != code {
		t.Fatalf("got %v (code %s), want code %s", err, got, code)
	}
}

// Driver text stays in the logs: the client-safe message names the service
// only.
func wantNoDriverText(t *testing.T, err error) {
	t.Helper()
	msg := waitroom.ErrorMessage(err)
	for _, leak := range []string{"dial", "refused", "127.0.0.1", "pq:", "EOF", "tcp"} {
		if strings.Contains(msg, leak) {
			t.Fatalf("client message %q leaks %q", msg, leak)
		}
	}
}

func TestOpenFailsFastWhenUnreachable(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	for name, cfg := range map[string]redispg.Config{
		"postgres": {DatabaseURL: withHost(t, b.cfg.DatabaseURL, closedPort(t)), RedisURL: b.cfg.RedisURL},
		"redis":    {DatabaseURL: b.cfg.DatabaseURL, RedisURL: withHost(t, b.cfg.RedisURL, closedPort(t))},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := redispg.Open(ctx, cfg)
			wantCode(t, err, waitroom.CodeUnavailable)
			wantNoDriverText(t, err)
			if !strings.Contains(strings.ToLower(waitroom.ErrorMessage(err)), name) {
				t.Fatalf("message %q does not name %s", waitroom.ErrorMessage(err), name)
			}
		})
	}
}

// With PostgreSQL gone, Enqueue answers unavailable and leaves no ticket and
// no consumed position behind.
func TestPostgresDownEnqueueUnavailable(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	direct := b.open(t)
	pg := startProxy(t, hostOf(t, b.cfg.DatabaseURL))
	cfg := b.cfg
	cfg.DatabaseURL = withHost(t, cfg.DatabaseURL, pg.addr)
	viaProxy, err := redispg.OpenStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer viaProxy.Close()
	room := mustRoom(t, direct)
	now := time.Now()
	if _, _, err := viaProxy.Enqueue(ctx, room, newTicket(now, "")); err != nil {
		t.Fatal(err)
	}
	pg.cut()
	for _, key := range []string{"", "k"} {
		_, _, err := viaProxy.Enqueue(ctx, room, newTicket(now, key))
		wantCode(t, err, waitroom.CodeUnavailable)
		wantNoDriverText(t, err)
	}
	_, err = viaProxy.AdvanceServing(ctx, room, 1, now)
	wantCode(t, err, waitroom.CodeUnavailable)
	wantCode(t, viaProxy.Ping(ctx), waitroom.CodeUnavailable)

	tk, _, err := direct.Enqueue(ctx, room, newTicket(now, "k"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := direct.Counters(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Position != 2 || c.Queue != 2 || c.Serving != 0 {
		t.Fatalf("after the outage: position %d, counters %+v; failed calls left traces", tk.Position, c)
	}
}

// With Redis gone, durable writes still succeed (PostgreSQL holds them),
// reads of the counters are answered from PostgreSQL and marked stale, and
// Ephemeral answers unavailable; once Redis is back, the copy is repaired
// from PostgreSQL.
func TestRedisDownWritesStayDurable(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	rp := startProxy(t, hostOf(t, b.cfg.RedisURL))
	cfg := b.cfg
	cfg.RedisURL = withHost(t, cfg.RedisURL, rp.addr)
	s, err := redispg.OpenStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	room := mustRoom(t, s)
	now := time.Now()
	first, _, err := s.Enqueue(ctx, room, newTicket(now, ""))
	if err != nil {
		t.Fatal(err)
	}

	rp.cut()
	second, _, err := s.Enqueue(ctx, room, newTicket(now, ""))
	if err != nil || second.Position != 2 {
		t.Fatalf("enqueue with Redis down: %+v, %v", second, err)
	}
	if _, err := s.SetServing(ctx, room, 2, now); err != nil {
		t.Fatal(err)
	}
	rec := waitroom.TokenRecord{Room: room, RequestID: first.ID, Position: 1, IssuedAt: now, NotBefore: now,
		ExpiresAt: now.Add(time.Hour), KeyID: "k", Generation: first.Generation}
	if _, created, err := s.CreateToken(ctx, rec); err != nil || !created {
		t.Fatalf("CreateToken with Redis down: %v %v", created, err)
	}
	// The counters come from PostgreSQL, marked stale; the token counted
	// there although its Redis increment failed.
	if c, err := s.Counters(ctx, room); err != nil || !c.Stale || c.Queue != 2 || c.Serving != 2 || c.Tokens != 1 {
		t.Fatalf("counters with Redis down = %+v, %v; want queue 2 serving 2 tokens 1, stale", c, err)
	}
	if n, err := s.ActiveTokens(ctx, room, now); err != nil || n != 1 {
		t.Fatalf("active tokens with Redis down = %d, %v; want 1", n, err)
	}
	_, err = s.Get(ctx, "x")
	wantCode(t, err, waitroom.CodeUnavailable)

	rp.resume()
	// go-redis backs off after failed dials; wait until it dials again.
	for deadline := time.Now().Add(10 * time.Second); s.Ping(ctx) != nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Redis did not come back through the proxy")
		}
	}
	s.RepairStaleNow(ctx)
	c, err := s.Counters(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	if c.Queue != 2 || c.Serving != 2 || c.Tokens != 1 || c.Stale {
		t.Fatalf("counters after Redis came back = %+v, want queue 2 serving 2 tokens 1, fresh", c)
	}
	if n, err := s.ActiveTokens(ctx, room, now); err != nil || n != 1 {
		t.Fatalf("active tokens after repair = %d, %v", n, err)
	}
}

// Requests with the same key in one batch share one ticket and one
// position, also across replicas.
func TestGroupCommitIdempotencyInsideBatches(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	stores := []*redispg.Store{b.open(t), b.open(t)}
	room := mustRoom(t, stores[0])
	now := time.Now()
	const same, unique = 50, 50
	results := make([]waitroom.Ticket, same+unique)
	errs := make([]error, same+unique)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := "shared"
			if i >= same {
				key = uuid.NewString()
			}
			results[i], _, errs[i] = stores[i%2].Enqueue(ctx, room, newTicket(now, key))
		}()
	}
	wg.Wait()
	positions := map[int64]bool{}
	for i, tk := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if i < same && tk.ID != results[0].ID {
			t.Fatalf("key 'shared' gave two tickets: %s and %s", results[0].ID, tk.ID)
		}
		positions[tk.Position] = true
	}
	if len(positions) != unique+1 {
		t.Fatalf("%d positions used, want %d", len(positions), unique+1)
	}
	for p := int64(1); p <= unique+1; p++ {
		if !positions[p] {
			t.Fatalf("position %d missing: positions are not contiguous", p)
		}
	}
}

// Close flushes: every Enqueue either returns a ticket that is stored, or
// fails with unavailable and leaves nothing.
func TestCloseFlushesPendingBatches(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	check := b.open(t)
	s, err := redispg.OpenStore(ctx, b.cfg)
	if err != nil {
		t.Fatal(err)
	}
	room := mustRoom(t, check)
	const n = 200
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ok []waitroom.Ticket
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk, _, err := s.Enqueue(ctx, room, newTicket(time.Now(), ""))
			if err != nil {
				if waitroom.ErrorCode(err) != waitroom.CodeUnavailable {
					t.Errorf("enqueue during close: %v", err)
				}
				return
			}
			mu.Lock()
			ok = append(ok, tk)
			mu.Unlock()
		}()
	}
	time.Sleep(time.Millisecond) // let some calls in before Close, not a correctness wait
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	c, err := check.Counters(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	if c.Queue != int64(len(ok)) {
		t.Fatalf("queue counter %d, %d successful enqueues", c.Queue, len(ok))
	}
	for _, tk := range ok {
		if _, err := check.Ticket(ctx, room, tk.ID); err != nil {
			t.Fatalf("acknowledged ticket %s lost: %v", tk.ID, err)
		}
	}
}

// The active-token set is rebuilt with the counters when Redis loses the
// room; ids of completed sessions stay out of it.
func TestActiveTokensSurviveRedisLoss(t *testing.T) {
	onEveryRedis(t, func(t *testing.T, kind testenv.RedisKind) {
		b := newBackendOn(t, kind)
		inst := b.instance(t)
		s := inst.Store.(*redispg.Store)
		room := mustRoom(t, s)
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		var ids []string
		for i := range 5 {
			tk, _, err := s.Enqueue(ctx, room, newTicket(now, ""))
			if err != nil {
				t.Fatal(err)
			}
			rec := waitroom.TokenRecord{Room: room, RequestID: tk.ID, Position: tk.Position, IssuedAt: now, NotBefore: now,
				ExpiresAt: now.Add(time.Duration(i+1) * time.Minute), KeyID: "k", Generation: tk.Generation}
			if _, _, err := s.CreateToken(ctx, rec); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, tk.ID)
		}
		if err := s.UpdateSession(ctx, room, ids[4], waitroom.SessionCompleted); err != nil {
			t.Fatal(err)
		}
		inst.LoseFastState(t)
		for _, step := range []struct {
			at   time.Duration
			want int64
		}{{0, 4}, {90 * time.Second, 3}, {10 * time.Minute, 0}} {
			n, err := s.ActiveTokens(ctx, room, now.Add(step.at))
			if err != nil || n != step.want {
				t.Fatalf("ActiveTokens(+%v) after Redis loss = %d, %v; want %d", step.at, n, err, step.want)
			}
		}
		c, _ := s.Counters(ctx, room)
		if c.Tokens != 5 || c.Completed != 1 || c.Queue != 5 {
			t.Fatalf("counters after rebuild = %+v", c)
		}
	})
}

func TestErrorsAreDomainErrors(t *testing.T) {
	t.Parallel()
	s := newBackend(t).open(t)
	var we *waitroom.Error
	for name, err := range map[string]error{
		"unknown room counters": func() error { _, err := s.Counters(ctx, "nope"); return err }(),
		"unknown room enqueue":  func() error { _, _, err := s.Enqueue(ctx, "nope", newTicket(time.Now(), "")); return err }(),
		"missing value":         func() error { _, err := s.Take(ctx, "nope"); return err }(),
	} {
		if !errors.As(err, &we) || we.Code != waitroom.CodeNotFound {
			t.Errorf("%s: %v, want a not_found *waitroom.Error", name, err)
		}
	}
}

// Rows of a reset generation are purged; the current generation is kept.
func TestResetPurgesOldGenerations(t *testing.T) {
	t.Parallel()
	s := newBackend(t).open(t)
	room := mustRoom(t, s)
	now := time.Now()
	old, _, err := s.Enqueue(ctx, room, newTicket(now, "k"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetServing(ctx, room, 1, now); err != nil {
		t.Fatal(err)
	}
	rec := waitroom.TokenRecord{Room: room, RequestID: old.ID, Position: 1, IssuedAt: now, NotBefore: now,
		ExpiresAt: now.Add(time.Hour), KeyID: "k", Generation: old.Generation}
	if _, _, err := s.CreateToken(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := s.Reset(ctx, room); err != nil {
		t.Fatal(err)
	}
	kept, _, err := s.Enqueue(ctx, room, newTicket(now, "k"))
	if err != nil {
		t.Fatal(err)
	}
	s.PurgeGenerations(ctx, room, kept.Generation)
	for _, table := range []string{"tickets", "tokens", "serving_history"} {
		var n int
		if err := s.DB().GetContext(ctx, &n, `SELECT count(*) FROM `+table+` WHERE room = $1 AND generation < $2`, room, kept.Generation); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("%d rows of the old generation left in %s", n, table)
		}
	}
	if got, err := s.Ticket(ctx, room, kept.ID); err != nil || got.Position != 1 {
		t.Fatalf("current ticket after purge: %+v, %v", got, err)
	}
}

// After Redis loses a room, many concurrent readers all get the same,
// correct counters.
func TestConcurrentReadersAfterRedisLoss(t *testing.T) {
	onEveryRedis(t, func(t *testing.T, kind testenv.RedisKind) {
		b := newBackendOn(t, kind)
		inst := b.instance(t)
		s := inst.Store.(*redispg.Store)
		room := mustRoom(t, s)
		for range 3 {
			if _, _, err := s.Enqueue(ctx, room, newTicket(time.Now(), "")); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.SetServing(ctx, room, 2, time.Now()); err != nil {
			t.Fatal(err)
		}
		inst.LoseFastState(t)
		var wg sync.WaitGroup
		got := make([]waitroom.Counters, 50)
		errs := make([]error, len(got))
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], errs[i] = s.Counters(ctx, room)
			}()
		}
		wg.Wait()
		for i, c := range got {
			if errs[i] != nil || c.Queue != 3 || c.Serving != 2 {
				t.Fatalf("reader %d: %+v, %v", i, c, errs[i])
			}
		}
	})
}

func TestRedisClientChoice(t *testing.T) {
	t.Parallel()
	c, err := redispg.NewRedisClient(redispg.Config{RedisURL: "redis://a:6379?addr=b:6379&addr=c:6379", RedisCluster: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cc, ok := c.(*redis.ClusterClient)
	if !ok {
		t.Fatalf("cluster config gave %T", c)
	}
	if addrs := cc.Options().Addrs; len(addrs) != 3 {
		t.Fatalf("cluster seeds %v, want 3", addrs)
	}
	for _, u := range []string{"127.0.0.1:6379", "redis://127.0.0.1:6379/2", "rediss://user:pw@example.com:6380/0"} {
		c, err := redispg.NewRedisClient(redispg.Config{RedisURL: u})
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if _, ok := c.(*redis.Client); !ok {
			t.Fatalf("%s gave %T", u, c)
		}
		c.Close()
	}
	sentinels := "redis://s1:26379?master_name=waitroom&addr=s2:26379"
	if c, err := redispg.NewRedisClient(redispg.Config{RedisURL: sentinels}); err != nil {
		t.Fatalf("Sentinel URL: %v", err)
	} else {
		c.Close()
	}
	if _, err := redispg.NewRedisClient(redispg.Config{RedisURL: sentinels, RedisCluster: true}); err == nil {
		t.Fatal("a Sentinel URL with RedisCluster was accepted")
	}
}

// A rebuild streams the active set in chunks: a room with more tokens than
// one chunk comes back whole.
func TestRebuildLargeActiveSet(t *testing.T) {
	onEveryRedis(t, func(t *testing.T, kind testenv.RedisKind) {
		b := newBackendOn(t, kind)
		inst := b.instance(t)
		s := inst.Store.(*redispg.Store)
		room := mustRoom(t, s)
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		// Rows written straight into PostgreSQL: 2,500 active tokens and 500
		// completed ones, as if Redis had lost them all.
		if _, err := s.DB().ExecContext(ctx, `
		INSERT INTO tokens (room, generation, request_id, position, issuer, issued_at, not_before, expires, kid, session_status)
		SELECT $1, 0, gen_random_uuid(), g, '', $2::timestamptz, $2::timestamptz, $2::timestamptz + interval '1 hour', 'k', CASE WHEN g > 2500 THEN 1 ELSE 0 END
		FROM generate_series(1, 3000) g`, room, now); err != nil {
			t.Fatal(err)
		}
		inst.LoseFastState(t)
		n, err := s.ActiveTokens(ctx, room, now)
		if err != nil || n != 2500 {
			t.Fatalf("active tokens after rebuild = %d, %v; want 2500", n, err)
		}
		c, err := s.Counters(ctx, room)
		if err != nil || c.Tokens != 3000 || c.Completed != 500 {
			t.Fatalf("counters after rebuild = %+v, %v", c, err)
		}
		keys, err := testenv.ScanKeys(ctx, s.Redis(), b.cfg.KeyPrefix+"*staging*")
		if err != nil || len(keys) != 0 {
			t.Fatalf("staging keys left behind: %v %v", keys, err)
		}
	})
}

func TestConfigProblemsReportedTogether(t *testing.T) {
	t.Parallel()
	_, err := redispg.Open(ctx, redispg.Config{KeyPrefix: "x{"})
	wantCode(t, err, waitroom.CodeInvalid)
	for _, want := range []string{"database url", "redis url", "key prefix"} {
		if !strings.Contains(waitroom.ErrorMessage(err), want) {
			t.Fatalf("%q does not mention %s", waitroom.ErrorMessage(err), want)
		}
	}
}

// A rebuild waits for token writers in flight (holding the fence between
// their commit and their Redis update), so the rebuilt counters include
// them exactly once.
func TestRebuildWaitsForTokenWriters(t *testing.T) {
	onEveryRedis(t, func(t *testing.T, kind testenv.RedisKind) {
		b := newBackendOn(t, kind)
		inst := b.instance(t)
		s := inst.Store.(*redispg.Store)
		room := mustRoom(t, s)
		tk, _, err := s.Enqueue(ctx, room, newTicket(time.Now(), ""))
		if err != nil {
			t.Fatal(err)
		}
		exec, commit, err := s.HoldTokenFence(ctx, room)
		if err != nil {
			t.Fatal(err)
		}
		if err := exec(`INSERT INTO tokens (room, generation, request_id, position, issuer, issued_at, not_before, expires, kid)
		VALUES ($1, 0, $2, 1, '', now(), now(), now() + interval '1 hour', 'k')`, room, tk.ID); err != nil {
			t.Fatal(err)
		}
		inst.LoseFastState(t)
		other := b.open(t)
		got := make(chan waitroom.Counters, 1)
		go func() {
			c, err := other.Counters(ctx, room)
			if err != nil {
				t.Error(err)
			}
			got <- c
		}()
		select {
		case c := <-got:
			t.Fatalf("rebuild answered %+v while a token writer held the fence", c)
		case <-time.After(300 * time.Millisecond):
		}
		if err := commit(); err != nil {
			t.Fatal(err)
		}
		if c := <-got; c.Tokens != 1 || c.Queue != 1 {
			t.Fatalf("rebuilt counters %+v, want the writer's token counted once", c)
		}
	})
}

// A purge started for a reset room never touches a room created again
// under the same id (whose generations restart at 0).
func TestPurgeSparesRecreatedRoom(t *testing.T) {
	t.Parallel()
	s := newBackend(t).open(t)
	room := mustRoom(t, s)
	for range 2 {
		if err := s.Reset(ctx, room); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteRoom(ctx, room); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRoom(ctx, waitroom.NewRoom(room, "")); err != nil {
		t.Fatal(err)
	}
	tk, _, err := s.Enqueue(ctx, room, newTicket(time.Now(), ""))
	if err != nil {
		t.Fatal(err)
	}
	s.PurgeGenerations(ctx, room, 2) // the late purge of the old room
	if _, err := s.Ticket(ctx, room, tk.ID); err != nil {
		t.Fatalf("ticket of the recreated room purged: %v", err)
	}
}

// A forced rewrite of a stale room never moves the queue or serving
// counters of the same generation back.
func TestForcedRepairKeepsNewerValues(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	s := b.open(t)
	room := mustRoom(t, s)
	if _, err := s.SetServing(ctx, room, 5, time.Now()); err != nil {
		t.Fatal(err)
	}
	// Redis holds a newer copy than PostgreSQL would give (as if copied
	// after the rewrite read PostgreSQL).
	key := s.CountersKeyForTest(room)
	if err := s.Redis().HSet(ctx, key, "q", 9, "s", 7, "v", 100).Err(); err != nil {
		t.Fatal(err)
	}
	s.MarkStaleForTest(room)
	s.RepairStaleNow(ctx)
	c, err := s.Counters(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	if c.Queue != 9 || c.Serving != 7 {
		t.Fatalf("after a forced rewrite: %+v; newer queue 9 / serving 7 moved back", c)
	}
}

// A room created again under the id of a deleted room whose Redis keys
// were left behind starts from zero.
func TestRecreatedRoomStartsFromZero(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	s := b.open(t)
	room := mustRoom(t, s)
	if err := s.DeleteRoom(ctx, room); err != nil {
		t.Fatal(err)
	}
	key := s.CountersKeyForTest(room)
	if err := s.Redis().HSet(ctx, key, "g", 0, "q", 9, "s", 7, "v", 100).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRoom(ctx, waitroom.NewRoom(room, "")); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Counters(ctx, room); err != nil || c != (waitroom.Counters{}) {
		t.Fatalf("counters of the new room: %+v, %v", c, err)
	}
}

// TestUpdateRoomKeepsKeysOfNewerVersions: a key this version does not know
// (written by a newer replica during a rolling upgrade) survives an update,
// while a known setting the update cleared is gone.
func TestUpdateRoomKeepsKeysOfNewerVersions(t *testing.T) {
	ctx := context.Background()
	s := newBackend(t).open(t)
	r := waitroom.NewRoom("upgrade", "Upgrade")
	r.HealthGate = &waitroom.HealthGate{URL: "https://shop.test/health"}
	if err := s.CreateRoom(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `UPDATE rooms SET doc = doc || '{"future_setting": 7}' WHERE id = 'upgrade'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateRoom(ctx, "upgrade", func(r *waitroom.Room) error { r.HealthGate = nil; return nil }); err != nil {
		t.Fatal(err)
	}
	var future int
	var gate bool
	if err := s.DB().QueryRowContext(ctx, `SELECT (doc->>'future_setting')::int, doc ? 'health_gate' FROM rooms WHERE id = 'upgrade'`).Scan(&future, &gate); err != nil {
		t.Fatal(err)
	}
	if future != 7 || gate {
		t.Fatalf("after the update: future_setting %d, health_gate still stored %v; want 7 and false", future, gate)
	}
}

// A Redis copy older than one this process read before (a promoted replica
// that missed its master's last writes) is not believed: the counters come
// from PostgreSQL, marked stale, and the copy is repaired.
func TestCopyMovedBackIsRepaired(t *testing.T) {
	onEveryRedis(t, func(t *testing.T, kind testenv.RedisKind) {
		s := newBackendOn(t, kind).open(t)
		room := mustRoom(t, s)
		now := time.Now()
		for range 3 {
			if _, _, err := s.Enqueue(ctx, room, newTicket(now, "")); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.SetServing(ctx, room, 2, now); err != nil {
			t.Fatal(err)
		}
		if c, err := s.Counters(ctx, room); err != nil || c.Stale || c.Queue != 3 || c.Serving != 2 {
			t.Fatalf("counters = %+v, %v", c, err)
		}
		// As a replica a few writes behind would hold it.
		if err := s.Redis().HSet(ctx, s.CountersKeyForTest(room), "q", 1, "s", 0, "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
		c, err := s.Counters(ctx, room)
		if err != nil || !c.Stale || c.Queue != 3 || c.Serving != 2 {
			t.Fatalf("counters over a copy that moved back = %+v, %v; want queue 3 serving 2 from PostgreSQL, stale", c, err)
		}
		s.RepairStaleNow(ctx)
		if c, err := s.Counters(ctx, room); err != nil || c.Stale || c.Queue != 3 || c.Serving != 2 {
			t.Fatalf("counters after the repair = %+v, %v; want queue 3 serving 2, fresh", c, err)
		}
	})
}

// The stored form of an idempotency key is fixed (0001_core.sql): the
// first 16 bytes of SHA-256 over room, a zero byte, the generation as 8
// big-endian bytes and the key. Tickets stored by earlier versions, which
// derived it in Go, must keep answering their keys.
func TestIdempotencyKeyStoredForm(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	s := b.open(t)
	room := mustRoom(t, s)
	now := time.Now()
	for _, key := range []string{"browser-1", "é ü 😀", "\xff\xfe not UTF-8", strings.Repeat("k", 512)} {
		tk, created, err := s.Enqueue(ctx, room, newTicket(now, key))
		if err != nil || !created {
			t.Fatalf("key %q: created=%v, %v", key, created, err)
		}
		h := sha256.New()
		h.Write([]byte(room))
		h.Write([]byte{0})
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(tk.Generation)))
		h.Write([]byte(key))
		want := uuid.UUID(h.Sum(nil)[:16]).String()
		var got string
		if err := s.DB().GetContext(ctx, &got, `SELECT idem_key::text FROM tickets WHERE id = $1`, tk.ID); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("key %q stored as %s, want %s", key, got, want)
		}
	}
	// A ticket stored in that form, as an earlier version wrote it, answers
	// its key.
	var gen int64
	if err := s.DB().GetContext(ctx, &gen, `SELECT generation FROM room_state WHERE room = $1`, room); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte(room + "\x00" + string(binary.BigEndian.AppendUint64(nil, uint64(gen))) + "earlier"))
	old := uuid.NewString()
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO tickets (room, generation, position, id, entry_time, idem_key) VALUES ($1, $2, 1000, $3, now(), $4)`,
		room, gen, old, uuid.UUID(h[:16]).String()); err != nil {
		t.Fatal(err)
	}
	tk, created, err := s.Enqueue(ctx, room, newTicket(now, "earlier"))
	if err != nil || created || tk.ID != old || tk.Position != 1000 {
		t.Fatalf("the earlier ticket's key gave %+v, created=%v, %v", tk, created, err)
	}
}

// A token insert takes the room's fence, the one a rebuild holds
// exclusively (fence.go; waitroom_insert_tokens computes its key in SQL):
// while it is held, CreateToken waits, and it stores the record once the
// fence is released.
func TestTokenInsertWaitsForTheFence(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	s := b.open(t)
	room := mustRoom(t, s)
	now := time.Now().UTC().Truncate(time.Second)
	tk, _, err := s.Enqueue(ctx, room, newTicket(now, ""))
	if err != nil {
		t.Fatal(err)
	}
	release, err := s.HoldTokenFenceExclusive(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		created bool
		err     error
	}
	done := make(chan result, 1)
	go func() {
		_, created, err := s.CreateToken(ctx, tokenRecord(tk, now))
		done <- result{created, err}
	}()
	select {
	case r := <-done:
		release()
		t.Fatalf("CreateToken returned (%+v) while the fence was held exclusively", r)
	case <-time.After(300 * time.Millisecond):
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.err != nil || !r.created {
		t.Fatalf("CreateToken after the fence was released = %+v", r)
	}
}
