-- The event skeleton every reward takes (docs/rewards.md):
--   open_event   the server (unknown -> RS001, inactive -> status inactive), replay dedup, and the
--                members serialised by a lock on their own discord_user_stats rows (in id order);
--   event_rules  the one rule lookup (engine_rules.sql); each record_* keeps only its matcher, which
--                turns rules into results, decide_rule marking the ones to pay {"status":"pay"};
--   close_event  every decision of the event written with its money in ONE statement (decision row
--                in resonance.reward_ledger referencing its tipping.transactions row, the member's
--                tipping.users row and balance credit), then the members' stats and daily rollup
--                written once each, then achievements, goals and milestones once per member.
-- apply_reward (one reward outside an event: achievements, bonuses, drips, manual rewards) is the
-- same closing with one decision.

CREATE OR REPLACE FUNCTION resonance.open_event(
    p_server_id text,
    p_kind text,
    p_source_id text,
    p_user_ids text[],
    p_at timestamptz,
    OUT status text,
    OUT brand_id text,
    OUT config jsonb
)
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_active boolean;
BEGIN
    SELECT s.brand_id, s.is_active, coalesce(s.config_metadata, '{}'::jsonb)
    INTO brand_id, v_active, config
    FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id;
    IF brand_id IS NULL THEN
        RAISE EXCEPTION 'unknown server %', p_server_id USING ERRCODE = 'RS001';
    END IF;
    IF NOT coalesce(v_active, FALSE) THEN
        status := 'inactive';
        RETURN;
    END IF;

    IF p_kind IS NOT NULL THEN
        INSERT INTO resonance.processed_events (server_id, event_kind, source_id, discord_user_id, occurred_at)
        VALUES (p_server_id, p_kind, p_source_id, p_user_ids[1], p_at)
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            status := 'duplicate';
            RETURN;
        END IF;
    END IF;

    -- Serialise the members' events: each member's stats row, created when new, locked in id order
    -- (ON CONFLICT DO UPDATE ... WHERE FALSE locks the existing row without writing it). Only
    -- service_role can lock these rows: tenants hold SELECT only, and FOR UPDATE/SHARE needs UPDATE.
    IF coalesce(cardinality(p_user_ids), 0) > 0 THEN
        INSERT INTO public.discord_user_stats AS st (server_id, discord_user_id)
        SELECT p_server_id, u.id FROM unnest(p_user_ids) AS u (id) ORDER BY u.id
        ON CONFLICT (server_id, discord_user_id) DO UPDATE SET updated_at = st.updated_at WHERE FALSE;
    END IF;
    status := NULL;
END;
$$;

COMMENT ON FUNCTION resonance.open_event(text, text, text, text[], timestamptz) IS
'The opening of every event: reads the server once (brand, config_metadata), raises RS001 for an unknown server, answers status inactive for an inactive one; with p_kind (message|reaction|voice|event) claims the replay key in resonance.processed_events (status duplicate on a replay); then serialises the events of p_user_ids by locking their discord_user_stats rows in id order (created when new). status NULL means: go on.';

REVOKE ALL ON FUNCTION resonance.open_event(text, text, text, text[], timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.open_event(text, text, text, text[], timestamptz) TO service_role;


CREATE OR REPLACE FUNCTION resonance.close_event(
    p_server_id text,
    p_brand_id text,
    p_at timestamptz,
    p_results jsonb,
    p_members jsonb,
    p_pays boolean DEFAULT TRUE
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_results jsonb := coalesce(p_results, '[]'::jsonb);
    v_earned jsonb := '{}'::jsonb;
    v_total numeric := 0;
    v_paid integer := 0;
    v_member text;
BEGIN
    IF p_pays AND jsonb_path_exists(v_results, '$[*] ? (@.status == "pay")') THEN
        -- Every decision of the event and its money, in one statement: the decision row claims the
        -- idempotency key (server, event type, source id: a concurrent replay waits on it, then
        -- writes nothing), its transaction (id chosen here, key reward:<decision id>) and the
        -- balance credit exist only when the decision is new. No row is patched afterwards.
        WITH input AS (
            SELECT
                r.ord, r.payee, r.event_type, r.source_id, r.rule_id, r.base, r.amount, r.details,
                CASE WHEN r.amount > 0 THEN gen_random_uuid() END AS transaction_id
            FROM jsonb_to_recordset(
                (SELECT jsonb_agg(e.value || jsonb_build_object('ord', e.ord))
                 FROM jsonb_array_elements(v_results) WITH ORDINALITY AS e (value, ord)
                 WHERE e.value ->> 'status' = 'pay')
            ) AS r (ord integer, payee text, event_type text, source_id text, rule_id uuid, base numeric, amount numeric, details jsonb)
        ),

        decided AS (
            INSERT INTO resonance.reward_ledger (
                server_id, brand_id, discord_user_id, event_type, source_id, rule_id, base_amount, amount,
                transaction_id, occurred_at, details
            )
            SELECT
                p_server_id, p_brand_id, i.payee, i.event_type, i.source_id, i.rule_id, coalesce(i.base, i.amount),
                i.amount, i.transaction_id, p_at, coalesce(i.details, '{}'::jsonb)
            FROM input AS i
            ORDER BY i.ord
            ON CONFLICT ON CONSTRAINT unique_reward_idempotency DO NOTHING
            RETURNING id, discord_user_id, event_type, source_id, amount, transaction_id
        ),

        member AS (
            INSERT INTO tipping.users (user_id)
            SELECT DISTINCT d.discord_user_id FROM decided AS d WHERE d.transaction_id IS NOT NULL
            ON CONFLICT (user_id) DO NOTHING
        ),

        tx AS (
            INSERT INTO tipping.transactions (
                id, transaction_type, sender_id, recipient_id, amount, currency, brand_id, server_id, reason, idempotency_key
            )
            SELECT
                d.transaction_id, 'reward', NULL, d.discord_user_id, d.amount, 'RSNC', p_brand_id, p_server_id,
                d.event_type, 'reward:' || d.id
            FROM decided AS d
            WHERE d.transaction_id IS NOT NULL
        ),

        credit AS (
            INSERT INTO tipping.balances AS b (user_id, currency, amount)
            SELECT d.discord_user_id, 'RSNC', sum(d.amount)
            FROM decided AS d
            WHERE d.transaction_id IS NOT NULL
            GROUP BY d.discord_user_id
            ORDER BY d.discord_user_id
            ON CONFLICT (user_id, currency) DO UPDATE SET amount = b.amount + excluded.amount
        ),

        earned AS (
            SELECT d.discord_user_id, sum(d.amount) AS amount, count(*) AS n FROM decided AS d GROUP BY d.discord_user_id
        )

        SELECT
            (
                SELECT jsonb_agg(
                    CASE
                        WHEN e.value ->> 'status' <> 'pay' THEN e.value
                        WHEN EXISTS (
                            SELECT FROM decided AS d
                            WHERE d.event_type = e.value ->> 'event_type' AND d.source_id = e.value ->> 'source_id'
                        ) THEN (e.value - 'details' - 'source_id' - 'payee') || '{"status": "rewarded"}'::jsonb
                        ELSE (e.value - 'details' - 'source_id' - 'payee') || '{"status": "duplicate", "amount": 0}'::jsonb
                    END
                    ORDER BY e.ord
                )
                FROM jsonb_array_elements(v_results) WITH ORDINALITY AS e (value, ord)
            ),
            coalesce((SELECT jsonb_object_agg(er.discord_user_id, jsonb_build_array(er.amount, er.n)) FROM earned AS er), '{}'::jsonb),
            coalesce((SELECT sum(er.amount) FROM earned AS er), 0),
            coalesce((SELECT sum(er.n) FROM earned AS er), 0)
        INTO v_results, v_earned, v_total, v_paid;
    END IF;

    -- The members' stats and daily rollup, once each per event (counters, RSNC earned, rewards
    -- count, actions). Activity (last_active_at, daily actions) moves only for actions.
    IF jsonb_array_length(coalesce(p_members, '[]'::jsonb)) > 0 OR v_earned <> '{}'::jsonb THEN
        WITH m AS (
            SELECT
                coalesce(c.user_id, e.key) AS user_id,
                coalesce(c.messages, 0) AS messages,
                coalesce(c.voice_minutes, 0) AS voice_minutes,
                coalesce(c.reactions_given, 0) AS reactions_given,
                coalesce(c.reactions_received, 0) AS reactions_received,
                coalesce(c.checkins, 0) AS checkins,
                coalesce(c.drops_claimed, 0) AS drops_claimed,
                coalesce(c.actions, 0) AS actions,
                coalesce((e.value ->> 0)::numeric, 0) AS earned,
                coalesce((e.value ->> 1)::integer, 0) AS rewards
            FROM jsonb_to_recordset(coalesce(p_members, '[]'::jsonb)) AS c (
                user_id text, messages integer, voice_minutes integer, reactions_given integer, reactions_received integer,
                checkins integer, drops_claimed integer, actions integer
            )
            FULL JOIN jsonb_each(v_earned) AS e ON e.key = c.user_id
        ),

        stats AS (
            INSERT INTO public.discord_user_stats AS st (
                server_id, discord_user_id, messages_count, voice_minutes, reactions_count, reactions_received, rsnc_earned,
                first_seen_at, last_active_at
            )
            SELECT
                p_server_id, m.user_id, m.messages, m.voice_minutes, m.reactions_given, m.reactions_received, m.earned::bigint,
                p_at, CASE WHEN m.actions > 0 THEN p_at END
            FROM m
            ORDER BY m.user_id
            ON CONFLICT (server_id, discord_user_id) DO UPDATE
            SET messages_count = st.messages_count + excluded.messages_count,
                voice_minutes = st.voice_minutes + excluded.voice_minutes,
                reactions_count = st.reactions_count + excluded.reactions_count,
                reactions_received = st.reactions_received + excluded.reactions_received,
                rsnc_earned = st.rsnc_earned + excluded.rsnc_earned,
                first_seen_at = least(st.first_seen_at, excluded.first_seen_at),
                last_active_at = greatest(st.last_active_at, excluded.last_active_at)
        )

        INSERT INTO resonance.daily_activity AS da (
            server_id, activity_date, discord_user_id, messages_count, voice_minutes, reactions_given, reactions_received,
            checkins, drops_claimed, rewards_count, rsnc_earned, actions, first_event_at, last_event_at
        )
        SELECT
            p_server_id, (p_at AT TIME ZONE 'UTC')::date, m.user_id, m.messages, m.voice_minutes, m.reactions_given,
            m.reactions_received, m.checkins, m.drops_claimed, m.rewards, m.earned, m.actions, p_at, p_at
        FROM m
        ORDER BY m.user_id
        ON CONFLICT (server_id, activity_date, discord_user_id) DO UPDATE
        SET messages_count = da.messages_count + excluded.messages_count,
            voice_minutes = da.voice_minutes + excluded.voice_minutes,
            reactions_given = da.reactions_given + excluded.reactions_given,
            reactions_received = da.reactions_received + excluded.reactions_received,
            checkins = da.checkins + excluded.checkins,
            drops_claimed = da.drops_claimed + excluded.drops_claimed,
            rewards_count = da.rewards_count + excluded.rewards_count,
            rsnc_earned = da.rsnc_earned + excluded.rsnc_earned,
            actions = da.actions + excluded.actions,
            first_event_at = least(da.first_event_at, excluded.first_event_at),
            last_event_at = greatest(da.last_event_at, excluded.last_event_at);

        -- Achievements, goals and milestones follow the new counters: once per member and event.
        FOR v_member IN
            SELECT DISTINCT u.id
            FROM (
                SELECT c.value ->> 'user_id' AS id FROM jsonb_array_elements(coalesce(p_members, '[]'::jsonb)) AS c
                UNION ALL
                SELECT e.key FROM jsonb_each(v_earned) AS e
            ) AS u
            ORDER BY u.id
        LOOP
            PERFORM resonance.evaluate_progress(p_server_id, v_member, p_at);
            PERFORM resonance.evaluate_milestones(p_server_id, v_member, p_at);
        END LOOP;
    END IF;

    RETURN jsonb_build_object('rules', v_results, 'amount', v_total, 'paid', v_paid, 'earned', v_earned);
END;
$$;

COMMENT ON FUNCTION resonance.close_event(text, text, timestamptz, jsonb, jsonb, boolean) IS
'The closing of every event. p_results: the matcher''s per-rule results; those with status "pay" (from resonance.decide_rule: payee, event_type, source_id, rule_id, base, amount, details) are written in ONE statement: the decision (resonance.reward_ledger, idempotency key server + event type + source id) with its tipping.transactions row (type reward, key reward:<decision id>; none for a zero amount) and the member''s balance credit; each becomes rewarded, or duplicate (amount 0) when its key was decided before. p_members: [{user_id, messages, voice_minutes, reactions_given, reactions_received, checkins, drops_claimed, actions}]: with RSNC earned and rewards count, one upsert of discord_user_stats and one of resonance.daily_activity for all of them (last_active_at and daily actions move only for actions), then achievements/goals (evaluate_progress) and milestones once per member. Returns {"rules", "amount" (total paid), "paid" (rewards written), "earned" ({member: [amount, rewards]})}.';

REVOKE ALL ON FUNCTION resonance.close_event(text, text, timestamptz, jsonb, jsonb, boolean) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.close_event(text, text, timestamptz, jsonb, jsonb, boolean) TO service_role;


CREATE OR REPLACE FUNCTION resonance.apply_reward(
    p_server_id text,
    p_user_id text,
    p_event_type text,
    p_source_id text,
    p_amount numeric,
    p_occurred_at timestamptz DEFAULT NULL,
    p_rule_id uuid DEFAULT NULL,
    p_details jsonb DEFAULT '{}'::jsonb
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_occurred_at, now());
    v_brand_id text;
    v_amount numeric(20, 8) := round(coalesce(p_amount, 0), 0);
    v_closed jsonb;
    v_reward_id bigint;
    v_transaction_id uuid;
BEGIN
    SELECT s.brand_id INTO v_brand_id FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id;
    IF v_brand_id IS NULL THEN
        RAISE EXCEPTION 'unknown server %', p_server_id USING ERRCODE = 'RS001';
    END IF;
    IF v_amount < 0 THEN
        RAISE EXCEPTION 'reward amount must not be negative, got %', p_amount USING ERRCODE = 'RS003';
    END IF;

    v_closed := resonance.close_event(
        p_server_id, v_brand_id, v_at,
        jsonb_build_array(jsonb_build_object(
            'status', 'pay', 'payee', p_user_id, 'event_type', p_event_type, 'source_id', p_source_id,
            'rule_id', p_rule_id, 'base', coalesce(p_amount, 0), 'amount', v_amount, 'details', coalesce(p_details, '{}'::jsonb)
        )),
        '[]'::jsonb
    );
    IF v_closed -> 'rules' -> 0 ->> 'status' = 'duplicate' THEN
        RETURN jsonb_build_object('status', 'duplicate', 'amount', 0);
    END IF;
    SELECT l.id, l.transaction_id INTO v_reward_id, v_transaction_id
    FROM resonance.reward_ledger AS l
    WHERE l.server_id = p_server_id AND l.event_type = p_event_type AND l.source_id = p_source_id;
    RETURN jsonb_build_object(
        'status', 'rewarded', 'amount', v_amount, 'reward_id', v_reward_id, 'transaction_id', v_transaction_id
    );
END;
$$;

COMMENT ON FUNCTION resonance.apply_reward(text, text, text, text, numeric, timestamptz, uuid, jsonb) IS
'Pays one reward outside an event (achievements, one-time bonuses, drips, manual rewards, drop payouts) exactly once, through resonance.close_event: the decision and its tipping transaction in one statement, then stats (rsnc_earned; a reward is not an action, so last_active_at does not move), the daily rollup, achievements, goals and milestones. Idempotency key (server, event type, source id): a replay returns {"status":"duplicate"} and pays nothing. Rewards are whole RSNC (rounded half up). Returns {"status":"rewarded","amount","reward_id","transaction_id"}. Raises RS001 (unknown server), RS003 (negative amount).';

REVOKE ALL ON FUNCTION resonance.apply_reward(text, text, text, text, numeric, timestamptz, uuid, jsonb) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.apply_reward(text, text, text, text, numeric, timestamptz, uuid, jsonb) TO service_role;
