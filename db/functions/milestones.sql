-- Milestones (and the threshold roles): after every change to a member's stats, in the caller's
-- transaction, every active milestone / activity_threshold / balance_threshold role of the server is
-- checked against the member's counters. Crossing one records the assignment once (unique_user_role),
-- queues an outbox add_role, and pays the milestone's one-time bonus once (resonance.pay_role_bonus).

CREATE OR REPLACE FUNCTION resonance.milestone_criterion_types()
RETURNS text []
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
    SELECT ARRAY[
        'messages_count', 'voice_minutes', 'reactions_count', 'reactions_received', 'rsnc_earned',
        'current_streak', 'longest_streak'
    ]::text []
$$;

COMMENT ON FUNCTION resonance.milestone_criterion_types() IS
'The criterion types a milestone or activity_threshold role may use: the discord_user_stats counters and the discord_user_streaks columns.';

REVOKE ALL ON FUNCTION resonance.milestone_criterion_types() FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.milestone_criterion_types() TO service_role;

CREATE OR REPLACE FUNCTION resonance.check_milestone_criteria(p_criteria jsonb)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
DECLARE
    v_item jsonb;
BEGIN
    IF p_criteria IS NULL OR jsonb_typeof(p_criteria) <> 'array' OR jsonb_array_length(p_criteria) = 0 THEN
        RAISE EXCEPTION 'criteria must be a non-empty JSON array, got %', p_criteria USING ERRCODE = 'RS405';
    END IF;
    FOR v_item IN SELECT value FROM jsonb_array_elements(p_criteria) LOOP
        IF jsonb_typeof(v_item) <> 'object'
            OR NOT (coalesce(v_item ->> 'type', '') = ANY(resonance.milestone_criterion_types()))
            OR jsonb_typeof(v_item -> 'threshold') <> 'number'
            OR (v_item ->> 'threshold')::numeric <= 0
            OR (v_item ->> 'threshold')::numeric <> round((v_item ->> 'threshold')::numeric, 0) THEN
            RAISE EXCEPTION 'bad criterion %: type must be one of % and threshold a positive whole number',
                v_item, resonance.milestone_criterion_types() USING ERRCODE = 'RS405';
        END IF;
    END LOOP;
    RETURN p_criteria;
END;
$$;

COMMENT ON FUNCTION resonance.check_milestone_criteria(jsonb) IS
'Validates criteria [{"type":"rsnc_earned","threshold":5000}, ...] and returns them. Raises RS405.';

REVOKE ALL ON FUNCTION resonance.check_milestone_criteria(jsonb) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.check_milestone_criteria(jsonb) TO service_role;

CREATE OR REPLACE FUNCTION resonance.create_milestone(
    p_server_id text,
    p_role_id text,
    p_name text,
    p_criteria jsonb,
    p_bonus_amount integer DEFAULT 0,
    p_description text DEFAULT NULL,
    p_role_name text DEFAULT NULL,
    p_priority integer DEFAULT 0,
    p_actor_id text DEFAULT NULL,
    p_is_test boolean DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_brand_id text;
    v_id uuid;
BEGIN
    -- The audit rows name the acting admin (the bot passes the admin's Discord id).
    IF p_actor_id IS NOT NULL THEN
        PERFORM resonance.set_actor('admin', p_actor_id, p_is_test);
    END IF;
    SELECT s.brand_id INTO v_brand_id FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id;
    IF v_brand_id IS NULL THEN
        RAISE EXCEPTION 'unknown server %', p_server_id USING ERRCODE = 'RS001';
    END IF;
    IF p_role_id IS NULL OR p_role_id = '' OR p_name IS NULL OR p_name = '' THEN
        RAISE EXCEPTION 'a milestone needs a role id and a name' USING ERRCODE = 'RS404';
    END IF;
    PERFORM resonance.check_milestone_criteria(p_criteria);
    IF p_bonus_amount IS NULL OR p_bonus_amount < 0 THEN
        RAISE EXCEPTION 'bonus must be a non-negative whole amount, got %', p_bonus_amount USING ERRCODE = 'RS409';
    END IF;

    -- One upsert on unique_server_role: it takes over an existing (even inactive, RLS-invisible) row.
    INSERT INTO public.discord_role_configs AS rc (
        server_id, brand_id, discord_role_id, discord_role_name, effect_type, effect_config,
        assignment_type, assignment_config, priority, is_active
    )
    VALUES (
        p_server_id, v_brand_id, p_role_id, p_role_name, 'one_time_bonus', jsonb_build_object('amount', p_bonus_amount),
        'milestone',
        jsonb_strip_nulls(jsonb_build_object('name', p_name, 'description', p_description, 'criteria', p_criteria)),
        coalesce(p_priority, 0), TRUE
    )
    ON CONFLICT ON CONSTRAINT unique_server_role DO UPDATE
    SET brand_id = excluded.brand_id,
        discord_role_name = coalesce(excluded.discord_role_name, rc.discord_role_name),
        effect_type = excluded.effect_type,
        effect_config = excluded.effect_config,
        assignment_type = excluded.assignment_type,
        assignment_config = excluded.assignment_config,
        priority = excluded.priority,
        is_active = TRUE
    RETURNING rc.id INTO v_id;

    RETURN jsonb_build_object(
        'status', 'saved', 'id', v_id, 'role_id', p_role_id, 'name', p_name,
        'criteria', p_criteria, 'bonus_amount', p_bonus_amount
    );
END;
$$;

COMMENT ON FUNCTION resonance.create_milestone(text, text, text, jsonb, integer, text, text, integer, text, boolean) IS
'Creates or replaces a milestone role: a discord_role_configs row (effect one_time_bonus {"amount":bonus}, assignment_type milestone, assignment_config {"name","description","criteria"}). All criteria must hold (types: messages_count, voice_minutes, reactions_count, reactions_received, rsnc_earned, current_streak, longest_streak). Upserts on (server_id, discord_role_id), so an existing inactive row is taken over and re-activated. {"status":"saved","id",...}. Raises RS001 (unknown server), RS404 (no role id or name), RS405 (bad criteria), RS409 (negative bonus).';

REVOKE ALL ON FUNCTION resonance.create_milestone(text, text, text, jsonb, integer, text, text, integer, text, boolean) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.create_milestone(text, text, text, jsonb, integer, text, text, integer, text, boolean) TO service_role;

CREATE OR REPLACE FUNCTION resonance.evaluate_milestones(p_server_id text, p_user_id text, p_at timestamptz)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_at, now());
    v_config record;
    v_values jsonb;
    v_balance numeric;
    v_met boolean;
    v_row public.discord_role_assignments;
    v_amount integer;
BEGIN
    -- The common case: no milestone or threshold role on this server. One probe of a partial index.
    IF NOT EXISTS (
        SELECT FROM public.discord_role_configs AS rc
        WHERE rc.server_id = p_server_id
            AND rc.is_active
            AND rc.assignment_type IN ('milestone', 'balance_threshold', 'activity_threshold')
    ) THEN
        RETURN;
    END IF;

    SELECT jsonb_build_object(
        'messages_count', coalesce(st.messages_count, 0),
        'voice_minutes', coalesce(st.voice_minutes, 0),
        'reactions_count', coalesce(st.reactions_count, 0),
        'reactions_received', coalesce(st.reactions_received, 0),
        'rsnc_earned', coalesce(st.rsnc_earned, 0),
        'current_streak', resonance.streak_as_of(sk.current_streak, sk.last_checkin, v_at),
        'longest_streak', coalesce(sk.longest_streak, 0)
    )
    INTO v_values
    FROM (SELECT 1) AS one
    LEFT JOIN public.discord_user_stats AS st ON st.server_id = p_server_id AND st.discord_user_id = p_user_id
    LEFT JOIN public.discord_user_streaks AS sk ON sk.server_id = p_server_id AND sk.discord_user_id = p_user_id;

    FOR v_config IN
        SELECT rc.id, rc.discord_role_id, rc.assignment_type, rc.assignment_config, rc.effect_type, rc.effect_config
        FROM public.discord_role_configs AS rc
        WHERE rc.server_id = p_server_id
            AND rc.is_active
            AND rc.assignment_type IN ('milestone', 'balance_threshold', 'activity_threshold')
        ORDER BY rc.priority DESC, rc.discord_role_id
    LOOP
        IF v_config.assignment_type = 'balance_threshold' THEN
            IF v_balance IS NULL THEN
                SELECT coalesce(max(b.amount), 0) INTO v_balance
                FROM tipping.balances AS b
                WHERE b.user_id = p_user_id AND b.currency = 'RSNC';
            END IF;
            v_met := v_balance >= coalesce((v_config.assignment_config ->> 'threshold')::numeric, 'Infinity'::numeric);
        ELSE
            -- Every criterion must hold; malformed criteria never match.
            SELECT coalesce(bool_and(
                coalesce((v_values ->> (c.value ->> 'type'))::numeric, -1) >= (c.value ->> 'threshold')::numeric
            ), FALSE)
            INTO v_met
            FROM jsonb_array_elements(
                CASE WHEN jsonb_typeof(v_config.assignment_config -> 'criteria') = 'array'
                    THEN v_config.assignment_config -> 'criteria' ELSE '[]'::jsonb END
            ) AS c;
        END IF;

        IF v_met THEN
            -- Held already? Then nothing to do (a read, so the usual case writes nothing).
            CONTINUE WHEN EXISTS (
                SELECT FROM public.discord_role_assignments AS a
                WHERE a.server_id = p_server_id
                    AND a.discord_user_id = p_user_id
                    AND a.discord_role_id = v_config.discord_role_id
                    AND (a.removed_at IS NULL OR v_config.assignment_type = 'milestone')
            );
            v_row := resonance.grant_role(
                p_server_id, p_user_id, v_config.discord_role_id,
                CASE v_config.assignment_type
                    WHEN 'milestone' THEN 'auto:milestone'
                    WHEN 'balance_threshold' THEN 'auto:balance'
                    ELSE 'auto:activity'
                END,
                v_at, TRUE, 0, v_config.assignment_type <> 'milestone'
            );
            IF v_row.id IS NOT NULL AND v_config.assignment_type = 'milestone' THEN
                v_amount := resonance.role_bonus_amount(v_config.effect_type, v_config.effect_config, v_config.assignment_config);
                IF v_amount > 0 THEN
                    -- May re-enter evaluate_milestones through apply_reward: the role is already recorded.
                    PERFORM resonance.pay_role_bonus(v_row.id, v_amount, v_at);
                END IF;
                PERFORM resonance.enqueue_outbox(
                    p_server_id, 'send_message',
                    jsonb_build_object(
                        'type', 'milestone_reached', 'user_id', p_user_id, 'role_id', v_config.discord_role_id,
                        'name', v_config.assignment_config ->> 'name', 'bonus_amount', v_amount
                    ),
                    format('milestone_reached:%s', v_row.id)
                );
            END IF;
        ELSIF v_config.assignment_type = 'balance_threshold' THEN
            -- Balance roles follow the balance: taken back when it is below the threshold.
            PERFORM resonance.revoke_role(p_server_id, p_user_id, v_config.discord_role_id, 'auto:balance', v_at, TRUE);
        END IF;
    END LOOP;
END;
$$;

COMMENT ON FUNCTION resonance.evaluate_milestones(text, text, timestamptz) IS
'After a change to a member''s stats (apply_reward calls it; so does purchase_role), in the caller''s transaction: for each active milestone / activity_threshold / balance_threshold role of the server, in priority order. milestone: all criteria met and never assigned -> assignment (auto:milestone), one-time bonus paid once, outbox add_role + send_message milestone_reached; never assigned twice, even after removal. activity_threshold: criteria met and not held -> assignment (auto:activity) + add_role; never removed automatically. balance_threshold: RSNC balance >= assignment_config.threshold and not held -> assignment (auto:balance) + add_role; below it and held -> removed (removed_by auto:balance) + remove_role. A server without such roles costs one index probe.';

REVOKE ALL ON FUNCTION resonance.evaluate_milestones(text, text, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.evaluate_milestones(text, text, timestamptz) TO service_role;
