-- The outbox: the database decides, Discord is told afterwards. Every role to add or remove and
-- every message to post is a row written in the same transaction as the decision; bot workers take
-- rows with a lease (FOR UPDATE SKIP LOCKED), then complete or fail them.
--
-- Row life: pending -> taken (attempts + 1, available_at = end of the lease) -> done
--                                 \-> fail_outbox: pending again after 2^attempts s (max 1 h), or dead
--                                 \-> lease ran out (worker died): taken again by any worker

CREATE OR REPLACE FUNCTION resonance.enqueue_outbox(
    p_server_id text,
    p_kind text,
    p_payload jsonb,
    p_dedup_key text DEFAULT NULL
)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_id bigint;
BEGIN
    INSERT INTO resonance.outbox (server_id, kind, payload, dedup_key)
    VALUES (p_server_id, p_kind, coalesce(p_payload, '{}'::jsonb), p_dedup_key)
    ON CONFLICT (dedup_key) DO NOTHING
    RETURNING id INTO v_id;
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION resonance.enqueue_outbox(text, text, jsonb, text) IS
'Internal: queues one side effect on Discord (add_role, remove_role, send_message, send_report) in the caller''s transaction. Returns the row id, or NULL when a row with the same dedup_key already exists.';

REVOKE ALL ON FUNCTION resonance.enqueue_outbox(text, text, jsonb, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.enqueue_outbox(text, text, jsonb, text) TO service_role;

CREATE OR REPLACE FUNCTION resonance.take_outbox(
    p_batch integer,
    p_worker text,
    p_lease interval DEFAULT interval '5 minutes',
    p_at timestamptz DEFAULT NULL
)
RETURNS SETOF resonance.outbox
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_at, now());
BEGIN
    IF p_batch IS NULL OR p_batch < 1 OR p_batch > 1000 THEN
        RAISE EXCEPTION 'batch must be between 1 and 1000, got %', p_batch USING ERRCODE = 'RS440';
    END IF;
    IF p_worker IS NULL OR p_worker = '' THEN
        RAISE EXCEPTION 'a worker name is required' USING ERRCODE = 'RS441';
    END IF;
    IF p_lease IS NULL OR p_lease <= interval '0' THEN
        RAISE EXCEPTION 'lease must be positive, got %', p_lease USING ERRCODE = 'RS442';
    END IF;

    -- Rows whose last lease ran out with no attempt left are dead, not retried forever.
    WITH spent AS (
        SELECT o.id
        FROM resonance.outbox AS o
        WHERE o.status = 'taken' AND o.available_at <= v_at AND o.attempts >= o.max_attempts
        FOR UPDATE SKIP LOCKED
    )

    UPDATE resonance.outbox AS o
    SET status = 'dead', last_error = coalesce(o.last_error, 'lease expired')
    FROM spent
    WHERE o.id = spent.id;

    RETURN QUERY
    WITH next AS (
        SELECT o.id
        FROM resonance.outbox AS o
        WHERE o.status IN ('pending', 'taken') AND o.available_at <= v_at AND o.attempts < o.max_attempts
        ORDER BY o.available_at, o.id
        LIMIT p_batch
        FOR UPDATE SKIP LOCKED
    ),

    taken AS (
        UPDATE resonance.outbox AS o
        SET status = 'taken',
            taken_by = p_worker,
            taken_at = v_at,
            available_at = v_at + p_lease,
            attempts = o.attempts + 1
        FROM next
        WHERE o.id = next.id
        RETURNING o.*
    )

    SELECT * FROM taken ORDER BY taken.id;
END;
$$;

COMMENT ON FUNCTION resonance.take_outbox(integer, text, interval, timestamptz) IS
'Hands up to p_batch due rows to worker p_worker, oldest first, with FOR UPDATE SKIP LOCKED: two workers never take the same row. Each taken row is leased until p_at + p_lease (default 5 minutes); if the worker dies, the row is taken again after its lease. Every take counts as an attempt; a row whose lease runs out with max_attempts used is marked dead. Raises RS440 (batch not in 1..1000), RS441 (no worker), RS442 (lease not positive).';

REVOKE ALL ON FUNCTION resonance.take_outbox(integer, text, interval, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.take_outbox(integer, text, interval, timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION resonance.complete_outbox(p_id bigint, p_worker text)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_id bigint;
BEGIN
    UPDATE resonance.outbox AS o
    SET status = 'done', completed_at = now(), last_error = NULL
    WHERE o.id = p_id AND o.status = 'taken' AND o.taken_by = p_worker
    RETURNING o.id INTO v_id;

    IF v_id IS NULL THEN
        RETURN jsonb_build_object('status', 'not_taken');
    END IF;
    RETURN jsonb_build_object('status', 'done', 'id', v_id);
END;
$$;

COMMENT ON FUNCTION resonance.complete_outbox(bigint, text) IS
'Marks a row the worker holds as done: {"status":"done"}. {"status":"not_taken"} when the row is not taken by this worker (unknown id, already done, or its lease ran out and another worker took it).';

REVOKE ALL ON FUNCTION resonance.complete_outbox(bigint, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.complete_outbox(bigint, text) TO service_role;

CREATE OR REPLACE FUNCTION resonance.fail_outbox(p_id bigint, p_worker text, p_error text)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_row resonance.outbox;
BEGIN
    UPDATE resonance.outbox AS o
    SET status = CASE WHEN o.attempts >= o.max_attempts THEN 'dead' ELSE 'pending' END,
        available_at = now() + least(interval '1 second' * power(2, o.attempts), interval '1 hour'),
        last_error = left(coalesce(p_error, 'unknown error'), 2000),
        taken_by = NULL,
        taken_at = NULL
    WHERE o.id = p_id AND o.status = 'taken' AND o.taken_by = p_worker
    RETURNING o.* INTO v_row;

    IF v_row.id IS NULL THEN
        RETURN jsonb_build_object('status', 'not_taken');
    END IF;
    RETURN jsonb_build_object(
        'status', v_row.status, 'id', v_row.id, 'attempts', v_row.attempts, 'available_at', v_row.available_at
    );
END;
$$;

COMMENT ON FUNCTION resonance.fail_outbox(bigint, text, text) IS
'Records a failed attempt on a row the worker holds: last_error kept, and the row is pending again after 2^attempts seconds (capped at 1 hour), or dead once attempts reached max_attempts. Returns {"status":"pending"|"dead", attempts, available_at}, or {"status":"not_taken"} when the row is not taken by this worker.';

REVOKE ALL ON FUNCTION resonance.fail_outbox(bigint, text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.fail_outbox(bigint, text, text) TO service_role;
