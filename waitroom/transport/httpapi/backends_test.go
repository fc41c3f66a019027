package httpapi_test

import (
	"context"
	"testing"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/redispg"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

// backends are the stores every API test runs against: the embedded store
// and the production Redis + PostgreSQL backend (each test in its own
// schema and key prefix; skipped loudly, or failed under CI=true, when the
// servers are not running).
var backends = []backend{
	{name: "embedded", open: openEmbedded},
	{name: "redispg", open: openRedisPG},
}

func openRedisPG(t testing.TB, _ *testenv.Clock) (waitroom.Store, waitroom.Ephemeral) {
	dsn := testenv.Postgres(t)
	addr, prefix := testenv.Redis(t)
	s, err := redispg.Open(context.Background(), redispg.Config{DatabaseURL: dsn, RedisURL: addr, KeyPrefix: prefix, MaxOpenConns: 4, Logger: quietLogger()})
	if err != nil {
		t.Fatalf("redispg: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, s
}
