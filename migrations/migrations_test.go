package migrations

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	_ "github.com/lib/pq"
)

// openDB gives the test a schema of its own. It repeats the few lines of
// waitroom/internal/testenv because Go forbids importing that package from
// here.
func openDB(t *testing.T) *sql.DB {
	t.Helper()
	base := os.Getenv("WAITROOM_TEST_DATABASE_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	admin, err := sql.Open("postgres", base)
	if err == nil {
		err = admin.Ping()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL unreachable and CI=true: %v", err)
		}
		t.Skipf("\n!!!!!!!! SKIPPED: PostgreSQL unreachable (%v); set WAITROOM_TEST_DATABASE_URL", err)
	}
	schema := fmt.Sprintf("t_mig_%d", time.Now().UnixNano())
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := sql.Open("postgres", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func recorded(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	return got
}

func TestApplyTwiceIsNoOp(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if err := Apply(ctx, db); err != nil {
			t.Fatalf("apply %d: %v", i, err)
		}
	}
	want, _ := Versions()
	if got := recorded(t, db); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("recorded %v, want %v", got, want)
	}
	if _, err := db.Exec(`SELECT room, generation, queue, serving FROM room_state`); err != nil {
		t.Fatalf("core tables missing: %v", err)
	}
}

// Replicas starting together must not apply a file twice: the advisory lock
// makes all but one wait and then find nothing to do.
func TestConcurrentApply(t *testing.T) {
	db := openDB(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- Apply(context.Background(), db)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	want, _ := Versions()
	if got := recorded(t, db); len(got) != len(want) {
		t.Fatalf("recorded %v, want %v", got, want)
	}
}

func TestFailedMigrationLeavesNothing(t *testing.T) {
	db := openDB(t)
	fsys := fstest.MapFS{
		"0001_a.sql": {Data: []byte(`CREATE TABLE a (x int);`)},
		"0002_b.sql": {Data: []byte(`CREATE TABLE b (x int); SELECT nonsense FROM nowhere;`)},
	}
	err := apply(context.Background(), db, fsys)
	if err == nil || !strings.Contains(err.Error(), "0002_b.sql") {
		t.Fatalf("want an error naming 0002_b.sql, got %v", err)
	}
	if got := recorded(t, db); len(got) != 1 || got[0] != "0001_a.sql" {
		t.Fatalf("recorded %v, want only 0001_a.sql", got)
	}
	if _, err := db.Exec(`SELECT * FROM b`); err == nil {
		t.Fatal("table b exists: the failed file was half applied")
	}
	// Fixed file: the next run applies it.
	fsys["0002_b.sql"] = &fstest.MapFile{Data: []byte(`CREATE TABLE b (x int);`)}
	if err := apply(context.Background(), db, fsys); err != nil {
		t.Fatal(err)
	}
	if got := recorded(t, db); len(got) != 2 {
		t.Fatalf("recorded %v", got)
	}
}

func TestBadNameRejected(t *testing.T) {
	if _, err := names(fstest.MapFS{"core.sql": {}}); err == nil {
		t.Fatal("a name without a number was accepted")
	}
}
