-- A rotated refresh token is kept, marked used, until it expires, so that
-- its reuse is recognised and revokes its whole grant (RFC 9700 §4.14.2)
-- instead of being answered as an unknown token.
ALTER TABLE oidc_refresh_tokens ADD COLUMN used_at timestamptz;
