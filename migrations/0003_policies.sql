-- Admission policies: the webhook outbox and the pre-queue of scheduled
-- rooms. Room settings (mode, inlet, schedule, gate, webhooks) live in the
-- room document and need no table.

-- Deliveries waiting for (or given up by) a webhook receiver. Delivered rows
-- are deleted; pending and failed ones are what the admin API shows.
CREATE TABLE webhook_outbox (
    seq        bigserial PRIMARY KEY,
    room       text NOT NULL,
    url        text NOT NULL,
    event_id   uuid NOT NULL,
    type       text NOT NULL,
    body       bytea NOT NULL,
    state      text NOT NULL DEFAULT 'pending',
    attempts   integer NOT NULL DEFAULT 0,
    next_at    timestamptz NOT NULL,
    last_error text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL
);
-- The head of each stream (room, url) is its lowest pending seq.
CREATE INDEX webhook_outbox_streams ON webhook_outbox (room, url, seq) WHERE state = 'pending';
CREATE INDEX webhook_outbox_room ON webhook_outbox (room, state, seq);

-- One draw per scheduled room: the seed whose hash is published when the
-- pre-queue opens, and the progress of the opening pass. next_seq hands out
-- entry numbers under the row lock, so numbers follow commit order and the
-- opening pass never skips an entry committed late.
CREATE TABLE prequeue_draws (
    room         text PRIMARY KEY,
    seed         bytea NOT NULL,
    committed_at timestamptz NOT NULL,
    converted    bigint NOT NULL DEFAULT 0,
    opened       boolean NOT NULL DEFAULT false,
    next_seq     bigint NOT NULL DEFAULT 0
);

CREATE TABLE prequeue_entries (
    room      text NOT NULL,
    seq       bigint NOT NULL,
    id        uuid NOT NULL,
    idem_key  text,
    joined_at timestamptz NOT NULL,
    PRIMARY KEY (room, seq)
);
CREATE UNIQUE INDEX prequeue_entries_id ON prequeue_entries (room, id);
CREATE UNIQUE INDEX prequeue_entries_key ON prequeue_entries (room, idem_key) WHERE idem_key IS NOT NULL;
