// Package pgstore is the PostgreSQL oidc.Store: API clients and refresh
// tokens in the tables of migrations/0002_oidc.sql. It passes
// oidc/storetest.
package pgstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/waitroom-idp/waitroom/oidc"
)

// Store is an oidc.Store on PostgreSQL. The schema comes from the
// migrations package (applied by the production backend at start-up).
type Store struct{ db *sqlx.DB }

var _ oidc.Store = (*Store)(nil)

// New returns a store on db.
func New(db *sqlx.DB) *Store { return &Store{db: db} }

// CreateClient stores a new client.
func (s *Store) CreateClient(ctx context.Context, c oidc.Client) error {
	doc, hash, err := encodeClient(c)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO oidc_clients (id, doc, secret_hash, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5)`, c.ID, string(doc), hash, c.CreatedAt, c.UpdatedAt)
	return mapErr(err, "client")
}

// encodeClient returns the JSON document (sent as text: with lib/pq's
// binary_parameters a []byte would reach jsonb in binary form) and the
// secret hash.
func encodeClient(c oidc.Client) ([]byte, string, error) {
	hash := c.SecretHash
	c.Secret, c.SecretHash = "", ""
	doc, err := json.Marshal(c)
	return doc, hash, mapErr(err, "client")
}

func decodeClient(doc []byte, hash string) (oidc.Client, error) {
	var c oidc.Client
	if err := json.Unmarshal(doc, &c); err != nil {
		return c, mapErr(err, "client")
	}
	c.SecretHash = hash
	return c, nil
}

type clientRow struct {
	Doc  []byte `db:"doc"`
	Hash string `db:"secret_hash"`
}

// Client returns one client.
func (s *Store) Client(ctx context.Context, id string) (oidc.Client, error) {
	var row clientRow
	err := s.db.GetContext(ctx, &row, `SELECT doc, secret_hash FROM oidc_clients WHERE id = $1`, id)
	if err != nil {
		return oidc.Client{}, mapErr(err, "client")
	}
	return decodeClient(row.Doc, row.Hash)
}

// Clients returns every client, ordered by id.
func (s *Store) Clients(ctx context.Context) ([]oidc.Client, error) {
	var rows []clientRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT doc, secret_hash FROM oidc_clients ORDER BY id`); err != nil {
		return nil, mapErr(err, "clients")
	}
	out := make([]oidc.Client, 0, len(rows))
	for _, r := range rows {
		c, err := decodeClient(r.Doc, r.Hash)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// UpdateClient applies fn inside a transaction that holds the row lock.
func (s *Store) UpdateClient(ctx context.Context, id string, fn func(*oidc.Client) error) (oidc.Client, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return oidc.Client{}, mapErr(err, "client")
	}
	defer tx.Rollback()
	var row clientRow
	if err := tx.GetContext(ctx, &row, `SELECT doc, secret_hash FROM oidc_clients WHERE id = $1 FOR UPDATE`, id); err != nil {
		return oidc.Client{}, mapErr(err, "client")
	}
	c, err := decodeClient(row.Doc, row.Hash)
	if err != nil {
		return c, err
	}
	if err := fn(&c); err != nil {
		return oidc.Client{}, err
	}
	c.ID, c.Secret = id, ""
	doc, hash, err := encodeClient(c)
	if err != nil {
		return c, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE oidc_clients SET doc = $2, secret_hash = $3, updated_at = $4 WHERE id = $1`,
		id, string(doc), hash, c.UpdatedAt); err != nil {
		return oidc.Client{}, mapErr(err, "client")
	}
	return c, mapErr(tx.Commit(), "client")
}

// DeleteClient removes a client.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM oidc_clients WHERE id = $1`, id)
	if err != nil {
		return mapErr(err, "client")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return mapErr(sql.ErrNoRows, "client")
	}
	return nil
}

// ProviderKey reads the deployment's key, creating it once: of replicas
// starting together, the first insert wins and everyone reads its value.
func (s *Store) ProviderKey(ctx context.Context) ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO oidc_settings (name, value) VALUES ('provider_key', $1)
		ON CONFLICT (name) DO NOTHING`, key); err != nil {
		return nil, mapErr(err, "provider key")
	}
	var stored []byte
	err := s.db.GetContext(ctx, &stored, `SELECT value FROM oidc_settings WHERE name = 'provider_key'`)
	return stored, mapErr(err, "provider key")
}

// CreateRefreshToken stores a token.
func (s *Store) CreateRefreshToken(ctx context.Context, t oidc.RefreshToken) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO oidc_refresh_tokens (id, grant_id, client_id, grant_doc, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, t.ID, t.GrantID, t.ClientID, t.Grant, t.CreatedAt, t.ExpiresAt)
	return mapErr(err, "refresh token")
}

type refreshRow struct {
	ID        string    `db:"id"`
	GrantID   string    `db:"grant_id"`
	ClientID  string    `db:"client_id"`
	Grant     []byte    `db:"grant_doc"`
	CreatedAt time.Time `db:"created_at"`
	ExpiresAt time.Time `db:"expires_at"`
}

func (r refreshRow) token() oidc.RefreshToken {
	return oidc.RefreshToken{ID: r.ID, GrantID: r.GrantID, ClientID: r.ClientID, Grant: r.Grant,
		CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt}
}

// RefreshToken returns a live token.
func (s *Store) RefreshToken(ctx context.Context, id string, now time.Time) (oidc.RefreshToken, error) {
	var r refreshRow
	err := s.db.GetContext(ctx, &r, `SELECT * FROM oidc_refresh_tokens WHERE id = $1 AND expires_at > $2`, id, now)
	return r.token(), mapErr(err, "refresh token")
}

// TakeRefreshToken deletes a live token and returns it: one statement, so
// of concurrent callers exactly one gets the row.
func (s *Store) TakeRefreshToken(ctx context.Context, id string, now time.Time) (oidc.RefreshToken, error) {
	var r refreshRow
	err := s.db.GetContext(ctx, &r, `DELETE FROM oidc_refresh_tokens WHERE id = $1 AND expires_at > $2 RETURNING *`, id, now)
	return r.token(), mapErr(err, "refresh token")
}

// RevokeGrant removes every token of a grant (indexed).
func (s *Store) RevokeGrant(ctx context.Context, grantID string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM oidc_refresh_tokens WHERE grant_id = $1`, grantID)
	return mapErr(err, "refresh token")
}

// DeleteExpiredRefreshTokens removes tokens expired before now.
func (s *Store) DeleteExpiredRefreshTokens(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM oidc_refresh_tokens WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, mapErr(err, "refresh token")
	}
	return res.RowsAffected()
}
