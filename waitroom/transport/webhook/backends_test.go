package webhook

import (
	"context"
	"testing"

	"github.com/waitroom-idp/waitroom/waitroom/backend/redispg"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

// openPostgresOutbox opens the PostgreSQL outbox; reopen opens another
// store on the same schema, as a restarted server would.
func openPostgresOutbox(t *testing.T) (Outbox, func() Outbox) {
	cfg := redispg.Config{DatabaseURL: testenv.Postgres(t), MaxOpenConns: 4}
	cfg.RedisURL, cfg.KeyPrefix = testenv.Redis(t)
	open := func() Outbox {
		st, err := redispg.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st.Outbox()
	}
	return open(), open
}
