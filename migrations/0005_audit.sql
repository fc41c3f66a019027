-- The audit trail: every change made through the admin API or the control
-- panel, with the record before and after (secrets redacted). Read per
-- room, newest first.
CREATE TABLE audit_log (
    seq    bigserial PRIMARY KEY,
    at     timestamptz NOT NULL,
    actor  text NOT NULL,
    room   text NOT NULL DEFAULT '',
    action text NOT NULL,
    target text NOT NULL DEFAULT '',
    before jsonb,
    after  jsonb
);
CREATE INDEX audit_log_room ON audit_log (room, seq);
