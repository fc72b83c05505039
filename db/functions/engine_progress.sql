-- Achievements and community goals follow the member's counters.

CREATE OR REPLACE FUNCTION resonance.evaluate_progress(p_server_id text, p_user_id text, p_at timestamptz)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_at, now());
    v_done record;
BEGIN
    -- Achievements: only this member's rows (no shared hot row); nothing to do without active achievements.
    IF EXISTS (SELECT FROM public.discord_achievements AS a WHERE a.server_id = p_server_id AND a.is_active) THEN
        INSERT INTO public.discord_user_achievements AS ua (server_id, discord_user_id, achievement_id, progress)
        SELECT p_server_id, p_user_id, a.achievement_id, least(v.value, a.threshold)::integer
        FROM public.discord_achievements AS a
        LEFT JOIN public.discord_user_stats AS st
            ON st.server_id = p_server_id AND st.discord_user_id = p_user_id
        LEFT JOIN public.discord_user_streaks AS sk
            ON sk.server_id = p_server_id AND sk.discord_user_id = p_user_id
        CROSS JOIN LATERAL (
            SELECT coalesce(CASE a.achievement_type
                WHEN 'message_count' THEN st.messages_count::bigint
                WHEN 'voice_hours' THEN (st.voice_minutes / 60)::bigint
                WHEN 'streak_days' THEN sk.longest_streak::bigint
                WHEN 'reactions_received' THEN st.reactions_received::bigint
                WHEN 'reactions_given' THEN st.reactions_count::bigint
                WHEN 'rsnc_earned' THEN st.rsnc_earned
            END, 0) AS value
        ) AS v
        WHERE a.server_id = p_server_id AND a.is_active
        ORDER BY a.achievement_id
        ON CONFLICT (server_id, discord_user_id, achievement_id) DO UPDATE
        SET progress = excluded.progress
        WHERE ua.completed_at IS NULL AND ua.progress IS DISTINCT FROM excluded.progress;

        -- completed_at is set once (a concurrent call re-checks it after the row lock), the reward paid once.
        FOR v_done IN
            UPDATE public.discord_user_achievements AS ua
            SET completed_at = v_at
            FROM public.discord_achievements AS a
            WHERE ua.server_id = p_server_id
                AND ua.discord_user_id = p_user_id
                AND ua.achievement_id = a.achievement_id
                AND a.is_active
                AND ua.completed_at IS NULL
                AND ua.progress >= a.threshold
            RETURNING ua.achievement_id, a.name, a.reward_amount
        LOOP
            IF coalesce(v_done.reward_amount, 0) > 0 THEN
                PERFORM resonance.apply_reward(
                    p_server_id, p_user_id, 'achievement', v_done.achievement_id::text || ':' || p_user_id,
                    v_done.reward_amount, v_at, NULL, jsonb_build_object('achievement', v_done.name)
                );
            END IF;
            UPDATE public.discord_user_achievements AS ua
            SET claimed_at = v_at
            WHERE ua.server_id = p_server_id AND ua.discord_user_id = p_user_id AND ua.achievement_id = v_done.achievement_id;
            PERFORM resonance.announce(
                p_server_id,
                jsonb_build_object(
                    'type', 'achievement_completed', 'user_id', p_user_id, 'achievement_id', v_done.achievement_id,
                    'name', v_done.name, 'reward_amount', v_done.reward_amount,
                    'content', format('<@%s> completed the achievement %s!', p_user_id, v_done.name)
                ),
                format('achievement_completed:%s:%s', v_done.achievement_id, p_user_id)
            );
        END LOOP;
    END IF;

    -- Community goals: whoever holds a goal row refreshes it; the others skip it (no queue on one hot row).
    -- The open-goal probe is repeated here so a server without goals skips the call (every reward comes here).
    IF EXISTS (SELECT FROM public.discord_community_goals AS g WHERE g.server_id = p_server_id AND g.completed_at IS NULL) THEN
        PERFORM resonance.refresh_goals(p_server_id, v_at, TRUE);
    END IF;
END;
$$;

COMMENT ON FUNCTION resonance.evaluate_progress(text, text, timestamptz) IS
'After a change to a member''s counters (called by apply_reward and by every event function that paid nothing): moves the member''s progress on every active achievement of the server (message_count, voice_hours = voice_minutes / 60, streak_days = longest_streak, reactions_received, reactions_given, rsnc_earned; capped at the threshold), sets completed_at once and pays reward_amount once through apply_reward (event achievement, source achievement:member), stamping claimed_at; then refreshes the server''s open community goals (refresh_goals with SKIP LOCKED and a per-goal throttle). Cheap: one EXISTS when the server has no achievements, one EXISTS when it has no open goals, and no recount more often than every few seconds per goal.';

REVOKE ALL ON FUNCTION resonance.evaluate_progress(text, text, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.evaluate_progress(text, text, timestamptz) TO service_role;


CREATE OR REPLACE FUNCTION resonance.goal_value(p_goal public.discord_community_goals, p_at timestamptz)
RETURNS numeric
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_value numeric;
BEGIN
    IF p_goal.goal_type = 'users' THEN
        SELECT count(*) INTO v_value FROM public.discord_user_stats AS st
        WHERE st.server_id = p_goal.server_id AND st.first_seen_at >= coalesce(p_goal.starts_at, p_goal.created_at, '-infinity');
    ELSIF p_goal.goal_type = 'dau' THEN
        SELECT count(*) INTO v_value FROM resonance.daily_activity AS da
        WHERE da.server_id = p_goal.server_id AND da.activity_date = (p_at AT TIME ZONE 'UTC')::date AND da.actions > 0;
    ELSIF p_goal.goal_type = 'rsnc_distributed' THEN
        SELECT coalesce(sum(l.amount), 0) INTO v_value FROM resonance.reward_ledger AS l
        WHERE l.server_id = p_goal.server_id AND l.occurred_at >= coalesce(p_goal.starts_at, p_goal.created_at, '-infinity');
    ELSIF p_goal.goal_type = 'custom' AND p_goal.custom_function IS NOT NULL
        AND to_regprocedure(p_goal.custom_function || '(text)') IS NOT NULL THEN
        -- The name is constrained to resonance.goal_[a-z0-9_]+ by a CHECK: no injection possible.
        EXECUTE format('SELECT %s($1)::numeric', to_regprocedure(p_goal.custom_function || '(text)')::regproc)
        INTO v_value USING p_goal.server_id;
    END IF;
    RETURN v_value;
END;
$$;

COMMENT ON FUNCTION resonance.goal_value(public.discord_community_goals, timestamptz) IS
'The current value of a community goal, counted from its starts_at (default its creation): users = members first seen in the server since; dau = members who took an action on the UTC day of p_at (rewards alone are not activity); rsnc_distributed = RSNC rewarded in the server since (reward decisions); custom = custom_function(server_id) (a resonance.goal_* function); NULL when it cannot be computed.';

REVOKE ALL ON FUNCTION resonance.goal_value(public.discord_community_goals, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.goal_value(public.discord_community_goals, timestamptz) TO service_role;


CREATE OR REPLACE FUNCTION resonance.refresh_goals(p_server_id text, p_at timestamptz DEFAULT NULL, p_skip_locked boolean DEFAULT FALSE)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_at timestamptz := coalesce(p_at, now());
    v_day date := (coalesce(p_at, now()) AT TIME ZONE 'UTC')::date;
    v_throttle interval;
    v_goal public.discord_community_goals;
    v_completed integer := 0;
BEGIN
    IF p_skip_locked THEN
        -- The reward path: a goal refreshed a moment ago, or being refreshed by another transaction, is skipped.
        IF NOT EXISTS (
            SELECT FROM public.discord_community_goals AS g WHERE g.server_id = p_server_id AND g.completed_at IS NULL
        ) THEN
            RETURN 0;
        END IF;
        SELECT make_interval(secs => coalesce((s.config_metadata -> 'goals' ->> 'refresh_seconds')::numeric, 5))
        INTO v_throttle
        FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id;
        FOR v_goal IN
            SELECT g.*
            FROM public.discord_community_goals AS g
            WHERE g.server_id = p_server_id
                AND g.completed_at IS NULL
                AND g.failed_at IS NULL
                AND (g.deadline IS NULL OR g.deadline >= v_day)
                AND (g.refreshed_at IS NULL OR g.refreshed_at <= clock_timestamp() - v_throttle)
            ORDER BY g.goal_id
            FOR UPDATE SKIP LOCKED
        LOOP
            v_completed := v_completed + resonance.store_goal_value(v_goal, v_at);
        END LOOP;
        RETURN v_completed;
    END IF;

    -- A goal past its deadline without reaching its target is closed as failed, once.
    UPDATE public.discord_community_goals AS g
    SET failed_at = v_at
    WHERE g.server_id = p_server_id AND g.completed_at IS NULL AND g.failed_at IS NULL AND g.deadline < v_day;

    FOR v_goal IN
        SELECT g.*
        FROM public.discord_community_goals AS g
        WHERE g.server_id = p_server_id
            AND g.completed_at IS NULL
            AND g.failed_at IS NULL
            AND (g.deadline IS NULL OR g.deadline >= v_day)
        ORDER BY g.goal_id
        FOR UPDATE
    LOOP
        v_completed := v_completed + resonance.store_goal_value(v_goal, v_at);
    END LOOP;
    RETURN v_completed;
END;
$$;

COMMENT ON FUNCTION resonance.refresh_goals(text, timestamptz, boolean) IS
'Recomputes current_value of the server''s open community goals (not completed, not failed, deadline not passed) and sets completed_at once when it reaches target_value (and queues the announcement, resonance.announce); without p_skip_locked it first closes as failed (failed_at) every open goal whose deadline passed. Rows are locked in goal id order. With p_skip_locked (the per-reward path, from evaluate_progress) a goal another transaction holds is skipped rather than waited for, and a goal refreshed less than config_metadata.goals.refresh_seconds (default 5, wall clock) ago is left alone, so rewards never queue on a goal row and large servers do not recount per reward; resonance.refresh_all_goals (every minute) and any call without p_skip_locked catch up. Returns the number of goals completed by this call.';

REVOKE ALL ON FUNCTION resonance.refresh_goals(text, timestamptz, boolean) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.refresh_goals(text, timestamptz, boolean) TO service_role;


CREATE OR REPLACE FUNCTION resonance.store_goal_value(p_goal public.discord_community_goals, p_at timestamptz)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_value numeric := resonance.goal_value(p_goal, p_at);
BEGIN
    IF v_value IS NULL THEN
        RETURN 0;
    END IF;
    UPDATE public.discord_community_goals AS g
    SET current_value = v_value,
        refreshed_at = clock_timestamp(),
        completed_at = CASE WHEN v_value >= g.target_value THEN p_at END
    WHERE g.goal_id = p_goal.goal_id AND g.completed_at IS NULL AND g.failed_at IS NULL;
    IF FOUND AND v_value >= p_goal.target_value THEN
        PERFORM resonance.announce(
            p_goal.server_id,
            jsonb_build_object(
                'type', 'goal_completed', 'goal_id', p_goal.goal_id, 'name', p_goal.name, 'goal_type', p_goal.goal_type,
                'target_value', p_goal.target_value, 'current_value', v_value,
                'content', format('Community goal reached: %s (%s of %s)!', p_goal.name, v_value, p_goal.target_value)
            ),
            format('goal_completed:%s', p_goal.goal_id)
        );
        RETURN 1;
    END IF;
    RETURN 0;
END;
$$;

COMMENT ON FUNCTION resonance.store_goal_value(public.discord_community_goals, timestamptz) IS
'Internal (the caller holds the goal row lock): stores a goal''s recomputed value and refresh time, and completes it once (WHERE completed_at IS NULL). Returns 1 when this call completed it.';

REVOKE ALL ON FUNCTION resonance.store_goal_value(public.discord_community_goals, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.store_goal_value(public.discord_community_goals, timestamptz) TO service_role;


CREATE OR REPLACE FUNCTION resonance.refresh_all_goals(p_at timestamptz DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_server_id text;
    v_completed integer := 0;
BEGIN
    FOR v_server_id IN
        SELECT DISTINCT g.server_id FROM public.discord_community_goals AS g WHERE g.completed_at IS NULL ORDER BY g.server_id
    LOOP
        -- Job isolation (db/functions/job_isolation.sql): one server's failure is logged, not fatal.
        BEGIN
            v_completed := v_completed + resonance.refresh_goals(v_server_id, p_at, FALSE);
            PERFORM resonance.job_succeeded('refresh_goals', v_server_id);
        EXCEPTION WHEN OTHERS THEN
            PERFORM resonance.job_failed('refresh_goals', v_server_id, coalesce(p_at, now()), SQLSTATE, SQLERRM);
        END;
    END LOOP;
    RETURN v_completed;
END;
$$;

COMMENT ON FUNCTION resonance.refresh_all_goals(timestamptz) IS
'Job (every minute, db/jobs/30_engine_goals.sql): refresh_goals for every server with open goals, waiting for locks, each server in its own subtransaction (a failure is logged in public.discord_job_errors, job refresh_goals, and the other servers go on). Returns goals completed.';

REVOKE ALL ON FUNCTION resonance.refresh_all_goals(timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.refresh_all_goals(timestamptz) TO service_role;


CREATE OR REPLACE FUNCTION resonance.announce(p_server_id text, p_payload jsonb, p_dedup_key text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_channel text;
BEGIN
    SELECT coalesce(
        s.config_metadata -> 'announcements' ->> 'channel_id',
        s.config_metadata ->> 'announcement_channel_id',
        s.config_metadata ->> 'system_channel_id'
    )
    INTO v_channel
    FROM public.discord_server_configs AS s WHERE s.server_id = p_server_id;
    IF v_channel IS NULL THEN
        RETURN FALSE;
    END IF;
    PERFORM resonance.enqueue_outbox(p_server_id, 'send_message', p_payload || jsonb_build_object('channel_id', v_channel), p_dedup_key);
    RETURN TRUE;
END;
$$;

COMMENT ON FUNCTION resonance.announce(text, jsonb, text) IS
'Queues an announcement (outbox send_message, deduplicated by p_dedup_key) in the server''s announcement channel: config_metadata.announcements.channel_id, else config_metadata.announcement_channel_id, else config_metadata.system_channel_id. Returns false (nothing queued) when the server configures none. Used for completed achievements and community goals.';

REVOKE ALL ON FUNCTION resonance.announce(text, jsonb, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.announce(text, jsonb, text) TO service_role;
