package main

import (
	"bytes"
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"

	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

func TestSecretKeyNeverShown(t *testing.T) {
	m, _ := newTestMain(map[string]string{"WAITROOM_SECRET_KEY": "s3cr3t-but-short"})
	err := m.ParseFlags(localFlags(t))
	if err == nil || !strings.Contains(err.Error(), "secret_key") || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("error %v: want secret_key named, its value not", err)
	}
	m, _ = newTestMain(nil)
	if err := m.ParseFlags(localFlags(t, "-secret-key", strings.Repeat("ab", 32))); err == nil {
		t.Fatal("-secret-key accepted: a secret must not sit on the command line")
	}
	good := strings.Repeat("5e", 32)
	var help strings.Builder
	m, _ = newTestMain(map[string]string{"WAITROOM_SECRET_KEY": good})
	m.Stderr = &help
	_ = m.ParseFlags([]string{"-help"})
	if !strings.Contains(help.String(), "WAITROOM_SECRET_KEY") || strings.Contains(help.String(), good) {
		t.Fatalf("help:\n%s", help.String())
	}
}

// TestSecretKeyOnProductionBackend: without secret_key the provider falls
// back to the stored key and the server warns once; with it, nothing is
// stored and nothing is said.
func TestSecretKeyOnProductionBackend(t *testing.T) {
	for _, configured := range []bool{false, true} {
		dsn := testenv.Postgres(t)
		redisURL, prefix := testenv.Redis(t)
		key := strings.Repeat("c4", 32)
		env := map[string]string{"WAITROOM_REDIS_URL": redisURL, "WAITROOM_DATABASE_URL": dsn, "WAITROOM_REDIS_KEY_PREFIX": prefix,
			"WAITROOM_ADMIN_KEY_HASHES": strings.Repeat("0", 64)}
		if configured {
			env["WAITROOM_SECRET_KEY"] = key
		}
		m, _ := newTestMain(env)
		logs := &lockedBuffer{}
		m.Stderr = logs
		if err := m.ParseFlags(localFlags(t, "-log-level", "warn")); err != nil {
			t.Fatal(err)
		}
		if err := m.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		warnings := strings.Count(logs.String(), "secret_key is not set")
		if (configured && warnings != 0) || (!configured && warnings != 1) || strings.Contains(logs.String(), key) {
			t.Fatalf("configured=%v: %d warnings in the log:\n%s", configured, warnings, logs.String())
		}
		db, err := sql.Open("postgres", dsn)
		if err != nil {
			t.Fatal(err)
		}
		var stored int
		if err := db.QueryRow(`SELECT count(*) FROM oidc_settings WHERE name = 'provider_key'`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if want := map[bool]int{false: 1, true: 0}[configured]; stored != want {
			t.Fatalf("configured=%v: %d stored provider keys, want %d", configured, stored, want)
		}
	}
}

// lockedBuffer collects log output that goroutines of the server may still
// write while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
