package pgstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/waitroom-idp/waitroom/migrations"
	"github.com/waitroom-idp/waitroom/oidc"
	"github.com/waitroom-idp/waitroom/oidc/internal/testdb"
	"github.com/waitroom-idp/waitroom/oidc/pgstore"
	"github.com/waitroom-idp/waitroom/oidc/storetest"
)

// TestConformance runs the suite with lib/pq's text and binary parameters
// (the production backend turns binary_parameters on).
func TestConformance(t *testing.T) {
	for _, binary := range []bool{false, true} {
		t.Run(map[bool]string{false: "text", true: "binary"}[binary], func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) oidc.Store {
				dsn := testdb.Postgres(t)
				if binary {
					sep := "&"
					if !strings.Contains(dsn, "?") {
						sep = "?"
					}
					dsn += sep + "binary_parameters=yes"
				}
				db, err := sqlx.Open("postgres", dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				if err := migrations.Apply(context.Background(), db.DB); err != nil {
					t.Fatal(err)
				}
				return pgstore.New(db)
			})
		})
	}
}
