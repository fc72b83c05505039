-- Drops: a button or a reaction that the first max_claims members claim, exactly once each.
--
-- claim_drop keeps the hot drop row locked for as short a time as possible:
--   1. a plain read of the drop (no lock): unknown -> RS401; expired/closed -> expired; missing role ->
--      not_eligible; already a claim row -> already_claimed; claims_count >= max_claims -> sold_out
--      (sold-out answers and repeat clicks never wait on winners);
--   2. in a sub-block, the member's own work first, touching only the member's rows: the claim row
--      (unique_drop_claim: a second click of the same member waits on the first's key, then
--      conflicts -> already_claimed), the reward through resonance.apply_reward (reward ledger keyed
--      drop_claim / "<drop>:<member>", tipping ledger, stats, daily rollup, achievements, milestones)
--      and daily_activity.drops_claimed;
--   3. LAST, ONE guarded statement decides: UPDATE discord_drops SET claims_count = claims_count + 1
--      WHERE ... claims_count < max_claims AND not expired RETURNING, and the transaction commits:
--      the hot row is locked for one UPDATE and the commit. Postgres re-checks the WHERE after
--      waiting on the row lock, so claims_count never passes max_claims. The claim row has no
--      foreign key to the drop (0900): its KEY SHARE lock on the hot row made MultiXacts;
--   4. no row from the UPDATE (sold out or expired since the read): the sub-block raises RS490
--      (private, always caught; RS491 likewise for a reward paid without a claim row), which rolls back the member's reward, stats, rollup, milestones and
--      outbox rows; the answer is sold_out (or expired).

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
    v_drop public.discord_drops;
    v_claim_id uuid := gen_random_uuid();
    v_count integer;
    v_reward jsonb;
BEGIN
    IF p_user_id IS NULL OR p_user_id = '' THEN
        RAISE EXCEPTION 'a member id is required' USING ERRCODE = 'RS404';
    END IF;

    -- 1. A plain read, no lock: most answers are decided here.
    SELECT d.* INTO v_drop FROM public.discord_drops AS d WHERE d.drop_id = p_drop_id;
    IF v_drop.drop_id IS NULL THEN
        RAISE EXCEPTION 'unknown drop %', p_drop_id USING ERRCODE = 'RS401';
    END IF;
    IF v_drop.closed_at IS NOT NULL OR v_at >= v_drop.expires_at THEN
        RETURN jsonb_build_object('status', 'expired', 'drop_id', p_drop_id);
    END IF;
    IF cardinality(v_drop.required_role_ids) > 0
        AND NOT (coalesce(p_role_ids, '{}'::text []) && v_drop.required_role_ids) THEN
        RETURN jsonb_build_object('status', 'not_eligible', 'drop_id', p_drop_id, 'required_role_ids', to_jsonb(v_drop.required_role_ids));
    END IF;
    IF EXISTS (
        SELECT FROM public.discord_drop_claims AS c WHERE c.drop_id = p_drop_id AND c.discord_user_id = p_user_id
    ) THEN
        RETURN jsonb_build_object('status', 'already_claimed', 'drop_id', p_drop_id);
    END IF;
    IF v_drop.claims_count >= v_drop.max_claims THEN
        RETURN jsonb_build_object('status', 'sold_out', 'drop_id', p_drop_id);
    END IF;

    BEGIN
        -- 2. The member's own work, off the hot row: the claim row (unique_drop_claim: a second click
        -- of the same member waits here for the first, then conflicts) and the reward.
        INSERT INTO public.discord_drop_claims (claim_id, drop_id, discord_user_id, claimed_at, reward_amount, server_id)
        VALUES (v_claim_id, p_drop_id, p_user_id, v_at, v_drop.reward_amount, v_drop.server_id);
        v_reward := resonance.apply_reward(
            v_drop.server_id, p_user_id, 'drop_claim', format('%s:%s', p_drop_id, p_user_id),
            v_drop.reward_amount, v_at, v_drop.rule_id,
            jsonb_build_object('drop_id', p_drop_id, 'claim_id', v_claim_id, 'event_id', v_drop.event_id)
        );
        IF v_reward ->> 'status' = 'duplicate' THEN
            -- Paid before without a claim row (written by other means): one reward per member.
            RAISE EXCEPTION 'drop % already paid to %', p_drop_id, p_user_id USING ERRCODE = 'RS491';
        END IF;

        UPDATE resonance.daily_activity AS da
        SET drops_claimed = da.drops_claimed + 1
        WHERE da.server_id = v_drop.server_id
            AND da.activity_date = (v_at AT TIME ZONE 'UTC')::date
            AND da.discord_user_id = p_user_id;

        -- 3. The one statement that decides, last: the drop row stays locked only until commit.
        -- (The claim row has no foreign key to the drop: it would take KEY SHARE on this hot row.)
        UPDATE public.discord_drops AS d
        SET claims_count = d.claims_count + 1
        WHERE d.drop_id = p_drop_id
            AND (d.max_claims IS NULL OR d.claims_count < d.max_claims)
            AND d.closed_at IS NULL
            AND (d.expires_at IS NULL OR d.expires_at > v_at)
        RETURNING d.claims_count INTO v_count;
        IF v_count IS NULL THEN
            RAISE EXCEPTION 'drop % sold out or expired after the read', p_drop_id USING ERRCODE = 'RS490';
        END IF;

    EXCEPTION
        WHEN SQLSTATE 'RS490' THEN
            -- 4. Lost the race: the member's reward and everything it did are rolled back.
            SELECT d.* INTO v_drop FROM public.discord_drops AS d WHERE d.drop_id = p_drop_id;
            IF v_drop.closed_at IS NOT NULL OR v_at >= v_drop.expires_at THEN
                RETURN jsonb_build_object('status', 'expired', 'drop_id', p_drop_id);
            END IF;
            RETURN jsonb_build_object('status', 'sold_out', 'drop_id', p_drop_id);
        WHEN unique_violation OR SQLSTATE 'RS491' THEN
            -- The member's other click committed its claim first: undo ours, one claim per member.
            RETURN jsonb_build_object('status', 'already_claimed', 'drop_id', p_drop_id);
    END;

    RETURN jsonb_build_object(
        'status', 'claimed',
        'drop_id', p_drop_id,
        'claim_id', v_claim_id,
        'amount', coalesce((v_reward ->> 'amount')::numeric, 0),
        'claims_count', v_count,
        'remaining', CASE WHEN v_drop.max_claims IS NULL THEN NULL ELSE v_drop.max_claims - v_count END,
        'transaction_id', v_reward -> 'transaction_id'
    );
END;
$$;

COMMENT ON FUNCTION resonance.claim_drop(uuid, text, text [], timestamptz) IS
'Claims a drop for a member. Statuses: claimed (amount, claim_id, claims_count, remaining), already_claimed, sold_out, expired (p_at at or after expires_at, or the drop was closed), not_eligible (the drop requires one of required_role_ids and p_role_ids holds none). One guarded UPDATE decides, so claims_count never exceeds max_claims; it runs last (after the member''s reward), so the drop row is locked only for that UPDATE and the commit; a clicker that loses the race there has its reward rolled back (sub-block) and gets sold_out. unique_drop_claim and the reward key allow one claim per member; sold-out and repeat clicks are answered without waiting on the drop row. The reward goes through resonance.apply_reward (event type drop_claim, source id "<drop_id>:<user_id>") and counts in daily_activity.drops_claimed. Raises RS401 (unknown drop), RS404 (no member id).';

REVOKE ALL ON FUNCTION resonance.claim_drop(uuid, text, text [], timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.claim_drop(uuid, text, text [], timestamptz) TO service_role;

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
