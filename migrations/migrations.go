// Package migrations holds the PostgreSQL schema of waitroom as numbered SQL
// files and applies the pending ones at start-up (or from a migrate
// sub-command).
//
// Files are applied in name order, each in its own transaction together with
// its row in schema_migrations, so a failed file leaves nothing half-applied.
// A session advisory lock keyed on the current schema serialises replicas
// that start at the same moment: the second one waits, then finds nothing to
// do.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.sql
var files embed.FS

// lockClass is the first half of the advisory lock key; the second half is a
// hash of the schema name, so tests running in their own schemas do not wait
// for each other.
const lockClass = 0x77616974 // "wait"

// Apply applies every embedded migration that is not yet recorded in
// schema_migrations. Running it again is a no-op.
func Apply(ctx context.Context, db *sql.DB) error {
	return apply(ctx, db, files)
}

// Versions lists the embedded migration names in the order Apply uses.
func Versions() ([]string, error) { return names(files) }

func apply(ctx context.Context, db *sql.DB, fsys fs.FS) error {
	all, err := names(fsys)
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrations: connect: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, hashtext(current_schema()))`, lockClass); err != nil {
		return fmt.Errorf("migrations: lock: %w", err)
	}
	// Unlock with a fresh context: ctx may be the reason we are leaving.
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1, hashtext(current_schema()))`, lockClass)

	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version text PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrations: version table: %w", err)
	}
	done, err := applied(ctx, conn)
	if err != nil {
		return err
	}
	for _, name := range all {
		if done[name] {
			continue
		}
		if err := applyOne(ctx, conn, fsys, name); err != nil {
			return err
		}
	}
	return nil
}

func names(fsys fs.FS) ([]string, error) {
	all, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("migrations: list: %w", err)
	}
	for _, n := range all {
		if !validName(n) {
			return nil, fmt.Errorf("migrations: %s: name must start with four digits and '_'", n)
		}
	}
	sort.Strings(all)
	return all, nil
}

func applied(ctx context.Context, conn *sql.Conn) (map[string]bool, error) {
	rows, err := conn.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("migrations: read versions: %w", err)
	}
	defer rows.Close()
	done := map[string]bool{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("migrations: read versions: %w", err)
		}
		done[v] = true
	}
	return done, rows.Err()
}

func applyOne(ctx context.Context, conn *sql.Conn, fsys fs.FS, name string) error {
	body, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("migrations: read %s: %w", name, err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrations: %s: begin: %w", name, err)
	}
	defer tx.Rollback()
	// No arguments: lib/pq then uses the simple protocol, which runs a
	// file of several statements.
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("migrations: %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, name); err != nil {
		return fmt.Errorf("migrations: %s: record: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrations: %s: commit: %w", name, err)
	}
	return nil
}

// validName requires "NNNN_" in front so that name order is apply order.
func validName(name string) bool {
	return len(name) > 5 && strings.IndexFunc(name[:4], func(r rune) bool { return r < '0' || r > '9' }) < 0 && name[4] == '_'
}
