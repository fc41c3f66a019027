-- OpenID provider: clients registered through the admin API and refresh
-- tokens. Clients from the config file are not stored here.

-- A client's settings are one JSON document (without the secret), so that
-- new settings need no migration; the secret is kept as a keyed hash.
CREATE TABLE oidc_clients (
    id          text PRIMARY KEY,
    doc         jsonb NOT NULL,
    secret_hash text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- id is a keyed hash of the token; the token itself is never stored.
-- Rotation deletes the row (DELETE ... RETURNING), which makes it single use.
CREATE TABLE oidc_refresh_tokens (
    id         text PRIMARY KEY,
    grant_id   text NOT NULL,
    client_id  text NOT NULL,
    grant_doc  bytea NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX oidc_refresh_tokens_grant ON oidc_refresh_tokens (grant_id);
CREATE INDEX oidc_refresh_tokens_expiry ON oidc_refresh_tokens (expires_at);

-- Provider-wide values, such as the key that signs the room cookies when
-- the configuration gives none (created once, shared by every replica).
CREATE TABLE oidc_settings (
    name  text PRIMARY KEY,
    value bytea NOT NULL
);
