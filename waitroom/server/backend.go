package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/embedded"
	"github.com/waitroom-idp/waitroom/waitroom/backend/redispg"
)

// openBackend is the one place that picks a backend: the embedded store
// when neither Redis nor PostgreSQL is configured, the production backend
// otherwise, failing fast with a clear message when a service does not
// answer. onBatch hears the size of every group commit (a metric).
func openBackend(ctx context.Context, cfg Config, logger *slog.Logger, onBatch func(int)) (*waitroom.Backend, error) {
	if cfg.Embedded() {
		return openEmbedded(cfg, logger)
	}
	b, err := redispg.Open(ctx, redispg.Config{
		DatabaseURL:     cfg.DatabaseURL,
		DatabaseReadURL: cfg.DatabaseReadURL,
		RedisURL:        cfg.RedisURL,
		RedisCluster:    cfg.RedisCluster,
		KeyPrefix:       cfg.RedisKeyPrefix,
		MaxOpenConns:    cfg.DatabaseMaxConns,
		OnEnqueueBatch:  onBatch,
		Logger:          logger,
	})
	if err != nil {
		return nil, fmt.Errorf("opening the Redis + PostgreSQL backend (redis %s, database %s): %s",
			redactURL(cfg.RedisURL), redactURL(cfg.DatabaseURL), describeOpenError(err, cfg))
	}
	logger.Info("store: "+b.Name, "redis", redactURL(cfg.RedisURL), "database", redactURL(cfg.DatabaseURL))
	return b, nil
}

// describeOpenError is the store's error (which names the service that did
// not answer, and why) without any password.
func describeOpenError(err error, cfg Config) string {
	msg := err.Error()
	for _, u := range []string{cfg.DatabaseURL, cfg.DatabaseReadURL, cfg.RedisURL} {
		msg = redactPassword(msg, u)
	}
	return msg
}

// KeyFileName is the embedded store's file of signing keys, in data_dir.
const KeyFileName = "keys.json"

// legacyKeyFile is where versions before data_dir kept the keys: relative
// to the working directory.
const legacyKeyFile = "waitroom-data/keys.json"

func openEmbedded(cfg Config, logger *slog.Logger) (*waitroom.Backend, error) {
	keyFile := ""
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data_dir: %w (set WAITROOM_DATA_DIR to a folder this user may write)", err)
		}
		keyFile = filepath.Join(cfg.DataDir, KeyFileName)
		warnLegacyKeyFile(keyFile, logger)
	}
	b, err := embedded.Open(embedded.Options{KeyFile: keyFile})
	if err != nil {
		return nil, fmt.Errorf("opening the embedded store: %w", err)
	}
	logger.Warn("store: EMBEDDED in-process store: single node, queues and counters live in memory and are lost on restart; set WAITROOM_REDIS_URL and WAITROOM_DATABASE_URL for production",
		"data_dir", cfg.DataDir)
	return b, nil
}

// warnLegacyKeyFile points at keys an earlier version left in the working
// directory, when data_dir has none yet: moving the file keeps tokens
// signed before the upgrade verifiable.
func warnLegacyKeyFile(keyFile string, logger *slog.Logger) {
	if _, err := os.Stat(keyFile); err == nil {
		return
	}
	if _, err := os.Stat(legacyKeyFile); err == nil {
		logger.Warn("found signing keys of an earlier version in "+legacyKeyFile+"; the keys now live in data_dir: new keys are made there unless you move the file",
			"move_to", keyFile)
	}
}

// Migrate applies the pending PostgreSQL migrations of the production
// backend and returns the names of all migrations.
func Migrate(ctx context.Context, cfg Config) ([]string, error) {
	if cfg.DatabaseURL == "" {
		return nil, fmt.Errorf("migrate: set WAITROOM_DATABASE_URL (or database_url / -database-url); the embedded store needs no migrations")
	}
	names, err := redispg.Migrate(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("migrate (database %s): %s", redactURL(cfg.DatabaseURL), redactPassword(err.Error(), cfg.DatabaseURL))
	}
	return names, nil
}
