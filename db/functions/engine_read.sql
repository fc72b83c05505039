-- Read functions for the bot: leaderboard, member stats, achievements, goals, audit; and retention.

CREATE OR REPLACE FUNCTION resonance.leaderboard(
    p_server_id text,
    p_period text DEFAULT 'all',
    p_limit integer DEFAULT 10,
    p_at timestamptz DEFAULT NULL
)
RETURNS TABLE (
    rank bigint,
    discord_user_id text,
    rsnc_earned numeric,
    messages_count bigint,
    voice_minutes bigint,
    reactions_received bigint
)
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_day date := (coalesce(p_at, now()) AT TIME ZONE 'UTC')::date;
    v_from date;
BEGIN
    PERFORM resonance.server_brand(p_server_id);
    IF p_period IS NULL OR p_period NOT IN ('day', 'week', 'month', 'all') THEN
        RAISE EXCEPTION 'period must be day, week, month or all, got %', p_period USING ERRCODE = 'RS303';
    END IF;
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 100 THEN
        RAISE EXCEPTION 'limit must be between 1 and 100, got %', p_limit USING ERRCODE = 'RS304';
    END IF;

    IF p_period = 'all' THEN
        RETURN QUERY
        SELECT
            rank() OVER (ORDER BY st.rsnc_earned DESC),
            st.discord_user_id,
            st.rsnc_earned::numeric,
            st.messages_count::bigint,
            st.voice_minutes::bigint,
            st.reactions_received::bigint
        FROM public.discord_user_stats AS st
        WHERE st.server_id = p_server_id AND st.rsnc_earned > 0
        ORDER BY st.rsnc_earned DESC, st.discord_user_id
        LIMIT p_limit;
        RETURN;
    END IF;

    v_from := CASE p_period
        WHEN 'day' THEN v_day
        WHEN 'week' THEN date_trunc('week', v_day)::date
        ELSE date_trunc('month', v_day)::date
    END;
    RETURN QUERY
    SELECT
        rank() OVER (ORDER BY t.rsnc DESC),
        t.discord_user_id,
        t.rsnc,
        t.messages,
        t.voice,
        t.received
    FROM (
        SELECT
            da.discord_user_id,
            sum(da.rsnc_earned) AS rsnc,
            sum(da.messages_count)::bigint AS messages,
            sum(da.voice_minutes)::bigint AS voice,
            sum(da.reactions_received)::bigint AS received
        FROM resonance.daily_activity AS da
        WHERE da.server_id = p_server_id AND da.activity_date BETWEEN v_from AND v_day
        GROUP BY da.discord_user_id
        HAVING sum(da.rsnc_earned) > 0
    ) AS t
    ORDER BY t.rsnc DESC, t.discord_user_id
    LIMIT p_limit;
END;
$$;

COMMENT ON FUNCTION resonance.leaderboard(text, text, integer, timestamptz) IS
'Top members by RSNC earned: period all (discord_user_stats) or the calendar day, ISO week (from Monday) or month containing p_at (default now, UTC), summed from resonance.daily_activity. Ties share a rank; members who earned nothing are left out. Raises RS001 (unknown server), RS303 (period not day|week|month|all), RS304 (limit not within 1..100).';

REVOKE ALL ON FUNCTION resonance.leaderboard(text, text, integer, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.leaderboard(text, text, integer, timestamptz) TO service_role;


CREATE OR REPLACE FUNCTION resonance.streak_as_of(p_current_streak integer, p_last_checkin timestamptz, p_at timestamptz)
RETURNS integer
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
BEGIN
    -- Alive while the last check-in is today or yesterday (UTC); 0 once a UTC day was missed.
    RETURN CASE
        WHEN p_last_checkin IS NOT NULL
            AND (p_last_checkin AT TIME ZONE 'UTC')::date >= (p_at AT TIME ZONE 'UTC')::date - 1
            THEN coalesce(p_current_streak, 0)
        ELSE 0
    END;
END;
$$;

COMMENT ON FUNCTION resonance.streak_as_of(integer, timestamptz, timestamptz) IS
'The streak as a member sees it at p_at: the stored current_streak while the last check-in is on p_at''s UTC day or the day before, else 0 (a UTC day was missed). discord_user_streaks keeps the stored value; stats, milestones and reports show this one.';

REVOKE ALL ON FUNCTION resonance.streak_as_of(integer, timestamptz, timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.streak_as_of(integer, timestamptz, timestamptz) TO service_role;


CREATE OR REPLACE FUNCTION resonance.member_stats(p_server_id text, p_user_id text)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_stats public.discord_user_stats;
    v_streak public.discord_user_streaks;
    v_result jsonb;
BEGIN
    PERFORM resonance.server_brand(p_server_id);
    PERFORM resonance.require_text('p_user_id', p_user_id);
    SELECT st.* INTO v_stats FROM public.discord_user_stats AS st
    WHERE st.server_id = p_server_id AND st.discord_user_id = p_user_id;
    SELECT sk.* INTO v_streak FROM public.discord_user_streaks AS sk
    WHERE sk.server_id = p_server_id AND sk.discord_user_id = p_user_id;

    v_result := jsonb_build_object(
        'server_id', p_server_id,
        'user_id', p_user_id,
        'known', v_stats.discord_user_id IS NOT NULL,
        'messages_count', coalesce(v_stats.messages_count, 0),
        'voice_minutes', coalesce(v_stats.voice_minutes, 0),
        'reactions_given', coalesce(v_stats.reactions_count, 0),
        'reactions_count', coalesce(v_stats.reactions_count, 0),
        'reactions_received', coalesce(v_stats.reactions_received, 0),
        'rsnc_earned', coalesce(v_stats.rsnc_earned, 0),
        'first_seen_at', v_stats.first_seen_at,
        'last_active_at', v_stats.last_active_at,
        'current_streak', resonance.streak_as_of(v_streak.current_streak, v_streak.last_checkin, now()),
        'stored_streak', coalesce(v_streak.current_streak, 0),
        'longest_streak', coalesce(v_streak.longest_streak, 0),
        'last_checkin', v_streak.last_checkin,
        'balance', coalesce((
            SELECT b.amount FROM tipping.balances AS b WHERE b.user_id = p_user_id AND b.currency = 'RSNC'
        ), 0),
        'rank', CASE WHEN coalesce(v_stats.rsnc_earned, 0) > 0 THEN 1 + (
            SELECT count(*) FROM public.discord_user_stats AS o
            WHERE o.server_id = p_server_id AND o.rsnc_earned > v_stats.rsnc_earned
        ) END,
        'achievements_completed', (
            SELECT count(*) FROM public.discord_user_achievements AS ua
            WHERE ua.server_id = p_server_id AND ua.discord_user_id = p_user_id AND ua.completed_at IS NOT NULL
        )
    );
    RETURN v_result;
END;
$$;

COMMENT ON FUNCTION resonance.member_stats(text, text) IS
'A member''s card: counters (messages_count, voice_minutes, reactions_given = reactions_count, reactions_received, rsnc_earned), first seen / last active, streaks (current_streak as of today: 0 once a UTC day was missed; stored_streak the stored value), RSNC balance (the ledger''s, across servers), all-time rank (NULL before earning) and achievements completed; zeros and "known": false for a member never seen. Raises RS001, RS301.';

REVOKE ALL ON FUNCTION resonance.member_stats(text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.member_stats(text, text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.list_achievements(p_server_id text, p_user_id text)
RETURNS TABLE (
    achievement_id uuid,
    name text,
    description text,
    achievement_type text,
    threshold integer,
    reward_amount numeric,
    progress integer,
    completed_at timestamptz,
    claimed_at timestamptz
)
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    PERFORM resonance.server_brand(p_server_id);
    RETURN QUERY
    SELECT
        a.achievement_id, a.name, a.description, a.achievement_type, a.threshold, a.reward_amount,
        coalesce(ua.progress, 0), ua.completed_at, ua.claimed_at
    FROM public.discord_achievements AS a
    LEFT JOIN public.discord_user_achievements AS ua
        ON ua.achievement_id = a.achievement_id AND ua.server_id = p_server_id AND ua.discord_user_id = p_user_id
    WHERE a.server_id = p_server_id AND (a.is_active OR ua.completed_at IS NOT NULL)
    ORDER BY ua.completed_at IS NULL, a.achievement_type, a.threshold, a.name;
END;
$$;

COMMENT ON FUNCTION resonance.list_achievements(text, text) IS
'The server''s active achievements (and inactive ones the member completed) with the member''s progress, completed_at and claimed_at; completed first. Raises RS001.';

REVOKE ALL ON FUNCTION resonance.list_achievements(text, text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.list_achievements(text, text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.list_goals(p_server_id text)
RETURNS TABLE (
    goal_id uuid,
    name text,
    goal_type text,
    target_value numeric,
    current_value numeric,
    percent numeric,
    deadline date,
    completed_at timestamptz,
    status text,
    starts_at timestamptz,
    failed_at timestamptz
)
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_today date := (now() AT TIME ZONE 'UTC')::date;
BEGIN
    PERFORM resonance.server_brand(p_server_id);
    RETURN QUERY
    SELECT
        g.goal_id, g.name, g.goal_type, g.target_value, coalesce(g.current_value, 0),
        least(100, round(100 * coalesce(g.current_value, 0) / g.target_value, 1)),
        g.deadline, g.completed_at,
        CASE
            WHEN g.completed_at IS NOT NULL THEN 'completed'
            WHEN g.failed_at IS NOT NULL OR g.deadline < v_today THEN 'failed'
            ELSE 'open'
        END,
        g.starts_at,
        g.failed_at
    FROM public.discord_community_goals AS g
    WHERE g.server_id = p_server_id
    ORDER BY
        CASE WHEN g.completed_at IS NOT NULL THEN 1 WHEN g.failed_at IS NOT NULL OR g.deadline < v_today THEN 2 ELSE 0 END,
        g.deadline NULLS LAST, g.created_at;
END;
$$;

COMMENT ON FUNCTION resonance.list_goals(text) IS
'The server''s community goals with current value and percent of target (capped at 100) and status open, completed or failed (deadline passed without reaching the target; failed_at once the job closed it); open goals first, then completed, then failed. Goals count from starts_at. Values are as last refreshed (every reward refreshes them; resonance.refresh_goals forces it). Raises RS001.';

REVOKE ALL ON FUNCTION resonance.list_goals(text) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.list_goals(text) TO service_role;


CREATE OR REPLACE FUNCTION resonance.recent_audit(p_server_id text, p_limit integer DEFAULT 20)
RETURNS TABLE (
    id bigint,
    created_at timestamptz,
    actor_type text,
    actor_id text,
    action text,
    target_user_id text,
    details jsonb,
    before_state jsonb,
    after_state jsonb
)
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_brand_id text := resonance.server_brand(p_server_id);
BEGIN
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 100 THEN
        RAISE EXCEPTION 'limit must be between 1 and 100, got %', p_limit USING ERRCODE = 'RS304';
    END IF;
    RETURN QUERY
    SELECT l.id, l.created_at, l.actor_type, l.actor_id, l.action, l.target_user_id, l.details, l.before_state, l.after_state
    FROM public.discord_audit_log AS l
    WHERE l.server_id IN (p_server_id, 'brand:' || v_brand_id)
    ORDER BY l.created_at DESC, l.id DESC
    LIMIT p_limit;
END;
$$;

COMMENT ON FUNCTION resonance.recent_audit(text, integer) IS
'The latest audit rows of a server (and of its brand-wide rules), newest first. Raises RS001, RS304 (limit not within 1..100).';

REVOKE ALL ON FUNCTION resonance.recent_audit(text, integer) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.recent_audit(text, integer) TO service_role;


CREATE OR REPLACE FUNCTION resonance.prune_message_window(p_before timestamptz)
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_deleted integer;
BEGIN
    IF p_before IS NULL THEN
        RAISE EXCEPTION 'p_before is required' USING ERRCODE = 'RS301';
    END IF;
    DELETE FROM resonance.message_window AS mw WHERE mw.occurred_at < p_before;
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    RETURN v_deleted;
END;
$$;

COMMENT ON FUNCTION resonance.prune_message_window(timestamptz) IS
'Retention for the anti-farming window: deletes message texts older than p_before (keep at least the largest anti_farming.window_minutes). Event dedup rows are kept: they are what makes replays harmless. Returns rows deleted. Raises RS301 for a NULL p_before.';

REVOKE ALL ON FUNCTION resonance.prune_message_window(timestamptz) FROM public, anon, authenticated;
GRANT EXECUTE ON FUNCTION resonance.prune_message_window(timestamptz) TO service_role;
