package redispg

import (
	"context"
	"database/sql"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

type keyRow struct {
	ID        string       `db:"id"`
	Algorithm string       `db:"algorithm"`
	Private   []byte       `db:"private_key"`
	CreatedAt time.Time    `db:"created_at"`
	SignsFrom time.Time    `db:"signs_from"`
	RetiredAt sql.NullTime `db:"retired_at"`
}

// SigningKeys returns every stored key, oldest first.
func (s *Store) SigningKeys(ctx context.Context) ([]waitroom.SigningKey, error) {
	var rows []keyRow
	if err := s.db.SelectContext(ctx, &rows, `
		SELECT id, algorithm, private_key, created_at, signs_from, retired_at
		FROM signing_keys ORDER BY created_at, id`); err != nil {
		return nil, mapErr(err, "the signing keys could not be read")
	}
	keys := make([]waitroom.SigningKey, len(rows))
	for i, r := range rows {
		keys[i] = waitroom.SigningKey{ID: r.ID, Algorithm: r.Algorithm, Private: r.Private,
			CreatedAt: r.CreatedAt.UTC(), SignsFrom: r.SignsFrom.UTC()}
		if r.RetiredAt.Valid {
			keys[i].RetiredAt = r.RetiredAt.Time.UTC()
		}
	}
	return keys, nil
}

// AddSigningKey stores a new key; CodeConflict if the id exists.
func (s *Store) AddSigningKey(ctx context.Context, key waitroom.SigningKey) error {
	retired := sql.NullTime{Time: key.RetiredAt, Valid: !key.RetiredAt.IsZero()}
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO signing_keys (id, algorithm, private_key, created_at, signs_from, retired_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, key.ID, key.Algorithm, key.Private, key.CreatedAt, key.SignsFrom, retired)
	if waitroom.ErrorCode(mapErr(err, "")) == waitroom.CodeConflict {
		return waitroom.Wrap(waitroom.CodeConflict, err, "a signing key with this id exists")
	}
	return mapErr(err, "the signing key could not be stored")
}

// RetireSigningKey sets RetiredAt on a key.
func (s *Store) RetireSigningKey(ctx context.Context, id string, at time.Time) error {
	return s.changeKey(ctx, `UPDATE signing_keys SET retired_at = $2 WHERE id = $1`, id, at)
}

// DeleteSigningKey removes a key.
func (s *Store) DeleteSigningKey(ctx context.Context, id string) error {
	return s.changeKey(ctx, `DELETE FROM signing_keys WHERE id = $1`, id)
}

func (s *Store) changeKey(ctx context.Context, query string, args ...any) error {
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return mapErr(err, "the signing key could not be changed")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("signing key")
	}
	return nil
}
