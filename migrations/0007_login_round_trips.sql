-- Fewer round trips for the two transactions of a login: its place in
-- line (a keyed enqueue) and its admission (the token record).
--
-- waitroom_enqueue_keyed places a batch of tickets that carry idempotency
-- keys (a visitor's ticket cookie, an Idempotency-Key header). It did this
-- from the server in six round trips (BEGIN, the room row locked, the known
-- keys read, the INSERT, the queue UPDATE, COMMIT); as one function call it
-- is one statement in its own transaction. Each statement of a PL/pgSQL
-- function takes a new snapshot, so the keys are read after the room's row
-- is locked and a ticket committed by another replica just before is seen.
--
-- Arguments, one element per request, in the order of the batch: ticket
-- ids, entry times (microseconds since 1970) and keys (empty: no key).
-- A key is stored as the first 16 bytes of SHA-256 over the room, a zero
-- byte, the generation (8 bytes, big-endian) and the key, as a uuid
-- (tickets.idem_key, 0001_core.sql).
--
-- Returns one row per request: the generation, the queue counter after the
-- batch, the request's place in the batch (ord, from 1), and the ticket
-- that answers it (position, id, entry time): the one it made (created),
-- or the one its key already had, in the table or earlier in the batch.
-- No row: the room does not exist.
CREATE FUNCTION waitroom_enqueue_keyed(p_room text, p_ids uuid[], p_us bigint[], p_keys bytea[])
RETURNS TABLE (generation bigint, queue bigint, ord bigint, "position" bigint, created boolean, id uuid, entry_time timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    g bigint;
    q bigint;
BEGIN
    SELECT s.generation, s.queue INTO g, q FROM room_state s WHERE s.room = p_room FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    RETURN QUERY
    WITH r AS (
        SELECT u.ord, u.id, u.us,
               CASE WHEN length(u.k) = 0 THEN NULL
                    ELSE encode(substr(sha256(convert_to(p_room, 'UTF8') || '\x00'::bytea || int8send(g) || u.k), 1, 16), 'hex')::uuid
               END AS h
        FROM unnest(p_ids, p_us, p_keys) WITH ORDINALITY AS u(id, us, k, ord)
    ), known AS (
        -- By idem_key alone, on purpose: see tickets_idem_key.
        SELECT t.idem_key, t.id, t.position, t.entry_time FROM tickets t
        WHERE t.idem_key = ANY (ARRAY(SELECT r.h FROM r WHERE r.h IS NOT NULL))
    ), firsts AS (
        -- The requests that take a new place: no key, or the first use of
        -- a key not seen before.
        SELECT r.ord, r.id, r.us, r.h FROM r
        WHERE r.h IS NULL
           OR (NOT EXISTS (SELECT 1 FROM known k WHERE k.idem_key = r.h)
               AND r.ord = (SELECT min(r2.ord) FROM r r2 WHERE r2.h = r.h))
    ), fresh AS (
        SELECT f.ord, f.id, f.h, q + row_number() OVER (ORDER BY f.ord) AS pos,
               timestamptz 'epoch' + f.us * interval '1 microsecond' AS et
        FROM firsts f
    ), ins AS (
        INSERT INTO tickets (room, generation, position, id, entry_time, idem_key)
        SELECT p_room, g, f.pos, f.id, f.et, f.h FROM fresh f
    ), total AS (
        SELECT q + count(*) AS queue FROM fresh
    ), upd AS (
        UPDATE room_state s SET queue = total.queue FROM total
        WHERE s.room = p_room AND total.queue > q
    )
    SELECT g, total.queue, r.ord,
           coalesce(f.pos, k.position, d.pos),
           f.ord IS NOT NULL,
           coalesce(f.id, k.id, d.id),
           coalesce(f.et, k.entry_time, d.et)
    FROM r
    CROSS JOIN total
    LEFT JOIN fresh f ON f.ord = r.ord
    LEFT JOIN known k ON f.ord IS NULL AND k.idem_key = r.h
    LEFT JOIN fresh d ON f.ord IS NULL AND k.idem_key IS NULL AND d.h = r.h
    ORDER BY r.ord;
END
$$;

-- waitroom_insert_tokens takes the room's token fence in shared mode (a
-- transaction-level advisory lock, waitroom/backend/redispg/fence.go: the
-- class and the key (schema and room) are computed as there) and inserts a
-- batch of token records, one round trip where the lock and the INSERT
-- took two. The INSERT is a statement of its own after the lock, with its
-- own snapshot. The caller's transaction stays open: it applies the Redis
-- counters of the rows returned before it commits.
--
-- A record is not stored when its request already has one, or when its
-- generation is no longer the room's; the rows returned are those made.
CREATE FUNCTION waitroom_insert_tokens(p_fence_class int, p_room text, p_gens bigint[], p_ids uuid[], p_pos bigint[],
        p_iss text[], p_iat bigint[], p_nbf bigint[], p_exp bigint[], p_kids text[], p_status bigint[])
RETURNS TABLE (room text, generation bigint, request_id uuid, "position" bigint, issuer text, issued_at timestamptz,
        not_before timestamptz, expires timestamptz, kid text, session_status smallint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    PERFORM pg_advisory_xact_lock_shared(p_fence_class, hashtext(current_schema() || '/' || p_room));
    RETURN QUERY
    INSERT INTO tokens AS t (room, generation, request_id, position, issuer, issued_at, not_before, expires, kid, session_status)
    SELECT p_room, s.generation, u.id, u.pos, u.iss,
           timestamptz 'epoch' + u.iat * interval '1 microsecond',
           timestamptz 'epoch' + u.nbf * interval '1 microsecond',
           timestamptz 'epoch' + u.exp * interval '1 microsecond',
           u.kid, u.st::smallint
    FROM unnest(p_gens, p_ids, p_pos, p_iss, p_iat, p_nbf, p_exp, p_kids, p_status)
         AS u(gen, id, pos, iss, iat, nbf, exp, kid, st)
    JOIN room_state s ON s.room = p_room AND s.generation = u.gen
    -- In request-id order: two batches racing on the same ids, from two
    -- replicas, lock them in the same order and cannot deadlock.
    ORDER BY u.id
    ON CONFLICT DO NOTHING
    RETURNING t.room, t.generation, t.request_id, t.position, t.issuer, t.issued_at, t.not_before, t.expires, t.kid, t.session_status;
END
$$;
