-- Drops: a button or a reaction that the first max_claims members claim, exactly once each.
--
-- Decide first, pay right after (docs/drops-and-milestones.md):
--   1. resonance.claim_drop DECIDES, in its own short transaction: a plain read of the drop (no lock)
--      answers unknown -> RS401, inactive server, expired/closed, not_eligible and sold_out (or
--      already_claimed for a winner clicking a sold-out drop again) without waiting on anyone; a
--      repeat click on an open drop is answered by the claim row's key, never the drop row; then ONE statement takes the decision: the claim row
--      (unique_drop_claim, ON CONFLICT DO NOTHING: no subtransaction) and, only for a new claim,
--      UPDATE discord_drops SET claims_count = claims_count + 1 WHERE ... claims_count < max_claims
--      AND not expired. Postgres re-checks the WHERE after waiting on the row lock, so claims_count
--      never passes max_claims and stays exact; the drop row is locked for that UPDATE and the
--      commit only. A claim that finds the drop sold out there is deleted again before commit.
--   2. resonance.pay_drop_claim PAYS a decided claim, exactly once: it locks the claim row, pays the
--      reward through the event skeleton (decision drop_claim "<drop>:<member>" + tipping
--      transaction, stats, rollup, achievements, milestones) and stamps paid_at. The bot calls it
--      right after the decision commits (services/resonance/db/drops.py: claim_drop does both);
--   3. resonance.pay_unpaid_drop_claims, a job, pays every decided claim still unpaid (a crash
--      between 1 and 2); the claim row lock and paid_at make a race with the bot harmless.
-- The claim row has no foreign key to the drop (0900: its KEY SHARE lock on the hot row made
-- MultiXacts); it only exists together with its drop's claims_count UPDATE.

CREATE OR REPLACE FUNCTION resonance.create_drop(
    p_server_id text,
    p_drop_type text,
    p_channel_id text,
    p_message_id text DEFAULT NULL,
    p_emoji text DEFAULT NULL,
    p_expires_at timestamptz DEFAULT NULL,
    p_max_claims integer DEFAULT NULL,
    p_reward_amount numeric DEFAULT NULL,
    p_event_id text DEFAULT NULL,
    p_required_role_ids text [] DEFAULT NULL,
    p_created_by text DEFAULT NULL,
    p_at timestamptz DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_at, now());
    v_brand_id text;
    v_rule public.monitoring_rules;
    v_amount numeric;
    v_event_id text := coalesce(nullif(p_event_id, ''), 'drop');
    v_roles text [];
    v_drop public.discord_drops;
BEGIN
    SELECT s.brand_id INTO v_brand_id FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id;
    IF v_brand_id IS NULL THEN
        RAISE EXCEPTION 'unknown server %', p_server_id USING ERRCODE = 'RS001';
    END IF;
    -- The audit row names the admin who created the drop.
    IF p_created_by IS NOT NULL THEN
        PERFORM resonance.set_actor('admin', p_created_by);
    END IF;
    IF p_drop_type IS NULL OR p_drop_type NOT IN ('button', 'reaction') THEN
        RAISE EXCEPTION 'drop type must be button or reaction, got %', p_drop_type USING ERRCODE = 'RS402';
    END IF;
    IF p_drop_type = 'reaction' AND (p_emoji IS NULL OR p_emoji = '') THEN
        RAISE EXCEPTION 'a reaction drop needs an emoji' USING ERRCODE = 'RS402';
    END IF;
    IF p_max_claims IS NOT NULL AND p_max_claims < 1 THEN
        RAISE EXCEPTION 'max_claims must be at least 1, got %', p_max_claims USING ERRCODE = 'RS402';
    END IF;
    IF p_expires_at IS NOT NULL AND p_expires_at <= v_at THEN
        RAISE EXCEPTION 'expiry % is not after %', p_expires_at, v_at USING ERRCODE = 'RS402';
    END IF;

    -- The event id may name a monitoring rule of this server or brand: its reward is the default.
    IF v_event_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        SELECT r.* INTO v_rule
        FROM public.monitoring_rules AS r
        WHERE r.id = v_event_id::uuid
            AND (r.server_id = p_server_id OR (r.server_id IS NULL AND r.brand_id = v_brand_id));
    END IF;
    v_amount := coalesce(p_reward_amount, v_rule.reward_amount);
    IF v_amount IS NULL THEN
        RAISE EXCEPTION 'drop has no reward amount (none given, and event % names no rule with one)', v_event_id
            USING ERRCODE = 'RS403';
    END IF;
    IF v_amount < 0 OR v_amount <> round(v_amount, 0) THEN
        RAISE EXCEPTION 'drop reward must be a whole, non-negative RSNC amount, got %', v_amount USING ERRCODE = 'RS403';
    END IF;

    -- Required roles: as given, or else the server's active event_access roles that cover drops.
    IF p_required_role_ids IS NOT NULL THEN
        v_roles := p_required_role_ids;
    ELSE
        SELECT coalesce(array_agg(rc.discord_role_id ORDER BY rc.discord_role_id), '{}'::text [])
        INTO v_roles
        FROM public.discord_role_configs AS rc
        WHERE rc.server_id = p_server_id
            AND rc.is_active
            AND rc.effect_type = 'event_access'
            AND (
                rc.effect_config -> 'event_types' ? 'drop'
                OR rc.effect_config -> 'event_types' ? 'drop_claim'
                OR rc.effect_config -> 'event_types' ? v_event_id
            );
    END IF;

    INSERT INTO public.discord_drops (
        server_id, event_id, drop_type, message_id, channel_id, emoji, expires_at, max_claims,
        created_by, created_at, reward_amount, rule_id, required_role_ids
    )
    VALUES (
        p_server_id, v_event_id, p_drop_type, p_message_id, p_channel_id, p_emoji, p_expires_at, p_max_claims,
        p_created_by, v_at, v_amount, v_rule.id, v_roles
    )
    RETURNING * INTO v_drop;

    RETURN jsonb_build_object(
        'status', 'created',
        'drop_id', v_drop.drop_id,
        'drop_type', v_drop.drop_type,
        'reward_amount', v_drop.reward_amount,
        'max_claims', v_drop.max_claims,
        'expires_at', v_drop.expires_at,
        'required_role_ids', to_jsonb(v_drop.required_role_ids)
    );
END;
$$;

COMMENT ON FUNCTION resonance.create_drop(text, text, text, text, text, timestamptz, integer, numeric, text, text [], text, timestamptz) IS
'Creates a button or reaction drop: {"status":"created","drop_id",...}. The reward per claim is p_reward_amount, or the reward_amount of the monitoring rule whose id is p_event_id. p_max_claims NULL means unlimited; p_expires_at NULL means it never expires. p_required_role_ids NULL means: the server''s active event_access roles whose effect_config.event_types lists "drop", "drop_claim" or the event id (none: open to everyone); ''{}'' means open to everyone. The message id may be attached later (resonance.attach_drop_message). Raises RS001 (unknown server), RS402 (bad type, reaction without emoji, max_claims < 1, expiry not in the future), RS403 (no reward amount, or not a whole non-negative amount).';

REVOKE ALL ON FUNCTION resonance.create_drop(text, text, text, text, text, timestamptz, integer, numeric, text, text [], text, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.create_drop(text, text, text, text, text, timestamptz, integer, numeric, text, text [], text, timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION resonance.attach_drop_message(p_drop_id uuid, p_channel_id text, p_message_id text)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_drop_id uuid;
BEGIN
    UPDATE public.discord_drops AS d
    SET channel_id = coalesce(p_channel_id, d.channel_id), message_id = p_message_id
    WHERE d.drop_id = p_drop_id
    RETURNING d.drop_id INTO v_drop_id;
    IF v_drop_id IS NULL THEN
        RAISE EXCEPTION 'unknown drop %', p_drop_id USING ERRCODE = 'RS401';
    END IF;
    RETURN jsonb_build_object('status', 'attached', 'drop_id', v_drop_id, 'message_id', p_message_id);
END;
$$;

COMMENT ON FUNCTION resonance.attach_drop_message(uuid, text, text) IS
'Records the Discord message that carries a drop (the bot creates the drop, posts it, then attaches the message id so reactions on it can claim). Raises RS401 (unknown drop).';

REVOKE ALL ON FUNCTION resonance.attach_drop_message(uuid, text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.attach_drop_message(uuid, text, text) TO service_role;

CREATE OR REPLACE FUNCTION resonance.claim_drop(
    p_drop_id uuid,
    p_user_id text,
    p_role_ids text [] DEFAULT '{}'::text [],
    p_at timestamptz DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_at, now());
    v_drop record;
    v_claim_id uuid := gen_random_uuid();
    v_new_claim uuid;
    v_count integer;
BEGIN
    IF p_user_id IS NULL OR p_user_id = '' THEN
        RAISE EXCEPTION 'a member id is required' USING ERRCODE = 'RS404';
    END IF;

    -- 1. A plain read, no lock: most answers are decided here (losers and repeat clickers never wait).
    SELECT d.*, s.is_active AS server_active INTO v_drop
    FROM public.discord_drops AS d
    LEFT JOIN public.discord_server_configs AS s ON s.server_id = d.server_id
    WHERE d.drop_id = p_drop_id;
    IF v_drop.drop_id IS NULL THEN
        RAISE EXCEPTION 'unknown drop %', p_drop_id USING ERRCODE = 'RS401';
    END IF;
    IF NOT coalesce(v_drop.server_active, FALSE) THEN
        RETURN jsonb_build_object('status', 'inactive', 'drop_id', p_drop_id);
    END IF;
    IF v_drop.closed_at IS NOT NULL OR v_at >= v_drop.expires_at THEN
        RETURN jsonb_build_object('status', 'expired', 'drop_id', p_drop_id);
    END IF;
    IF cardinality(v_drop.required_role_ids) > 0
        AND NOT (coalesce(p_role_ids, '{}'::text []) && v_drop.required_role_ids) THEN
        RETURN jsonb_build_object('status', 'not_eligible', 'drop_id', p_drop_id, 'required_role_ids', to_jsonb(v_drop.required_role_ids));
    END IF;
    IF v_drop.claims_count >= v_drop.max_claims THEN
        -- Sold out: a winner clicking again still hears already_claimed.
        IF EXISTS (
            SELECT FROM public.discord_drop_claims AS c WHERE c.drop_id = p_drop_id AND c.discord_user_id = p_user_id
        ) THEN
            RETURN jsonb_build_object('status', 'already_claimed', 'drop_id', p_drop_id);
        END IF;
        RETURN jsonb_build_object('status', 'sold_out', 'drop_id', p_drop_id);
    END IF;

    -- 2. The decision: one statement. The claim row first (unique_drop_claim: a second click of the
    -- same member waits on the key, then inserts nothing), off the hot row; then, only for a new
    -- claim, the guarded counter, which locks the drop row until this short transaction commits.
    WITH claimed AS (
        INSERT INTO public.discord_drop_claims (claim_id, drop_id, discord_user_id, claimed_at, reward_amount, server_id)
        VALUES (v_claim_id, p_drop_id, p_user_id, v_at, v_drop.reward_amount, v_drop.server_id)
        ON CONFLICT ON CONSTRAINT unique_drop_claim DO NOTHING
        RETURNING claim_id
    ),

    won AS (
        UPDATE public.discord_drops AS d
        SET claims_count = d.claims_count + 1
        WHERE d.drop_id = p_drop_id
            AND EXISTS (SELECT FROM claimed)
            AND (d.max_claims IS NULL OR d.claims_count < d.max_claims)
            AND d.closed_at IS NULL
            AND (d.expires_at IS NULL OR d.expires_at > v_at)
        RETURNING d.claims_count
    )

    SELECT (SELECT c.claim_id FROM claimed AS c), (SELECT w.claims_count FROM won AS w) INTO v_new_claim, v_count;
    IF v_new_claim IS NULL THEN
        RETURN jsonb_build_object('status', 'already_claimed', 'drop_id', p_drop_id);
    END IF;
    IF v_count IS NULL THEN
        -- Sold out or expired since the read: the claim row goes again, in this same transaction
        -- (nobody else ever sees it).
        DELETE FROM public.discord_drop_claims AS c WHERE c.claim_id = v_claim_id;
        SELECT d.* INTO v_drop FROM public.discord_drops AS d WHERE d.drop_id = p_drop_id;
        IF v_drop.closed_at IS NOT NULL OR v_at >= v_drop.expires_at THEN
            RETURN jsonb_build_object('status', 'expired', 'drop_id', p_drop_id);
        END IF;
        RETURN jsonb_build_object('status', 'sold_out', 'drop_id', p_drop_id);
    END IF;

    RETURN jsonb_build_object(
        'status', 'claimed',
        'drop_id', p_drop_id,
        'claim_id', v_claim_id,
        'amount', v_drop.reward_amount,
        'claims_count', v_count,
        'remaining', CASE WHEN v_drop.max_claims IS NULL THEN NULL ELSE v_drop.max_claims - v_count END
    );
END;
$$;

COMMENT ON FUNCTION resonance.claim_drop(uuid, text, text [], timestamptz) IS
'DECIDES a drop claim for a member, in the caller''s (short) transaction; the reward is paid right after by resonance.pay_drop_claim(claim_id) (a job pays any decided claim left unpaid). Statuses: claimed (amount to be paid, claim_id, claims_count, remaining), already_claimed, sold_out, expired (p_at at or after expires_at, or the drop was closed), not_eligible (the drop requires one of required_role_ids and p_role_ids holds none), inactive (the server is not active). One statement decides (the guarded claims_count UPDATE and the claim row), so claims_count never exceeds max_claims and is exact; unique_drop_claim allows one claim per member; sold-out and repeat clicks are answered from a lock-free read without waiting on the drop row. Raises RS401 (unknown drop), RS404 (no member id).';

REVOKE ALL ON FUNCTION resonance.claim_drop(uuid, text, text [], timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.claim_drop(uuid, text, text [], timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION resonance.pay_drop_claim(p_claim_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_claim public.discord_drop_claims;
    v_drop record;
    v_brand_id text;
    v_closed jsonb;
BEGIN
    IF p_claim_id IS NULL THEN
        RETURN jsonb_build_object('status', 'no_claim');
    END IF;
    -- The claim row serialises its payers (the bot right after the decision, the repair job).
    SELECT c.* INTO v_claim FROM public.discord_drop_claims AS c WHERE c.claim_id = p_claim_id FOR UPDATE;
    IF v_claim.claim_id IS NULL THEN
        RAISE EXCEPTION 'unknown drop claim %', p_claim_id USING ERRCODE = 'RS410';
    END IF;
    IF v_claim.paid_at IS NOT NULL THEN
        RETURN jsonb_build_object('status', 'already_paid', 'claim_id', p_claim_id, 'paid_at', v_claim.paid_at);
    END IF;
    -- Plain reads (no lock on the hot drop row).
    SELECT d.rule_id, d.event_id INTO v_drop FROM public.discord_drops AS d WHERE d.drop_id = v_claim.drop_id;
    SELECT s.brand_id INTO v_brand_id FROM public.discord_server_configs AS s WHERE s.server_id = v_claim.server_id;

    v_closed := resonance.close_event(
        v_claim.server_id, v_brand_id, v_claim.claimed_at,
        jsonb_build_array(jsonb_build_object(
            'status', 'pay', 'payee', v_claim.discord_user_id, 'event_type', 'drop_claim',
            'source_id', format('%s:%s', v_claim.drop_id, v_claim.discord_user_id), 'rule_id', v_drop.rule_id,
            'base', coalesce(v_claim.reward_amount, 0), 'amount', round(coalesce(v_claim.reward_amount, 0), 0),
            'details', jsonb_build_object('drop_id', v_claim.drop_id, 'claim_id', v_claim.claim_id, 'event_id', v_drop.event_id)
        )),
        jsonb_build_array(jsonb_build_object('user_id', v_claim.discord_user_id, 'drops_claimed', 1, 'actions', 1))
    );
    UPDATE public.discord_drop_claims AS c SET paid_at = now() WHERE c.claim_id = p_claim_id;

    RETURN jsonb_build_object(
        'status', CASE WHEN v_closed -> 'rules' -> 0 ->> 'status' = 'rewarded' THEN 'paid' ELSE 'already_paid' END,
        'claim_id', p_claim_id, 'amount', coalesce((v_closed ->> 'amount')::numeric, 0)
    );
END;
$$;

COMMENT ON FUNCTION resonance.pay_drop_claim(uuid) IS
'Pays a decided drop claim exactly once: locks the claim row, pays reward_amount through the event skeleton (resonance.close_event: decision drop_claim "<drop_id>:<user_id>" with its tipping transaction, stats, daily rollup with drops_claimed and the action, achievements, goals, milestones) at the claim''s time and stamps paid_at. {"status":"paid","amount"}; {"status":"already_paid"} when paid before (by the bot or the repair job); {"status":"no_claim"} for NULL. Raises RS410 (unknown claim).';

REVOKE ALL ON FUNCTION resonance.pay_drop_claim(uuid) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.pay_drop_claim(uuid) TO service_role;

CREATE OR REPLACE FUNCTION resonance.pay_unpaid_drop_claims(p_limit integer DEFAULT 1000)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_claim_id uuid;
    v_paid integer := 0;
BEGIN
    -- Claims being paid right now are locked by their payer: skip them.
    FOR v_claim_id IN
        SELECT c.claim_id FROM public.discord_drop_claims AS c
        WHERE c.paid_at IS NULL
        ORDER BY c.claimed_at
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    LOOP
        IF resonance.pay_drop_claim(v_claim_id) ->> 'status' = 'paid' THEN
            v_paid := v_paid + 1;
        END IF;
    END LOOP;
    RETURN v_paid;
END;
$$;

COMMENT ON FUNCTION resonance.pay_unpaid_drop_claims(integer) IS
'Job (every minute): pays every decided drop claim that is still unpaid (a crash between resonance.claim_drop''s decision and resonance.pay_drop_claim), at most p_limit per run, skipping claims being paid right now. Returns how many it paid; exactly once per claim (claim row lock, paid_at, the reward''s idempotency key).';

REVOKE ALL ON FUNCTION resonance.pay_unpaid_drop_claims(integer) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.pay_unpaid_drop_claims(integer) TO service_role;

CREATE OR REPLACE FUNCTION resonance.claim_reaction_drop(
    p_server_id text,
    p_message_id text,
    p_emoji text,
    p_user_id text,
    p_role_ids text [] DEFAULT '{}'::text [],
    p_at timestamptz DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_drop_id uuid;
BEGIN
    SELECT d.drop_id INTO v_drop_id
    FROM public.discord_drops AS d
    WHERE d.message_id = p_message_id
        AND d.server_id = p_server_id
        AND d.drop_type = 'reaction'
        AND d.emoji = p_emoji
    ORDER BY d.created_at DESC
    LIMIT 1;

    IF v_drop_id IS NULL THEN
        RETURN jsonb_build_object('status', 'no_drop');
    END IF;
    RETURN resonance.claim_drop(v_drop_id, p_user_id, p_role_ids, p_at);
END;
$$;

COMMENT ON FUNCTION resonance.claim_reaction_drop(text, text, text, text, text [], timestamptz) IS
'A reaction with a reaction drop''s emoji on the drop''s message claims it through resonance.claim_drop (same statuses). {"status":"no_drop"} when the message and emoji carry no reaction drop of this server (the common case: an ordinary reaction). Called by the bot (and resonance.record_reaction) for every reaction added.';

REVOKE ALL ON FUNCTION resonance.claim_reaction_drop(text, text, text, text, text [], timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.claim_reaction_drop(text, text, text, text, text [], timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION resonance.close_expired_drops(p_at timestamptz DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_at, now());
    v_closed integer := 0;
    v_count integer;
    v_server_id text;
BEGIN
    -- Job isolation (db/functions/job_isolation.sql): one subtransaction per server.
    FOR v_server_id IN
        SELECT DISTINCT d.server_id
        FROM public.discord_drops AS d
        WHERE d.closed_at IS NULL AND d.expires_at IS NOT NULL AND d.expires_at <= v_at
        ORDER BY d.server_id
    LOOP
        BEGIN
            v_count := resonance.close_expired_drops_of(v_server_id, v_at);
            v_closed := v_closed + v_count;
            PERFORM resonance.job_succeeded('close_expired_drops', v_server_id);
        EXCEPTION WHEN OTHERS THEN
            PERFORM resonance.job_failed('close_expired_drops', v_server_id, v_at, SQLSTATE, SQLERRM);
        END;
    END LOOP;
    RETURN v_closed;
END;
$$;

COMMENT ON FUNCTION resonance.close_expired_drops(timestamptz) IS
'Job: closes every open drop whose expires_at is at or before p_at (closed_at = p_at) and queues one outbox send_message {"type":"drop_closed", channel_id, message_id, claims_count, max_claims, content} per drop that has a channel so the bot can end the post. Server by server (resonance.close_expired_drops_of) in subtransactions: a failing server is logged in public.discord_job_errors (job close_expired_drops) and closed by a later run. Returns how many drops it closed; running it again closes nothing more.';

REVOKE ALL ON FUNCTION resonance.close_expired_drops(timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.close_expired_drops(timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION resonance.close_expired_drops_of(p_server_id text, p_at timestamptz)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_at, now());
    v_closed integer;
BEGIN
    WITH closed AS (
        UPDATE public.discord_drops AS d
        SET closed_at = v_at
        WHERE d.server_id = p_server_id AND d.closed_at IS NULL AND d.expires_at IS NOT NULL AND d.expires_at <= v_at
        RETURNING d.drop_id, d.server_id, d.channel_id, d.message_id, d.claims_count, d.max_claims
    ),

    queued AS (
        INSERT INTO resonance.outbox (server_id, kind, payload, dedup_key)
        SELECT
            c.server_id,
            'send_message',
            jsonb_build_object(
                'type', 'drop_closed', 'drop_id', c.drop_id, 'channel_id', c.channel_id,
                'message_id', c.message_id, 'claims_count', c.claims_count, 'max_claims', c.max_claims,
                'content', format(
                    'This drop has ended: %s of %s claimed.', c.claims_count, coalesce(c.max_claims::text, 'unlimited')
                )
            ),
            format('drop_closed:%s', c.drop_id)
        FROM closed AS c
        WHERE c.channel_id IS NOT NULL
        ON CONFLICT (dedup_key) DO NOTHING
    )

    SELECT count(*) INTO v_closed FROM closed;
    RETURN v_closed;
END;
$$;

COMMENT ON FUNCTION resonance.close_expired_drops_of(text, timestamptz) IS
'One server''s part of resonance.close_expired_drops: closes its expired open drops and queues their drop_closed messages. Returns how many it closed.';

REVOKE ALL ON FUNCTION resonance.close_expired_drops_of(text, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.close_expired_drops_of(text, timestamptz) TO service_role;

CREATE OR REPLACE FUNCTION resonance.delete_drop_claims()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    DELETE FROM public.discord_drop_claims AS c WHERE c.drop_id = OLD.drop_id;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION resonance.delete_drop_claims() IS
'Trigger: deleting a drop deletes its claims (what the claim row''s ON DELETE CASCADE foreign key did before 0900 removed it from the stampede path).';

REVOKE ALL ON FUNCTION resonance.delete_drop_claims() FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.delete_drop_claims() TO service_role;

CREATE OR REPLACE TRIGGER delete_drop_claims AFTER DELETE ON public.discord_drops
FOR EACH ROW EXECUTE FUNCTION resonance.delete_drop_claims();
