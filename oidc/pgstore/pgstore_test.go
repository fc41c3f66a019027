package pgstore_test

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/waitroom-idp/waitroom/migrations"
	"github.com/waitroom-idp/waitroom/oidc"
	"github.com/waitroom-idp/waitroom/oidc/internal/testdb"
	"github.com/waitroom-idp/waitroom/oidc/pgstore"
	"github.com/waitroom-idp/waitroom/oidc/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) oidc.Store {
		db, err := sqlx.Open("postgres", testdb.Postgres(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := migrations.Apply(context.Background(), db.DB); err != nil {
			t.Fatal(err)
		}
		return pgstore.New(db)
	})
}
