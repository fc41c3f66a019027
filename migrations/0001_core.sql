-- Queue core: rooms, their counters, tickets, tokens, serving history and
-- signing keys. PostgreSQL is the source of truth; Redis holds a fast copy of
-- room_state and the per-room active-token set, rebuilt from here if lost.

-- A room's settings are one JSON document so that new settings need no
-- migration.
CREATE TABLE rooms (
    id         text PRIMARY KEY,
    doc        jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per room. Enqueue locks it (FOR UPDATE) to hand out positions;
-- version goes up with every change of serving/expired/max_expired/generation
-- so that Redis never takes an older value over a newer one.
CREATE TABLE room_state (
    room        text PRIMARY KEY REFERENCES rooms (id) ON DELETE CASCADE,
    generation  bigint NOT NULL DEFAULT 0,
    queue       bigint NOT NULL DEFAULT 0,
    serving     bigint NOT NULL DEFAULT 0,
    version     bigint NOT NULL DEFAULT 0,
    expired     bigint NOT NULL DEFAULT 0,
    max_expired bigint NOT NULL DEFAULT 0
);

-- Rows of earlier generations no longer count; they are deleted lazily.
-- idem_key is the first 16 bytes of SHA-256 over (room, generation, the
-- caller's idempotency key): fixed size, no collation, and unique on its
-- own, so its index is the only one a key lookup can use (a lookup that a
-- planner without statistics turned into a scan of the room's tickets
-- would cost O(queue length) per enqueue).
-- No foreign key to rooms: a room's rows are deleted by DeleteRoom, and a
-- key check on every ticket insert would cost more than it guards.
CREATE TABLE tickets (
    room       text NOT NULL,
    generation bigint NOT NULL,
    position   bigint NOT NULL,
    id         uuid NOT NULL,
    entry_time timestamptz NOT NULL,
    idem_key   uuid,
    PRIMARY KEY (room, generation, position)
);
CREATE UNIQUE INDEX tickets_idem_key ON tickets (idem_key) WHERE idem_key IS NOT NULL;
-- Ticket ids are random UUIDs: unique on their own. A unique index on the
-- id alone is half the size of one on (room, id), and the planner knows it
-- matches one row, so lookups never turn into scans of a room.
CREATE UNIQUE INDEX tickets_id ON tickets (id);

CREATE TABLE tokens (
    room           text NOT NULL,
    generation     bigint NOT NULL,
    request_id     uuid NOT NULL,
    position       bigint NOT NULL,
    issuer         text NOT NULL,
    issued_at      timestamptz NOT NULL,
    not_before     timestamptz NOT NULL,
    expires        timestamptz NOT NULL,
    kid            text NOT NULL,
    session_status smallint NOT NULL DEFAULT 0,
    -- request_id first: lookups by request id then never tie, in the
    -- planner's eyes, with the (room, generation, ...) indexes below.
    PRIMARY KEY (request_id, room, generation)
);
-- Paging through expired tokens by (expires, request_id).
CREATE INDEX tokens_expires ON tokens (room, generation, expires, request_id);
-- The expiry job counts tokens in a range of positions.
CREATE INDEX tokens_position ON tokens (room, generation, position);

CREATE TABLE serving_history (
    room       text NOT NULL,
    generation bigint NOT NULL,
    serving    bigint NOT NULL,
    issued_at  timestamptz NOT NULL
);
CREATE INDEX serving_history_lookup ON serving_history (room, generation, serving, issued_at);

CREATE TABLE signing_keys (
    id          text PRIMARY KEY,
    algorithm   text NOT NULL,
    private_key bytea NOT NULL,
    created_at  timestamptz NOT NULL,
    signs_from  timestamptz NOT NULL,
    retired_at  timestamptz
);
