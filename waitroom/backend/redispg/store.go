// Package redispg is the production backend of the queue core: PostgreSQL
// holds every durable fact (rooms, tickets, tokens, serving history, signing
// keys, and per room a room_state row with the counters), Redis holds a
// fast copy of each room's counters and its set of active tokens, plus the
// short-lived Ephemeral values.
//
// Positions are handed out by a per-room group commit (see enqueue.go): one
// PostgreSQL transaction per batch of waiting Enqueue calls, so a ticket is
// durable before its caller hears of it and positions stay contiguous and
// unique across replicas. Redis can be lost at any time: the counters and
// the active-token set are rebuilt from PostgreSQL when found missing.
//
// Every key of a room shares the hash tag {room}, so the backend works on
// Redis Cluster.
package redispg

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // PostgreSQL driver
	"github.com/redis/go-redis/v9"

	"github.com/waitroom-idp/waitroom/migrations"
	"github.com/waitroom-idp/waitroom/waitroom"
)

// Config says where the backing services are.
type Config struct {
	// DatabaseURL is a lib/pq connection string (URL or key=value).
	DatabaseURL string
	// DatabaseReadURL, when set, is a read replica of DatabaseURL (a hot
	// standby) for the reads that tolerate lag: LookupTicket. Everything
	// else, and every ticket the replica does not hold yet, goes to
	// DatabaseURL.
	DatabaseReadURL string
	// RedisURL is a redis:// or rediss:// URL, or a bare host:port. With
	// RedisCluster set it names one or more seed nodes of a Redis Cluster:
	// "redis://node1:6379?addr=node2:6379&addr=node3:6379". With a
	// master_name parameter it names Redis Sentinels, which say where the
	// master of that name is:
	// "redis://sentinel1:26379?master_name=waitroom&addr=sentinel2:26379".
	RedisURL     string
	RedisCluster bool
	// KeyPrefix goes in front of every Redis key ("" by default), so that
	// several deployments or tests can share one Redis.
	KeyPrefix string
	// BatchMax caps the tickets of one group commit (default 1000).
	BatchMax int
	// MaxOpenConns caps the PostgreSQL pool (default 32).
	MaxOpenConns int
	// SkipMigrations leaves the schema alone (when a migrate step runs
	// separately); by default Open applies pending migrations.
	SkipMigrations bool
	// OnEnqueueBatch, when set, hears the number of tickets of every group
	// commit (for a metric).
	OnEnqueueBatch func(size int)
	Logger         *slog.Logger
}

// Store implements waitroom.Store and waitroom.Ephemeral.
type Store struct {
	db       *sqlx.DB
	rdb      redis.UniversalClient
	prefix   string
	batchMax int
	log      *slog.Logger

	mu       sync.Mutex
	closed   bool
	enqueues *batcher[*enqueueRequest] // group commit of Enqueue
	tokens   *batcher[*tokenRequest]   // group commit of CreateToken
	// ticketReads batches the Ticket lookups of a room; lookupReads the
	// LookupTicket ones that go to the read replica (read).
	ticketReads *batcher[*ticketRead]
	lookupReads *batcher[*ticketRead]
	// puts pipelines the PutIfAbsent calls (one lane for the process).
	puts     *batcher[*putRequest]
	read     *sqlx.DB // nil without a read replica
	flushing sync.WaitGroup
	// observeBatch, when set, hears the size of every group commit.
	observeBatch atomic.Pointer[func(size int)]

	stmts stmtCache // prepared statements of the hot paths (stmts.go)

	rebuildMu  sync.Mutex
	rebuilding map[string]*rebuildCall // rebuilds in flight, by room

	staleMu sync.Mutex
	stale   map[string]bool // rooms whose Redis copy is behind

	// lastCounters holds, by room, the counters last read from Redis: the
	// token counts of a read while Redis is unreachable (fallback.go).
	lastCounters sync.Map

	// background work (repair loop, purges of reset generations) runs
	// under bg and is stopped and awaited by Close.
	bg     context.Context
	stopBG context.CancelFunc
	bgWork sync.WaitGroup
}

var (
	_ waitroom.Store     = (*Store)(nil)
	_ waitroom.Ephemeral = (*Store)(nil)
)

const (
	defaultBatchMax = 1000
	openTimeout     = 5 * time.Second
	// commitTimeout bounds one group-commit transaction; it does not follow
	// any caller's context, since the batch serves many callers.
	commitTimeout = 10 * time.Second
	// readTimeout bounds one batched read, for the same reason.
	readTimeout = 10 * time.Second
)

// Open connects to PostgreSQL and Redis, checks that both answer, applies
// pending migrations and returns the backend. An unreachable service gives
// a CodeUnavailable error that names it.
func Open(ctx context.Context, cfg Config) (*waitroom.Backend, error) {
	s, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return s.backend(cfg), nil
}

// backend bundles the store's parts.
func (s *Store) backend(cfg Config) *waitroom.Backend {
	name := "Redis + PostgreSQL"
	if cfg.RedisCluster {
		name = "Redis Cluster + PostgreSQL"
	}
	return &waitroom.Backend{
		Name:      name,
		Store:     s,
		Ephemeral: s,
		Clients:   clients{db: s.db},
		Refresh:   refreshTokens{db: s.db},
		Outbox:    outbox{s: s},
		Prequeue:  prequeue{s: s},
		Lease:     s.lease,
		Audit:     auditTrail{db: s.db},
	}
}

func openStore(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Store{prefix: cfg.KeyPrefix, batchMax: cfg.BatchMax, log: cfg.Logger}
	if s.batchMax <= 0 {
		s.batchMax = defaultBatchMax
	}
	s.enqueues = newBatcher(s, s.batchMax, s.commitBatch)
	s.tokens = newBatcher(s, s.batchMax, s.commitTokens)
	s.ticketReads = newBatcher(s, s.batchMax, s.readTickets)
	s.lookupReads = newBatcher(s, s.batchMax, s.readReplicaTickets)
	s.puts = newBatcher(s, s.batchMax, s.commitPuts)
	if s.log == nil {
		s.log = slog.Default()
	}
	if err := s.openPostgres(ctx, cfg); err != nil {
		return nil, err
	}
	if err := s.openReadReplica(ctx, cfg); err != nil {
		s.db.Close()
		return nil, err
	}
	if err := s.openRedis(ctx, cfg); err != nil {
		s.db.Close()
		s.closeReadReplica()
		return nil, err
	}
	s.stale = map[string]bool{}
	s.rebuilding = map[string]*rebuildCall{}
	s.bg, s.stopBG = context.WithCancel(context.Background())
	s.goBackground(s.repairLoop)
	if cfg.OnEnqueueBatch != nil {
		s.observeEnqueueBatches(cfg.OnEnqueueBatch)
	}
	return s, nil
}

// validate reports every problem of cfg at once.
func (cfg Config) validate() error {
	var problems []string
	if cfg.DatabaseURL == "" {
		problems = append(problems, "database url: required")
	}
	if cfg.RedisURL == "" {
		problems = append(problems, "redis url: required")
	}
	// A brace in the prefix would become the Redis Cluster hash tag of
	// every key, defeating the per-room {room} tags.
	if strings.ContainsAny(cfg.KeyPrefix, "{}") {
		problems = append(problems, "key prefix: must not contain '{' or '}'")
	}
	if cfg.BatchMax < 0 || cfg.MaxOpenConns < 0 {
		problems = append(problems, "batch max, max open conns: must not be negative")
	}
	if len(problems) > 0 {
		return waitroom.Errorf(waitroom.CodeInvalid, "redispg config: %s", strings.Join(problems, "; "))
	}
	return nil
}

func (s *Store) openPostgres(ctx context.Context, cfg Config) error {
	db, err := openPool(ctx, cfg.DatabaseURL, cfg.MaxOpenConns)
	if err != nil {
		return err
	}
	if !cfg.SkipMigrations {
		if err := migrations.Apply(ctx, db.DB); err != nil {
			db.Close()
			return mapErr(err, "applying database migrations failed")
		}
	}
	s.db = db
	return nil
}

// openReadReplica opens the pool of DatabaseReadURL, if set (no
// migrations: a replica follows its primary's schema).
func (s *Store) openReadReplica(ctx context.Context, cfg Config) error {
	if cfg.DatabaseReadURL == "" {
		return nil
	}
	db, err := openPool(ctx, cfg.DatabaseReadURL, cfg.MaxOpenConns)
	if err != nil {
		return waitroom.Wrap(waitroom.ErrorCode(err), err, "database read replica")
	}
	s.read = db
	return nil
}

func (s *Store) closeReadReplica() {
	if s.read != nil {
		s.read.Close()
	}
}

// openPool opens and pings one PostgreSQL pool.
func openPool(ctx context.Context, dsn string, maxOpen int) (*sqlx.DB, error) {
	db, err := sqlx.Open("postgres", withBinaryParameters(dsn))
	if err != nil {
		return nil, waitroom.Wrap(waitroom.CodeInvalid, err, "database url is not valid")
	}
	if maxOpen <= 0 {
		maxOpen = 32
	}
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxOpen)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, waitroom.Wrap(waitroom.CodeUnavailable, err, "PostgreSQL is unreachable")
	}
	return db, nil
}

// withBinaryParameters turns on lib/pq's binary_parameters unless the DSN
// sets it: lib/pq then sends parse, bind and execute together, one round
// trip per query instead of two. (It also sends []byte arguments as binary,
// so this package passes JSON as strings.)
func withBinaryParameters(dsn string) string {
	if strings.Contains(dsn, "binary_parameters") {
		return dsn
	}
	if !strings.Contains(dsn, "://") {
		return dsn + " binary_parameters=yes"
	}
	if strings.Contains(dsn, "?") {
		return dsn + "&binary_parameters=yes"
	}
	return dsn + "?binary_parameters=yes"
}

func (s *Store) openRedis(ctx context.Context, cfg Config) error {
	client, err := newRedisClient(cfg)
	if err != nil {
		return waitroom.Wrap(waitroom.CodeInvalid, err, "redis url is not valid")
	}
	pctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		client.Close()
		return waitroom.Wrap(waitroom.CodeUnavailable, err, "Redis is unreachable")
	}
	s.rdb = client
	s.warnIfEvicting(pctx)
	return nil
}

// warnIfEvicting logs when Redis may evict keys under memory pressure: an
// evicted active-token set is not noticed (only a missing counters hash
// triggers a rebuild), so the backend wants maxmemory-policy noeviction.
// Best effort: managed Redis services often refuse CONFIG.
func (s *Store) warnIfEvicting(ctx context.Context) {
	policy, err := s.rdb.ConfigGet(ctx, "maxmemory-policy").Result()
	if err != nil {
		return
	}
	if p, ok := policy["maxmemory-policy"]; ok && p != "noeviction" {
		s.log.Warn("Redis may evict keys; set maxmemory-policy noeviction so that waiting-room counters are never dropped", "maxmemory-policy", p)
	}
}

func newRedisClient(cfg Config) (redis.UniversalClient, error) {
	url := cfg.RedisURL
	if !strings.Contains(url, "://") {
		url = "redis://" + url
	}
	sentinel := strings.Contains(url, "master_name=")
	switch {
	case cfg.RedisCluster && sentinel:
		return nil, errors.New("redis: a Sentinel URL (master_name) and Redis Cluster cannot be combined")
	case cfg.RedisCluster:
		opts, err := redis.ParseClusterURL(url)
		if err != nil {
			return nil, err
		}
		return newClusterClient(opts), nil
	case sentinel:
		opts, err := redis.ParseFailoverURL(url)
		if err != nil {
			return nil, err
		}
		opts.MaxRetries, opts.DialerRetries = noRetries(opts.MaxRetries), fewDialRetries(opts.DialerRetries)
		return redis.NewFailoverClient(opts), nil
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	opts.MaxRetries, opts.DialerRetries = noRetries(opts.MaxRetries), fewDialRetries(opts.DialerRetries)
	return redis.NewClient(opts), nil
}

// noRetries turns off command retries unless the URL asked for them: a
// retried HINCRBY or GETDEL whose first attempt did run would count twice
// or lose a value, and a waiting room under an outage should answer
// "unavailable" quickly rather than pile up callers. (Redis Cluster: see
// cluster.go.)
func noRetries(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// fewDialRetries bounds how long a call waits for a Redis that is down.
func fewDialRetries(n int) int {
	if n == 0 {
		return 2
	}
	return n
}

// goBackground runs fn in the background unless the store is closing.
func (s *Store) goBackground(fn func(ctx context.Context)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.bgWork.Add(1)
	go func() {
		defer s.bgWork.Done()
		fn(s.bg)
	}()
}

// Ping reports whether PostgreSQL and Redis both answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return mapErr(err, "PostgreSQL is unreachable")
	}
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return mapErr(err, "Redis is unreachable")
	}
	return nil
}

// Close flushes the pending group commits, then closes both connections.
// Enqueue calls after Close fail with CodeUnavailable.
func (s *Store) Close() error {
	s.mu.Lock()
	already := s.closed
	s.closed = true
	s.mu.Unlock()
	if already {
		return nil
	}
	s.flushing.Wait()
	s.stopBG()
	s.bgWork.Wait()
	s.closeStmts()
	var readErr error
	if s.read != nil {
		readErr = s.read.Close()
	}
	return errors.Join(s.db.Close(), readErr, s.rdb.Close())
}

// Migrate applies the pending migrations to the database at databaseURL
// (under the migrations' lock, so replicas starting together apply each
// once) and returns the names of all migrations.
func Migrate(ctx context.Context, databaseURL string) ([]string, error) {
	db, err := sqlx.Open("postgres", databaseURL)
	if err != nil {
		return nil, waitroom.Wrap(waitroom.CodeInvalid, err, "database url is not valid")
	}
	defer db.Close()
	pctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		return nil, waitroom.Wrap(waitroom.CodeUnavailable, err, "PostgreSQL is unreachable")
	}
	if err := migrations.Apply(ctx, db.DB); err != nil {
		return nil, err
	}
	return migrations.Versions()
}

// CheckURLs reports what is wrong with the addresses of the backing
// services, without connecting: the configuration is checked before the
// server starts. Messages never quote a URL (it may hold a password).
func CheckURLs(redisURL string, cluster bool, databaseURL string) []string {
	var problems []string
	if redisURL != "" {
		c, err := newRedisClient(Config{RedisURL: redisURL, RedisCluster: cluster})
		if err != nil {
			problems = append(problems, "redis_url: not a valid Redis URL: want redis://[user:password@]host:port[/db] or rediss://…")
		} else {
			c.Close() // made, never dialled
		}
	}
	if strings.HasPrefix(databaseURL, "postgres://") || strings.HasPrefix(databaseURL, "postgresql://") {
		if u, err := url.Parse(databaseURL); err != nil || u.Host == "" {
			problems = append(problems, "database_url: not a valid postgres:// URL")
		}
	}
	return problems
}
