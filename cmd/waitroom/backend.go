package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // PostgreSQL driver for migrate

	"github.com/waitroom-idp/waitroom/migrations"
	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/embedded"
	"github.com/waitroom-idp/waitroom/waitroom/backend/redispg"
)

// backend is the opened store with what other parts may need from it.
type backend struct {
	Kind      string // "embedded" or "redispg"
	Store     waitroom.Store
	Ephemeral waitroom.Ephemeral
	// DB is the PostgreSQL handle (nil on the embedded store), for
	// components that keep their own tables (OpenID clients, refresh tokens).
	DB *sqlx.DB
}

// openBackend opens the embedded store when neither Redis nor PostgreSQL is
// configured, the production backend otherwise, failing fast with a clear
// message when a service does not answer.
func openBackend(ctx context.Context, cfg Config, logger *slog.Logger) (*backend, error) {
	if cfg.Embedded() {
		return openEmbedded(cfg, logger)
	}
	s, err := redispg.Open(ctx, redispg.Config{
		DatabaseURL:  cfg.DatabaseURL,
		RedisURL:     cfg.RedisURL,
		RedisCluster: cfg.RedisCluster,
		KeyPrefix:    cfg.RedisKeyPrefix,
		MaxOpenConns: cfg.DatabaseMaxConns,
		Logger:       logger,
	})
	if err != nil {
		return nil, fmt.Errorf("opening the Redis + PostgreSQL backend (redis %s, database %s): %s",
			redactURL(cfg.RedisURL), redactURL(cfg.DatabaseURL), describeOpenError(err, cfg))
	}
	mode := "Redis"
	if cfg.RedisCluster {
		mode = "Redis Cluster"
	}
	logger.Info("store: "+mode+" + PostgreSQL", "redis", redactURL(cfg.RedisURL), "database", redactURL(cfg.DatabaseURL))
	return &backend{Kind: "redispg", Store: s, Ephemeral: s, DB: s.DB()}, nil
}

// describeOpenError is the store's error (which names the service that did
// not answer, and why) without any password.
func describeOpenError(err error, cfg Config) string {
	msg := err.Error()
	for _, u := range []string{cfg.DatabaseURL, cfg.RedisURL} {
		msg = redactPassword(msg, u)
	}
	return msg
}

func openEmbedded(cfg Config, logger *slog.Logger) (*backend, error) {
	if cfg.KeyFile != "" {
		if err := os.MkdirAll(filepath.Dir(cfg.KeyFile), 0o700); err != nil {
			return nil, fmt.Errorf("key_file: %w", err)
		}
	}
	s, err := embedded.New(embedded.Options{KeyFile: cfg.KeyFile})
	if err != nil {
		return nil, fmt.Errorf("opening the embedded store: %w", err)
	}
	logger.Warn("store: EMBEDDED in-process store: single node, queues and counters live in memory and are lost on restart; set WAITROOM_REDIS_URL and WAITROOM_DATABASE_URL for production",
		"key_file", cfg.KeyFile)
	return &backend{Kind: "embedded", Store: s, Ephemeral: s}, nil
}

// migrateTimeout bounds the migrate command, lock wait included.
const migrateTimeout = 5 * time.Minute

// migrate applies the pending migrations and lists them.
func (m *Main) migrate(ctx context.Context) error {
	if m.Config.DatabaseURL == "" {
		return fmt.Errorf("migrate: set WAITROOM_DATABASE_URL (or database_url / -database-url); the embedded store needs no migrations")
	}
	ctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	db, err := sql.Open("postgres", m.Config.DatabaseURL)
	if err != nil {
		return fmt.Errorf("migrate: database_url: %s", redactPassword(err.Error(), m.Config.DatabaseURL))
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("migrate: cannot reach PostgreSQL at %s: %s", redactURL(m.Config.DatabaseURL), redactPassword(err.Error(), m.Config.DatabaseURL))
	}
	if err := migrations.Apply(ctx, db); err != nil {
		return fmt.Errorf("migrate: %s", redactPassword(err.Error(), m.Config.DatabaseURL))
	}
	names, err := migrations.Versions()
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "database schema is up to date (%d migrations: %s … %s)\n", len(names), names[0], names[len(names)-1])
	return nil
}
