package migrations

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	_ "github.com/lib/pq"

	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

// openDB gives the test a schema of its own.
func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", testenv.Postgres(t))
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

// TestTicketsKeyFillfactor: 0004 applies to a database whose tickets
// table holds rows (as a deployment upgrading has) and leaves the primary
// key filling its pages completely.
func TestTicketsKeyFillfactor(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	all, err := Versions()
	if err != nil {
		t.Fatal(err)
	}
	before := fstest.MapFS{}
	for _, name := range all {
		if name < "0004" {
			data, err := files.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			before[name] = &fstest.MapFile{Data: data}
		}
	}
	if err := apply(ctx, db, before); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO tickets (room, generation, position, id, entry_time)
		SELECT 'r', 0, g, gen_random_uuid(), now() FROM generate_series(1, 1000) g`); err != nil {
		t.Fatal(err)
	}
	if err := Apply(ctx, db); err != nil {
		t.Fatal(err)
	}
	var opts string
	if err := db.QueryRow(`SELECT array_to_string(reloptions, ',') FROM pg_class
		WHERE oid = 'tickets_pkey'::regclass`).Scan(&opts); err != nil {
		t.Fatal(err)
	}
	if opts != "fillfactor=100" {
		t.Fatalf("tickets_pkey options %q, want fillfactor=100", opts)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM tickets WHERE room = 'r' AND generation = 0 AND position = 500`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("ticket at position 500 after the migration: %d, %v", n, err)
	}
}
