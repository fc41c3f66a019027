package redispg

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// OpenID clients registered through the admin API and refresh tokens, in
// the tables of migrations/0002_oidc.sql.

// clients is the PostgreSQL waitroom.ClientStore.
type clients struct{ db *sqlx.DB }

// refreshTokens is the PostgreSQL waitroom.RefreshStore.
type refreshTokens struct{ db *sqlx.DB }

// CreateClient stores a new client.
func (s clients) CreateClient(ctx context.Context, c waitroom.Client) error {
	doc, hash, err := encodeClient(c)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO oidc_clients (id, doc, secret_hash, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5)`, c.ID, string(doc), hash, c.CreatedAt, c.UpdatedAt)
	return mapRecordErr(err, "client")
}

// encodeClient returns the JSON document (sent as text: with lib/pq's
// binary_parameters a []byte would reach jsonb in binary form) and the
// secret hash.
func encodeClient(c waitroom.Client) ([]byte, string, error) {
	hash := c.SecretHash
	c.Secret, c.SecretHash = "", ""
	doc, err := json.Marshal(c)
	return doc, hash, mapRecordErr(err, "client")
}

func decodeClient(doc []byte, hash string) (waitroom.Client, error) {
	var c waitroom.Client
	if err := json.Unmarshal(doc, &c); err != nil {
		return c, mapRecordErr(err, "client")
	}
	c.SecretHash = hash
	return c, nil
}

type clientRow struct {
	Doc  []byte `db:"doc"`
	Hash string `db:"secret_hash"`
}

// Client returns one client.
func (s clients) Client(ctx context.Context, id string) (waitroom.Client, error) {
	var row clientRow
	err := s.db.GetContext(ctx, &row, `SELECT doc, secret_hash FROM oidc_clients WHERE id = $1`, id)
	if err != nil {
		return waitroom.Client{}, mapRecordErr(err, "client")
	}
	return decodeClient(row.Doc, row.Hash)
}

// Clients returns every client, ordered by id.
func (s clients) Clients(ctx context.Context) ([]waitroom.Client, error) {
	var rows []clientRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT doc, secret_hash FROM oidc_clients ORDER BY id`); err != nil {
		return nil, mapRecordErr(err, "clients")
	}
	out := make([]waitroom.Client, 0, len(rows))
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
func (s clients) UpdateClient(ctx context.Context, id string, fn func(*waitroom.Client) error) (waitroom.Client, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return waitroom.Client{}, mapRecordErr(err, "client")
	}
	defer tx.Rollback()
	var row clientRow
	if err := tx.GetContext(ctx, &row, `SELECT doc, secret_hash FROM oidc_clients WHERE id = $1 FOR UPDATE`, id); err != nil {
		return waitroom.Client{}, mapRecordErr(err, "client")
	}
	c, err := decodeClient(row.Doc, row.Hash)
	if err != nil {
		return c, err
	}
	if err := fn(&c); err != nil {
		return waitroom.Client{}, err
	}
	c.ID, c.Secret = id, ""
	doc, hash, err := encodeClient(c)
	if err != nil {
		return c, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE oidc_clients SET doc = $2, secret_hash = $3, updated_at = $4 WHERE id = $1`,
		id, string(doc), hash, c.UpdatedAt); err != nil {
		return waitroom.Client{}, mapRecordErr(err, "client")
	}
	return c, mapRecordErr(tx.Commit(), "client")
}

// DeleteClient removes a client.
func (s clients) DeleteClient(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM oidc_clients WHERE id = $1`, id)
	if err != nil {
		return mapRecordErr(err, "client")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("client")
	}
	return nil
}

// CreateRefreshToken stores a token.
func (s refreshTokens) CreateRefreshToken(ctx context.Context, t waitroom.RefreshToken) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO oidc_refresh_tokens (id, grant_id, client_id, grant_doc, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, t.ID, t.GrantID, t.ClientID, t.Grant, t.CreatedAt, t.ExpiresAt)
	return mapRecordErr(err, "refresh token")
}

type refreshRow struct {
	ID        string     `db:"id"`
	GrantID   string     `db:"grant_id"`
	ClientID  string     `db:"client_id"`
	Grant     []byte     `db:"grant_doc"`
	CreatedAt time.Time  `db:"created_at"`
	ExpiresAt time.Time  `db:"expires_at"`
	UsedAt    *time.Time `db:"used_at"`
}

func (r refreshRow) token() waitroom.RefreshToken {
	t := waitroom.RefreshToken{ID: r.ID, GrantID: r.GrantID, ClientID: r.ClientID, Grant: r.Grant,
		CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt}
	if r.UsedAt != nil {
		t.UsedAt = r.UsedAt.UTC()
	}
	return t
}

// unexpired reads an unexpired token, used or not: ErrRefreshReused once
// used.
func (s refreshTokens) unexpired(ctx context.Context, id string, now time.Time) (waitroom.RefreshToken, error) {
	var r refreshRow
	err := s.db.GetContext(ctx, &r, `SELECT * FROM oidc_refresh_tokens WHERE id = $1 AND expires_at > $2`, id, now)
	if err != nil {
		return waitroom.RefreshToken{}, mapRecordErr(err, "refresh token")
	}
	if r.UsedAt != nil {
		return r.token(), waitroom.ErrRefreshReused()
	}
	return r.token(), nil
}

// RefreshToken returns a live token (see unexpired).
func (s refreshTokens) RefreshToken(ctx context.Context, id string, now time.Time) (waitroom.RefreshToken, error) {
	return s.unexpired(ctx, id, now)
}

// TakeRefreshToken marks a live token used and returns it: one statement,
// so of concurrent callers exactly one gets the row; the others find it
// used.
func (s refreshTokens) TakeRefreshToken(ctx context.Context, id string, now time.Time) (waitroom.RefreshToken, error) {
	var r refreshRow
	err := s.db.GetContext(ctx, &r, `UPDATE oidc_refresh_tokens SET used_at = $2
		WHERE id = $1 AND expires_at > $2 AND used_at IS NULL RETURNING *`, id, now)
	if errors.Is(err, sql.ErrNoRows) {
		return s.unexpired(ctx, id, now)
	}
	return r.token(), mapRecordErr(err, "refresh token")
}

// RevokeGrant removes every token of a grant (indexed).
func (s refreshTokens) RevokeGrant(ctx context.Context, grantID string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM oidc_refresh_tokens WHERE grant_id = $1`, grantID)
	return mapRecordErr(err, "refresh token")
}

// DeleteExpiredRefreshTokens removes tokens expired before now.
func (s refreshTokens) DeleteExpiredRefreshTokens(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM oidc_refresh_tokens WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, mapRecordErr(err, "refresh token")
	}
	return res.RowsAffected()
}

// DeploymentSecret reads the deployment's secret, creating it once: of replicas
// starting together, the first insert wins and everyone reads its value.
func (s *Store) DeploymentSecret(ctx context.Context) ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, waitroom.Wrap(waitroom.CodeInternal, err, "cannot make a secret")
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO oidc_settings (name, value) VALUES ('provider_key', $1)
		ON CONFLICT (name) DO NOTHING`, key); err != nil {
		return nil, mapErr(err, "deployment secret")
	}
	var stored []byte
	err := s.db.GetContext(ctx, &stored, `SELECT value FROM oidc_settings WHERE name = 'provider_key'`)
	return stored, mapErr(err, "deployment secret")
}
